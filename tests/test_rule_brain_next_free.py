"""Callers who want the earliest free slot, whatever the day ("What's your next available appointment?", "as
soon as possible", "möglichst bald"), get it offered from the calendar; "anything later?" after an offer gets
the next free slot after it. Inbound and chat, en + de, the rule brain on an in-memory calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent.calendar import Booking, InMemoryCalendar
from agent.conversation import Status

MONDAY_9 = "2026-11-23T09:00:00+01:00"  # the sample business opens 8:00, slots every 30 minutes


@pytest.mark.parametrize(
    ("lang", "ask"),
    [
        ("en", "Hi, what's your next available appointment?"),
        ("en", "I need a massage as soon as possible."),
        ("en", "Could I get the earliest slot you have?"),
        ("en", "Whenever is soonest, really."),
        ("de", "Hallo, wann haben Sie den nächsten freien Termin?"),
        ("de", "Ich bräuchte möglichst bald einen Termin."),
        ("de", "Geben Sie mir bitte den nächstmöglichen Termin."),
    ],
)
async def test_the_next_free_slot_is_offered_and_booked(lang, ask):
    calendar = InMemoryCalendar()
    tz = datetime.fromisoformat(MONDAY_9).tzinfo
    taken = datetime(2026, 11, 23, 9, 30, tzinfo=tz)  # the first slot after now is taken: 10:00 is next
    await calendar.add(Booking(start=taken, end=taken + timedelta(minutes=30), name="X", service="physio"))
    call = await talk(rule_engine(ManualClock(MONDAY_9), calendar), "chat", lang)
    offer = await call(ask)
    assert ("23. November um 10 Uhr" if lang == "de" else "November 23 at 10 am") in offer, offer
    await call("Ja, gern." if lang == "de" else "Yes, please.")
    await call("Anna Weber")
    outcome = call.conv.outcome
    assert outcome.status is Status.BOOKED and outcome.as_dict()["appointment"] == "2026-11-23T10:00"


@pytest.mark.parametrize(
    ("lang", "later"),
    [
        ("en", "Hmm, anything later?"),
        ("en", "Do you have another time?"),
        ("de", "Geht es auch etwas später?"),
    ],
)
async def test_anything_later_after_an_offer_gets_the_next_free_slot_after_it(lang, later):
    call = await talk(rule_engine(ManualClock(MONDAY_9), InMemoryCalendar()), "chat", lang)
    first = await call(
        "Den nächsten freien Termin, bitte." if lang == "de" else "The next free slot, please."
    )
    assert "9:30" in first
    again = await call(later)
    assert ("10 Uhr" if lang == "de" else "10 am") in again and "9:30" not in again
    assert "10:30" in await call(later)


async def test_a_day_said_with_it_is_a_wish_for_that_day():
    call = await talk(rule_engine(ManualClock(MONDAY_9), InMemoryCalendar()), "chat", "en")
    reply = await call("As soon as possible, on Wednesday if you can.")
    assert "Wednesday" in reply and "Monday" not in reply
