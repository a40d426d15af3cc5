"""The rule brain in chats and inbound calls when the customer changes what they asked for, en + de, through the
Engine: a time said alone while a slot is talked about is that time on the slot's day ("ugh ok, 5:30 then"), a
day turned down gives way to the one named after it ("Tuesday doesn't work after all. Wednesday, same
time?"), moving an appointment one already has is passed on (never booked anew at the old time), a person
asked for together with "are you a bot?" is put through, and a name said beside a callback number is kept."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent.conversation import Status

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=ZoneInfo("Europe/Berlin"))  # Monday
NAME = "Leo Fischer"


@pytest.fixture
def engine():
    return rule_engine(ManualClock(NOW.isoformat()))


# (language, what the customer says before the name, the booked start)
TIME_ALONE = [
    ("en", ["I'd like to book a massage on Friday at 9", "ok, 12 then"], "2026-11-27T12:00"),
    ("en", ["any chance of 7pm on thursday? i work till 6", "ugh ok, 5:30 then"], "2026-11-26T17:30"),
    ("en", ["Can I come Saturday at 10?", "ok, 12 then"], "2026-11-27T12:00"),  # closed: Friday 10 offered
    ("en", ["Friday at 9 please", "actually, can we do 11 instead?"], "2026-11-27T11:00"),
    ("en", ["Friday at 9 please", "half ten would be better"], "2026-11-27T10:30"),
    ("de", ["Ich hätte gern einen Termin am Freitag um 9", "Hm, lieber um elf"], "2026-11-27T11:00"),
    ("de", ["Kann ich Samstag um 10 kommen?", "na gut, dann um 12"], "2026-11-27T12:00"),
    ("de", ["Freitag um 9 bitte", "halb elf wäre besser"], "2026-11-27T10:30"),
    # agreeing without a new time keeps the slot
    ("en", ["Friday at 9 please", "ok"], "2026-11-27T09:00"),
    ("de", ["Kann ich Samstag um 10 kommen?", "ja gerne"], "2026-11-27T10:00"),
]


async def _booked_at(engine, lang: str, lines: list[str], start: str) -> None:
    """``lines`` in a chat, then the name: booked at ``start``."""
    chat = await talk(engine, "chat", lang)
    for line in lines:
        await chat(line)
    await chat(NAME)
    assert chat.status is Status.BOOKED
    assert chat.outcome["appointment"] == start


@pytest.mark.parametrize(("lang", "lines", "start"), TIME_ALONE)
async def test_a_time_said_alone_is_that_time_on_the_day_talked_about(engine, lang, lines, start):
    await _booked_at(engine, lang, lines, start)


TURNED_DOWN = [
    ("en", ["I'd like a massage on Tuesday at 9", "Hmm, actually Tuesday doesn't work for me after all. Wednesday, same time?"], "2026-11-25T09:00"),
    ("en", ["Tuesday at 9 please", "Sorry, I can't do Tuesday. What about Thursday at 10?"], "2026-11-26T10:00"),
    ("en", ["Tuesday at 9 please", "Monday is no good either, so Friday maybe?"], "2026-11-27T09:00"),
    ("de", ["Ich möchte eine Massage am Dienstag um 9 Uhr buchen.", "Ach warten Sie, Dienstag kann ich doch nicht. Geht auch Mittwoch, gleiche Uhrzeit?"], "2026-11-25T09:00"),
    ("de", ["Dienstag um 9 bitte", "Dienstag passt mir doch nicht, lieber Donnerstag"], "2026-11-26T09:00"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "lines", "start"), TURNED_DOWN)
async def test_a_day_turned_down_gives_way_to_the_day_named_after_it(engine, lang, lines, start):
    await _booked_at(engine, lang, lines, start)


MOVES = [
    ("en", "Hi, I've got an appointment on Wednesday at 10 but something came up, could we move it to Thursday at 10 instead?"),
    ("en", "Can you push my appointment to Friday at 9?"),
    ("en", "I need to move the appointment from Wednesday at 10 to Thursday at 10."),
    ("de", "Ich habe am Mittwoch um 10 einen Termin, können wir den auf Donnerstag um 10 verlegen?"),
    ("de", "Kann ich meinen Termin am Mittwoch auf Freitag um 9 verschieben?"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said"), MOVES)
async def test_moving_an_appointment_one_has_is_passed_on_never_booked_anew(engine, lang, said):
    chat = await talk(engine, "chat", lang)
    await chat(said)
    await chat(NAME)
    await chat("0171 2233445")
    assert chat.status is Status.MESSAGE_TAKEN
    assert chat.outcome["appointment"] is None
    assert "booking_confirmed" not in [e.type for e in chat.conv.events]


BOT_AND_PERSON = [
    ("en", "are you a bot? I want to talk to a real person", "I'm Lisa, an AI assistant."),
    ("en", "Is this a robot?? Put me through to someone please", "I'm Lisa, an AI assistant."),
    ("de", "sind sie ein bot?? ich will mit einem echten menschen reden", "Ich bin Lisa, eine KI-Assistentin."),
    ("de", "Bin ich mit einer Maschine verbunden? Verbinden Sie mich bitte mit einem Mitarbeiter.", "Ich bin Lisa, eine KI-Assistentin."),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said", "disclosure"), BOT_AND_PERSON)
async def test_asking_for_a_person_with_are_you_a_bot_is_put_through(engine, lang, said, disclosure):
    chat = await talk(engine, "chat", lang)
    reply = await chat(said)
    assert reply.startswith(disclosure)
    assert chat.status is Status.TRANSFERRED


CALLBACKS = [
    ("de", "Hallo, ich bin grad unterwegs, kann mich bitte jemand zurückrufen? Anke Müller, 0171 2233445", "Anke Müller"),
    ("en", "Hi, could someone call me back please? Jane Doe, 07700 900123", "Jane Doe"),
    ("en", "Please call me back. Sam Ortiz here, 07700 900123", "Sam Ortiz"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said", "name"), CALLBACKS)
async def test_a_name_beside_the_callback_number_is_kept(engine, lang, said, name):
    chat = await talk(engine, "chat", lang)
    reply = await chat(said)
    assert name in reply
    assert chat.status is Status.CALLBACK_REQUESTED
    assert name in chat.outcome["summary"]
