"""Audio helpers: G.711 μ-law <-> 16-bit PCM, resampling, WAV I/O. numpy only, no audioop."""

from __future__ import annotations

import io
import wave

import numpy as np
import soxr

_BIAS = 0x84
_CLIP = 32635


def _build_decode_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.int16)
    for i in range(256):
        u = ~i & 0xFF
        sign = u & 0x80
        exponent = (u >> 4) & 0x07
        mantissa = u & 0x0F
        sample = ((mantissa << 3) + _BIAS) << exponent
        sample -= _BIAS
        table[i] = -sample if sign else sample
    return table


_DECODE = _build_decode_table()


def _build_encode_table() -> np.ndarray:
    """μ-law code for every 16-bit sample value (64 K entries: encoding becomes one lookup)."""
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


_ENCODE = _build_encode_table()


QUIET_RMS = 60.0  # 16-bit RMS below this is a quiet line (no speech, at most faint line noise)


def is_quiet(pcm: bytes) -> bool:
    """Is this 16-bit PCM a quiet line?"""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    return not samples.size or float(samples.dot(samples)) < QUIET_RMS**2 * samples.size


def ulaw_to_pcm16(data: bytes) -> bytes:
    return _DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()


def pcm16_to_ulaw(data: bytes) -> bytes:
    samples = np.frombuffer(data, dtype=np.int16).astype(np.int32) + 32768
    return _ENCODE[samples].tobytes()


def resample_pcm16(data: bytes, rate_in: int, rate_out: int) -> bytes:
    if rate_in == rate_out or not data:
        return data
    samples = np.frombuffer(data, dtype=np.int16)
    return soxr.resample(samples, rate_in, rate_out, quality="HQ").astype(np.int16).tobytes()


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
