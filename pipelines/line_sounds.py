"""Sounds on a phone line that are not speech: hold music and tones (a mailbox's beep, DTMF).

Both are told from the spectrum of each 32 ms window (256 samples at 8 kHz). Speech moves: its harmonics
glide with the pitch and its formants change every few tens of ms, so consecutive spectra of speech stay alike
only briefly. Music holds notes: its spectrum stays alike for a quarter second and more, over and over. Line
noise is loud in no bin in particular (consecutive spectra of white noise are ~0.79 alike, below the mark).
A tone is one narrow peak holding most of a window's energy.

:class:`LineSounds` follows a call's windows as they come; :func:`music_share` judges a stretch of audio
(a caller "turn" that was really music).
"""

from __future__ import annotations

from collections import deque

import numpy as np

WINDOW = 256  # samples at 8 kHz (32 ms), the VAD's window
FLOOR_RMS = 120.0  # about -49 dBFS: quieter windows are silence
ALIKE = 0.9  # cosine similarity of consecutive magnitude spectra that counts as "held"
HELD_WINDOWS = 6  # a run this long (~190 ms) of alike spectra is a held note
MUSIC_SHARE = 0.25  # share of loud windows in held runs over the last few seconds that makes music
HISTORY_WINDOWS = 94  # ~3 s judged at a time
TONE_PEAK = 0.85  # share of a window's energy in its strongest bin (± 1) that makes a tone
TONE_WINDOWS = 5  # ~160 ms of tone is a beep
_HANN = np.hanning(WINDOW)


def _spectrum(window: np.ndarray) -> np.ndarray:
    return np.abs(np.fft.rfft(window * _HANN))


def _held_runs(loud: list[bool], alike: list[bool]) -> int:
    """How many loud windows lie in runs of at least HELD_WINDOWS alike windows."""
    held, run = 0, 0
    for is_loud, is_alike in zip(loud, alike, strict=True):
        if is_loud and is_alike:
            run += 1
            continue
        if run >= HELD_WINDOWS:
            held += run
        run = 0
    return held + (run if run >= HELD_WINDOWS else 0)


def music_share(pcm: bytes) -> float:
    """Share of the loud 32 ms windows of 8 kHz 16-bit ``pcm`` that lie in held notes (0 for silence)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64)
    n = samples.size // WINDOW
    if n < HELD_WINDOWS:
        return 0.0
    frames = samples[: n * WINDOW].reshape(n, WINDOW)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    spectra = np.abs(np.fft.rfft(frames * _HANN, axis=1))
    norms = np.linalg.norm(spectra, axis=1) + 1e-9
    similarity = np.sum(spectra[1:] * spectra[:-1], axis=1) / (norms[1:] * norms[:-1])
    loud = list(rms[1:] >= FLOOR_RMS)
    count = sum(loud)
    if count < HELD_WINDOWS:
        return 0.0
    return _held_runs(loud, list(similarity >= ALIKE)) / count


def is_tone(window: np.ndarray, spectrum: np.ndarray | None = None) -> bool:
    """Whether a 32 ms window is mostly one narrow tone (a beep; one of DTMF's two tones is not enough);
    ``spectrum``: the window's, when it is at hand."""
    if float(np.sqrt(np.mean(window**2))) < FLOOR_RMS:
        return False
    power = (_spectrum(window) if spectrum is None else spectrum) ** 2
    total = float(power[3:].sum()) + 1e-9  # below ~90 Hz is hum, not a beep
    peak = int(np.argmax(power[3:])) + 3
    return float(power[max(0, peak - 1) : peak + 2].sum()) / total >= TONE_PEAK


class LineSounds:
    """Follows the caller's line window by window: is music playing, did a beep just end."""

    def __init__(self) -> None:
        self._loud: deque[bool] = deque(maxlen=HISTORY_WINDOWS)
        self._alike: deque[bool] = deque(maxlen=HISTORY_WINDOWS)
        self._previous: np.ndarray | None = None
        self._tone_run = 0
        self.music = False  # music over the last few seconds
        self.beeps = 0  # beeps heard so far (a tone of at least TONE_WINDOWS that ended)

    def feed(self, window: bytes) -> None:
        """One 32 ms window of 8 kHz 16-bit PCM. A quiet window costs no spectrum (a silent line is most of a
        call): it is neither a note nor a tone, and music that was playing fades from the history."""
        samples = np.frombuffer(window, dtype=np.int16).astype(np.float64)
        if samples.size != WINDOW:
            return
        loud = float(np.sqrt(np.mean(samples**2))) >= FLOOR_RMS
        spectrum = _spectrum(samples) if loud else None
        alike = False
        if spectrum is not None and self._previous is not None:
            denominator = float(np.linalg.norm(spectrum) * np.linalg.norm(self._previous)) + 1e-9
            alike = float(np.dot(spectrum, self._previous)) / denominator >= ALIKE
        self._previous = spectrum
        self._loud.append(loud)
        self._alike.append(alike)
        if spectrum is not None and is_tone(samples, spectrum):
            self._tone_run += 1
        else:
            if self._tone_run >= TONE_WINDOWS:
                self.beeps += 1
            self._tone_run = 0
        if loud or self.music:
            self._judge()

    def _judge(self) -> None:
        count = sum(self._loud)
        self.music = count >= 2 * HELD_WINDOWS and (
            _held_runs(list(self._loud), list(self._alike)) / count >= MUSIC_SHARE
        )
