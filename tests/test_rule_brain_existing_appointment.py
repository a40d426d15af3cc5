"""A caller who already has an appointment and is running late (or says so before anything else) leaves a
message; nothing is booked (issue 10, class 8), in en and de. After the message, an answer that is no number
to "Which number can we call you back on?" ends that question instead of starting a new message."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine

from agent.conversation import Status

CLOCK = "2026-11-23T11:00:00+01:00"  # Monday

LATE = [
    ("en", "Hello, this is Emma Scott, I have an appointment at twelve today and I'm running about fifteen minutes late."),
    ("en", "Hi, it's Tom Fischer, I've got an appointment at 3 this afternoon but I'm stuck in traffic, running a bit late."),
    ("en", "Hi, Priya Shah here. We have a session tomorrow at ten and I need to tell the therapist I'm running late."),
    ("de", "Hallo, hier ist Jonas Weber, ich habe heute um 12 einen Termin und verspäte mich etwa zehn Minuten."),
    ("de", "Guten Tag, hier ist Karin Vogt. Ich habe morgen einen Termin bei Frau Lang und komme zu spät, sagen Sie ihr Bescheid?"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text"), LATE)
async def test_running_late_for_an_appointment_is_a_message(lang: str, text: str) -> None:
    talk = Talk(rule_engine(ManualClock(CLOCK)), "inbound", lang)
    await talk.engine.reply(talk.conv, None)
    reply = await talk(text)
    assert talk.status is not Status.BOOKED, reply
    assert "gebucht" not in reply and "booked" not in reply
    answer = await talk("Ja, bitte sagen Sie es ihr." if lang == "de" else "Yes please, tell them.")
    assert talk.status is Status.MESSAGE_TAKEN, answer
    assert "name" not in answer.lower()  # the name was given: no new message is started
    await talk("Danke, tschüss." if lang == "de" else "Thanks, bye.")
    assert talk.conv.ended


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I'd like to have an appointment at 3 on Friday."),
        ("de", "Ich habe noch keinen Termin, hätte gern einen am Freitag um 15 Uhr."),
    ],
)
async def test_asking_for_an_appointment_is_still_a_booking(lang: str, text: str) -> None:
    talk = Talk(rule_engine(ManualClock(CLOCK)), "inbound", lang)
    await talk.engine.reply(talk.conv, None)
    reply = await talk(text)
    assert "15" in reply or "3 pm" in reply, reply
