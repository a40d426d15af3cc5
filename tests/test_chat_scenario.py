"""The shared scenarios, their party lines fed as text to the engine with the rule brain and the scenario clock."""

from __future__ import annotations

import copy
import re

import pytest
from prerequisites import require_shared_scenarios
from scenario_text import engine_for, failures, load_scenario, run_text

from agent.calendar import InMemoryCalendar


@pytest.fixture(autouse=True)
def _shared_scenarios() -> None:
    """Without ../shared/scenarios these tests skip (locally) or fail (CI=true)."""
    require_shared_scenarios()


@pytest.mark.parametrize(
    "name",
    ["chat_book_de", "outbound_dentist_simple", "outbound_no_availability", "inbound_opening_hours"],
)
async def test_scenario_passes_as_a_text_conversation(name):
    scenario = load_scenario(f"{name}.yaml")
    run = await run_text(scenario)
    assert failures(scenario, run) == [], run.transcript


async def test_chat_book_de_details():
    scenario = load_scenario("chat_book_de.yaml")
    run = await run_text(scenario)
    lisa = [text for speaker, text in run.transcript if speaker == "lisa"]
    assert lisa[0] == "Hallo, hier ist Lisa von Parkside Physiotherapy. Wie kann ich Ihnen helfen?"
    assert "Mittwoch, 25. November" in lisa[2] and "15 Uhr" in lisa[2]  # free slot confirmed before the name
    assert "Erika Musterfrau" in lisa[3] and "gebucht" in lisa[3]
    assert run.conv.end_requested and run.ended_by == "lisa"
    assert [e.type for e in run.conv.events] == ["booking_confirmed"]


async def test_the_same_chat_twice_gets_an_alternative_the_second_time():
    """Bookings are kept: a second caller asking for the same slot is offered the nearest free one."""
    scenario = load_scenario("chat_book_de.yaml")
    calendar = InMemoryCalendar()
    first = await run_text(scenario, engine_for(scenario, calendar))
    second = await run_text(scenario, engine_for(scenario, calendar))
    assert first.conv.outcome.as_dict()["appointment"] == "2026-11-25T15:00"
    offer = [text for speaker, text in second.transcript if speaker == "lisa"][2]
    assert "schon vergeben" in offer and "Wie wäre es mit Mittwoch, 25. November um 15:30 Uhr" in offer
    # the name comes while 15:30 is on the table; "Ja, passt" accepts it and the goodbye ends the chat
    assert second.conv.outcome.as_dict()["appointment"] == "2026-11-25T15:30"
    assert "Erika Musterfrau" in second.conv.outcome.summary and second.conv.end_requested


async def test_outbound_dentist_summary_and_events():
    scenario = load_scenario("outbound_dentist_simple.yaml")
    run = await run_text(scenario)
    assert (
        run.conv.outcome.summary
        == "Appointment booked for Monday, November 30 at 10:30 at Miller dental practice."
    )
    assert [e.type for e in run.conv.events] == ["booking_in_progress", "booking_confirmed"]
    assert "+49 30 1234567" not in run.lisa_text  # the callback number was never asked for
    assert "Musterstraße" not in run.lisa_text


def _as_transcribed(text: str, style: str) -> str:
    if style == "lowercase-no-punctuation":
        return re.sub(r"[^\w\s']", "", text).lower()
    return text.replace("half past ten", "10:30").replace("ten thirty", "10.30")  # digits


@pytest.mark.parametrize("style", ["lowercase-no-punctuation", "digits"])
@pytest.mark.parametrize(
    "name",
    ["chat_book_de", "outbound_dentist_simple", "outbound_no_availability", "inbound_opening_hours"],
)
async def test_scenarios_survive_speech_recognition_style_text(name, style):
    scenario = copy.deepcopy(load_scenario(f"{name}.yaml"))
    for turn in scenario["party"]:
        if "say" in turn:
            turn["say"] = _as_transcribed(turn["say"], style)
    run = await run_text(scenario)
    assert failures(scenario, run) == [], run.transcript


async def test_lisa_speaks_in_short_phone_sentences():
    """Every reply in the shared scenarios is 1-3 sentences of plain text: no lists, markdown or line breaks."""
    from agent.sentences import split_sentences

    for name in [
        "chat_book_de",
        "outbound_dentist_simple",
        "outbound_no_availability",
        "inbound_opening_hours",
    ]:
        run = await run_text(load_scenario(f"{name}.yaml"))
        for speaker, text in run.transcript:
            if speaker != "lisa" or not text:
                continue
            sentences, rest = split_sentences(text + " ")
            assert 1 <= len(sentences) + bool(rest.strip()) <= 3, text
            assert not re.search(r"[*#\n]|^\s*[-•]", text), text
            assert "as an ai" not in text.lower()
