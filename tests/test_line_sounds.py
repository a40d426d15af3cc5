"""Hold music and beeps on the caller's line are not speech (pipelines/line_sounds.py): the scenarios' synthetic
hold music and mailbox beep against the party's real Piper speech, clean and under line noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.audio import read_wav
from pipelines.line_sounds import MUSIC_SHARE, WINDOW, LineSounds, music_share

DATA = Path(__file__).parent / "data"


def _pcm(name: str) -> bytes:
    pcm, rate = read_wav(str(DATA / name))
    assert rate == 8000
    return pcm


def _feed(sounds: LineSounds, pcm: bytes) -> bool:
    music = False
    for i in range(0, len(pcm) - 2 * WINDOW + 1, 2 * WINDOW):
        sounds.feed(pcm[i : i + 2 * WINDOW])
        music = music or sounds.music
    return music


def _noisy(pcm: bytes, snr_db: float) -> bytes:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    noise = np.random.default_rng(0).normal(0, samples.std() / 10 ** (snr_db / 20), samples.size)
    return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()


def test_hold_music_is_music_within_a_second_clean_and_noisy() -> None:
    music = _pcm("hold_music.wav")
    assert music_share(music) >= MUSIC_SHARE
    assert music_share(_noisy(music, 15)) >= MUSIC_SHARE
    sounds = LineSounds()
    assert _feed(sounds, music[: 8000 * 2])  # the first second
    assert not _feed(LineSounds(), _pcm("quiet_line.wav"))


def test_a_beep_is_counted_once_it_ended() -> None:
    sounds = LineSounds()
    _feed(sounds, _pcm("beep.wav"))
    assert sounds.beeps == 0  # still sounding
    sounds.feed(bytes(2 * WINDOW))
    assert sounds.beeps == 1


@pytest.mark.voice
@pytest.mark.parametrize(
    "line",
    [
        "Good morning, Miller dental practice, how can I help you?",
        "Thanks for waiting. Tuesday afternoon we have 1:40 or 4:20.",
        "Hi, you have reached Miller Dental. We cannot take your call right now, please leave a message after the tone.",
        "For appointments, press 1. For billing, press 2. For all other questions, press 3.",
        "Hmmmm, well, noooo, sorry.",
    ],
)
async def test_speech_is_neither_music_nor_a_beep(line: str) -> None:
    from simulation.scripted_party import party_speech

    speech = await party_speech(line)
    for pcm in (speech, _noisy(speech, 15)):
        assert music_share(pcm) < MUSIC_SHARE / 2
        sounds = LineSounds()
        assert not _feed(sounds, pcm)
        assert sounds.beeps == 0
