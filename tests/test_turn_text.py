"""The transcript rule of the end of turn (no speech models): a full stop after a word no sentence ends on, or
in the middle of a number being read out, leaves the turn open; ordinary finished sentences still end it. The
labelled set of ``tests/data/turn_taking`` holds the transcripts the bench checks (``bench/turn_taking.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agent.conversation import Conversation, Language, Message, Mode
from pipelines.call_session import CallSession
from pipelines.settings import VoiceSettings
from pipelines.turn_detector import TurnDetector, sentence_finished

SET = Path(__file__).parent / "data" / "turn_taking" / "set.yaml"


@pytest.mark.parametrize(
    "text",
    ["My name is.", "Mein Name ist.", "Call me back on the.", "Eier, Milch und.", "I'd like to, um.", "Äh.",
     "My number is 017.", "Meine Nummer ist 017 234.", "It's 4 5 6.", "It's.", "Ich rufe an wegen.", "Well...",
     "It's for.", "I'd like to.", "Can I come with.", "It's under.", "I'm calling about."],
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
    assert max(s.lisa_turn_fast_stop_s, s.lisa_vad_stop_s) <= s.lisa_turn_sure_stop_s
    assert s.lisa_turn_sure_stop_s <= s.lisa_turn_text_stop_s <= s.lisa_turn_max_silence_s
    assert 0 < s.lisa_turn_sure_closing < 1


@pytest.mark.parametrize(
    ("text", "complete", "closing", "stop"),
    [
        ("I'd like to book an appointment.", False, 0.8, "fast"),  # Whisper sure of the full stop
        ("Can I pay by card?", False, 0.5, "fast"),
        ("Yes.", False, 0.9, "sure"),  # too short for the fastest stop: "Yes. [pause] But only after four."
        ("That's all.", False, 0.9, "sure"),
        ("I'd like to book an appointment.", False, None, "sure"),  # not known (the 30 s window): as sure
        ("I'd like to book an appointment.", False, 0.3, "text"),  # said like a sentence that goes on
        ("That's all.", False, 0.2, "text"),
        ("for next Tuesday", True, 0.2, "vad"),  # no sentence's end: smart turn decides
        ("Call me back on the", True, 0.1, "max"),  # plainly goes on, whatever smart turn says
        ("My number is 017", True, 0.9, "max"),
        ("Monday, Wednesday", False, 0.9, "max"),
        ("No. Kowalczyk. K, O, W.", False, 0.9, "sure"),  # letters spelled out: the next may follow
        ("It's M-A-R-E-N.", False, 0.9, "sure"),
        ("That's K, O, M.", False, 0.9, "sure"),
        ("Could I come at 4 p.m.?", False, 0.9, "fast"),  # "p.m." is no spelling
        ("I'd like plan B.", False, 0.9, "fast"),
        # a thanks at the end: "[pause] bye" may follow and must not become a turn of its own
        ("You have my number. Thanks!", False, 0.9, "sure"),
        ("That's everything, thank you very much.", False, 0.9, "sure"),
        ("Okay, vielen Dank.", False, 0.9, "sure"),
        ("Das wäre alles, danke schön.", False, 0.9, "sure"),
        ("Thanks, I'd like Tuesday at ten.", False, 0.9, "fast"),  # thanked first, then the answer
    ],
)
def test_the_silence_that_ends_a_turn_follows_the_transcript_and_whispers_certainty(
    text: str, complete: bool, closing: float | None, stop: str
) -> None:
    settings = VoiceSettings(_env_file=None)
    assert settings.lisa_turn_fast_stop_s < settings.lisa_turn_sure_stop_s  # the fastest stop is on
    conversation = Conversation(mode=Mode.INBOUND, language=Language.EN)
    detector = TurnDetector(CallSession("CA-stop", "MZ-stop", "inbound", {}, conversation), settings)
    expected = {
        "fast": settings.lisa_turn_fast_stop_s,
        "sure": settings.lisa_turn_sure_stop_s,
        "text": settings.lisa_turn_text_stop_s,
        "vad": settings.lisa_vad_stop_s,
        "max": settings.lisa_turn_max_silence_s,
    }[stop]
    assert detector.stop_for(text, complete, closing) == expected


def test_lisas_own_calls_to_a_business_never_take_the_fastest_stop() -> None:
    """Menus, offers read out and names spelled at the other end's pace: the sure stop on outbound calls."""
    settings = VoiceSettings(_env_file=None)
    conversation = Conversation(mode=Mode.OUTBOUND, language=Language.EN)
    detector = TurnDetector(CallSession("CA-out", "MZ-out", "outbound", {}, conversation), settings)
    assert detector.stop_for("For appointments, press 1.", False, 0.9) == settings.lisa_turn_sure_stop_s
    inbound = TurnDetector(
        CallSession("CA-in", "MZ-in", "inbound", {}, Conversation(mode=Mode.INBOUND, language=Language.EN)),
        settings,
    )
    assert inbound.stop_for("For appointments, press 1.", False, 0.9) == settings.lisa_turn_fast_stop_s


@pytest.mark.parametrize(
    "lisa",
    ["Marin Calcic — C-A-L-C-I-C, is that right?", "Could you spell your surname for me?",
     "Können Sie den Namen bitte buchstabieren?", "Also Weiß, W-E-I-S-S, richtig?"],
)  # fmt: skip
def test_after_lisa_spelled_or_asked_for_spelling_a_finished_sentence_waits_the_sure_stop(lisa: str) -> None:
    """The answer comes as letters with pauses ("No. Kowalczyk. [pause] K, O, W …")."""
    settings = VoiceSettings(_env_file=None)
    conversation = Conversation(mode=Mode.INBOUND, language=Language.EN)
    detector = TurnDetector(CallSession("CA-sp", "MZ-sp", "inbound", {}, conversation), settings)
    assert detector.stop_for("No, it's Kowalczyk.", False, 0.9) == settings.lisa_turn_fast_stop_s
    conversation.history.append(Message("assistant", lisa, datetime.now(UTC)))
    assert detector.stop_for("No, it's Kowalczyk.", False, 0.9) == settings.lisa_turn_sure_stop_s
