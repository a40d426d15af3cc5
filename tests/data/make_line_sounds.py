"""Writes the line sounds of the hold / voicemail / phone-menu scenarios (deterministic, numpy only):
``hold_music.wav`` (12 s of a synthetic melody over chords), ``beep.wav`` (a mailbox's 1 kHz beep, 0.5 s)
and ``queue_silence.wav`` (6 s of a quiet line). Run: ``.venv/bin/python tests/data/make_line_sounds.py``."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 8000
HERE = Path(__file__).resolve().parent


def _write(name: str, samples: np.ndarray) -> None:
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(HERE / name), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def _note(freq: float, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k**1.5 for k in (1, 2, 3, 4))
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-1.2 * t)  # a plucked note
    return level * tone * envelope


def hold_music(seconds: float = 12.0) -> np.ndarray:
    melody = [523.25, 587.33, 659.25, 783.99, 659.25, 587.33, 523.25, 392.0]  # C5 D5 E5 G5 E5 D5 C5 G4
    chords = [
        (261.63, 329.63, 392.0),
        (220.0, 261.63, 329.63),
        (174.61, 220.0, 261.63),
        (196.0, 246.94, 293.66),
    ]
    out = np.zeros(int(seconds * RATE))
    beat = 0.4
    for i in range(int(seconds / beat)):
        start = int(i * beat * RATE)
        note = _note(melody[i % len(melody)], beat * 1.5, 0.18)
        end = min(out.size, start + note.size)
        out[start:end] += note[: end - start]
        if i % 4 == 0:
            chord = sum(_note(f, beat * 4, 0.08) for f in chords[(i // 4) % len(chords)])
            end = min(out.size, start + chord.size)
            out[start:end] += chord[: end - start]
    return out


def beep(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * 1000.0 * t) * np.minimum(1.0, np.minimum(t, seconds - t) / 0.005)


if __name__ == "__main__":
    _write("hold_music.wav", hold_music())
    _write("beep.wav", beep())
    _write("quiet_line.wav", np.zeros(6 * RATE))
