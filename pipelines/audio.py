"""Audio helpers of the pipeline: quiet-line check, float samples, WAV I/O (numpy only, no audioop).

G.711 μ-law and resampling live below, in :mod:`telephony.audio_codec`."""

from __future__ import annotations

import io
import wave

import numpy as np

QUIET_RMS = 60.0  # 16-bit RMS below this is a quiet line (no speech, at most faint line noise)


def is_quiet(pcm: bytes) -> bool:
    """Is this 16-bit PCM a quiet line?"""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    return not samples.size or float(samples.dot(samples)) < QUIET_RMS**2 * samples.size


def pcm16_to_float(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0


def read_wav(path: str) -> tuple[bytes, int]:
    """Mono 16-bit PCM and its sample rate (stereo is mixed down, 8-bit/32-bit converted)."""
    with wave.open(path, "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif width == 4:
        samples = (np.frombuffer(raw, dtype=np.int32) >> 16).astype(np.int16)
    else:
        samples = np.frombuffer(raw, dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples.tobytes(), rate


def wav_bytes(pcm: bytes, rate: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()
