"""The transcript rule of the end of turn (no speech models): a full stop after a word no sentence ends on, or
in the middle of a number being read out, leaves the turn open; ordinary finished sentences still end it. The
labelled set of ``tests/data/turn_taking`` holds the transcripts the bench checks (``bench/turn_taking.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.settings import VoiceSettings
from pipelines.turn_detector import sentence_finished

SET = Path(__file__).parent / "data" / "turn_taking" / "set.yaml"


@pytest.mark.parametrize(
    "text",
    ["My name is.", "Mein Name ist.", "Call me back on the.", "Eier, Milch und.", "I'd like to, um.", "Äh.",
     "My number is 017.", "Meine Nummer ist 017 234.", "It's 4 5 6.", "It's.", "Ich rufe an wegen.", "Well..."],
)  # fmt: skip
def test_a_fragment_closed_with_a_full_stop_leaves_the_turn_open(text: str) -> None:
    assert not sentence_finished(text)


@pytest.mark.parametrize(
    "text",
    ["Thank you.", "Yes, it is.", "Can I come in?", "Thursday at 10.", "My name is Anna Miller.", "Nein.",
     "Am Donnerstag um 10.", "Ich rufe morgen an.", "Okay, thank you. Bye!", "That's all.", "Yes, I am."],
)  # fmt: skip
def test_a_finished_sentence_ends_the_turn(text: str) -> None:
    assert sentence_finished(text)


def test_the_labelled_set_is_well_formed() -> None:
    data = yaml.safe_load(SET.read_text())
    ids = [item["id"] for item in data["audio"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) for i in ids)
    for item in data["audio"]:
        assert isinstance(item["parts"][0], str) and isinstance(item["parts"][-1], str), item["id"]
        assert all(300 <= p <= 900 for p in item["parts"] if isinstance(p, int)), item["id"]
    assert {"complete", "mid-sentence", "list", "numbers", "hesitation"} <= {i["kind"] for i in data["audio"]}
    assert {"de", "en"} <= set(data["text"])


def test_the_stops_are_ordered() -> None:
    s = VoiceSettings(_env_file=None)
    assert s.lisa_vad_stop_s <= s.lisa_turn_text_stop_s <= s.lisa_turn_max_silence_s
    assert s.lisa_turn_sure_stop_s <= s.lisa_turn_max_silence_s
