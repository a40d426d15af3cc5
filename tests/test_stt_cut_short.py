"""Whisper tiny.en on a short window sometimes stops before the speaker did (a noisy line): the transcript is
checked against the voiced audio and decoded again in the 30 s window when it is too short for it."""

from __future__ import annotations

import numpy as np
import pytest
from doubles.party_voice import party_speech

from pipelines import local_models
from pipelines.audio import pcm16_to_float
from simulation.impairments import Channel, Impairer, speech_rms
from telephony.audio_codec import resample_pcm16

CORRECTION = "Thursday at ten, no, sorry, Friday at ten."


def _noisy_line(text: str, seed: int) -> np.ndarray:
    """``text`` in the party's voice over a 25 dB line (as the replay suite's noisy scenarios), 16 kHz float."""
    pcm = party_speech(text)
    impairer = Impairer(Channel(snr_db=25, drop_rate=0.01, seed=seed))
    impairer.set_speech_level(speech_rms(pcm))
    return pcm16_to_float(resample_pcm16(impairer.add_line_noise(pcm), 8000, 16000))


def test_syllables_count_vowel_groups_and_numbers_as_said():
    assert local_models.syllables(["Thursday", "at", "10,", "no."]) == 5
    assert local_models.syllables(["9:30", "or", "0151"]) == 3 + 1 + 4
    assert local_models.syllables(["Okay,", "thank", "you."]) == 4


def test_a_transcript_is_cut_short_only_when_slower_than_anyone_talks():
    second = np.zeros(16000, dtype=np.float32)
    speech = np.concatenate([second, np.full(48000, 0.3, dtype=np.float32), second])  # 3 s voiced
    four = [("Thursday", 0.9), ("at", 0.9), ("10,", 0.9), ("no.", 0.9)]  # 5 syllables in 3 s
    assert local_models.cut_short(four, speech)
    assert not local_models.cut_short(
        [*four, ("sorry", 0.9), ("Friday", 0.9), ("at", 0.9), ("10.", 0.9)], speech
    )
    assert not local_models.cut_short(
        [("Yes.", 0.9)], np.full(16000, 0.3, dtype=np.float32)
    )  # 1 s: not checked


def _short_window(audio: np.ndarray) -> local_models.Recognised:
    """The short window's own decode of ``audio``, before any second look."""
    frames = min(3000, -(-max(300, -(-len(audio) // 160) + 80) // 100) * 100)  # the short window's size
    return local_models._decode(local_models._encode(audio, frames), len(audio) / 16000)


@pytest.mark.voice
@pytest.mark.parametrize("seed", [0, 3, 4])
def test_a_correction_cut_off_by_the_short_window_is_heard_whole(seed):
    """On these noise seeds the short window often ends early ("Thursday at 10, no." / "… No, sorry."); which
    of them does depends on the CPU (the decoder's numerics differ). A cut-off is noticed, and the whole
    correction is heard either way."""
    audio = _noisy_line(CORRECTION, seed)
    short = _short_window(audio)
    if "Friday" not in short.text:
        assert local_models.cut_short(short.words, audio), short
    heard = local_models.recognise_short(audio)
    assert "Friday at 10" in heard.text, heard


@pytest.mark.voice
def test_the_short_window_cuts_the_correction_on_some_noise_seed():
    """The path above is really taken on this machine: on at least one of five seeds the short window stops
    before "Friday" (seeds 0, 3, 4 on the machines measured so far)."""
    cut = [seed for seed in range(5) if "Friday" not in _short_window(_noisy_line(CORRECTION, seed)).text]
    assert cut, "the short window heard the whole correction on every seed"


@pytest.mark.voice
def test_a_whole_transcript_is_not_decoded_again():
    audio = _noisy_line("Okay, thank you. Goodbye.", 1)
    heard = local_models.recognise_short(audio)
    assert "thank you" in heard.text.lower() and not local_models.cut_short(heard.words, audio), heard
