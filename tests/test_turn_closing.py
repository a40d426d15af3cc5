"""Whisper's probability of a sentence's end after the last word it heard (``Recognised.closing``) tells a
caller who has finished from one who pauses mid-sentence: on the labelled set's continuous rendering (each
item said as one utterance, cut at its pauses: ``bench.turn_taking_set``) it is higher where the turn ends
than in the pauses. The turn detector waits longer after a sentence Whisper was unsure of (README
"Turn-taking")."""

from __future__ import annotations

import numpy as np
import pytest

from bench.turn_taking_set import RATE, continuous_item, load
from pipelines import inference
from pipelines.turn_detector import SPECULATE_WINDOWS
from pipelines.vad import WINDOW_S

LEAD = bytes(int(0.32 * RATE) * 2)  # the detector's pre-roll before the speech
PAUSE = bytes(int(SPECULATE_WINDOWS * WINDOW_S * RATE) * 2)  # the silence heard when the check starts


def _auc(ends: list[float], pauses: list[float]) -> float:
    """How often a turn's end scores above a pause (ties half): 0.5 is chance."""
    pairs = [(e > p) + 0.5 * (e == p) for e in ends for p in pauses]
    return float(np.mean(pairs))


@pytest.fixture(scope="module")
def closings() -> tuple[list[float], list[float]]:
    ends: list[float] = []
    pauses: list[float] = []
    for spec in load()["audio"]:
        if spec.get("group", "tuning") != "tuning":
            continue
        item = continuous_item(spec)
        for at, is_end in [*((start, False) for start, _ in item.pauses), (item.end_ms, True)]:
            heard = inference.transcribe_8k(LEAD + item.pcm[: int(at * RATE / 1000) * 2] + PAUSE)
            if heard.closing is not None:
                (ends if is_end else pauses).append(heard.closing)
    return ends, pauses


def test_whisper_is_surer_of_a_sentences_end_where_the_turn_ends_than_in_a_pause(closings) -> None:
    ends, pauses = closings
    assert len(ends) >= 40 and len(pauses) >= 40  # nearly every cut was heard as words
    assert float(np.median(ends)) > float(np.median(pauses)) + 0.15
    assert _auc(ends, pauses) >= 0.65  # measured 0.76 (smart turn v3 on the same audio: 0.53)


def test_a_transcript_without_words_has_no_closing_probability() -> None:
    heard = inference.transcribe_8k(bytes(RATE * 2))
    assert heard.text == "" and heard.closing is None
