"""The rule brain on how people type in a chat, en + de, through the Engine: quick misspellings of the words
it knows ("apointment pls", "tmrw"), a pleasantry before the request ("Hope you're having a lovely week :)"),
and a message for a person by name ("could you let Anna know …") taken as a message even when it names a day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent.conversation import Status
from agent.phrases import phrase

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=ZoneInfo("Europe/Berlin"))  # Monday
NOT_UNDERSTOOD = {"en": "didn't quite get", "de": "nicht ganz verstanden"}


@pytest.fixture
def engine():
    return rule_engine(ManualClock(NOW.isoformat()))


TYPED_FAST = [
    ("en", ["hi i need an apointment for my back pls", "tmrw at 10", "Leo Fischer"], "2026-11-24T10:00"),
    ("en", ["can i get an appt on wensday at 9", "Leo Fischer"], "2026-11-25T09:00"),
    ("en", ["i need an appointment for my back please", "thrusday 11am", "Leo Fischer"], "2026-11-26T11:00"),
    ("de", ["ich hätte gern einen termn morgn um 10", "Leo Fischer"], "2026-11-24T10:00"),
]


@pytest.mark.parametrize(("lang", "lines", "start"), TYPED_FAST)
async def test_quick_misspellings_are_understood(engine, lang, lines, start):
    chat = await talk(engine, "chat", lang)
    for line in lines:
        assert NOT_UNDERSTOOD[lang] not in await chat(line)
    assert chat.status is Status.BOOKED
    assert chat.outcome["appointment"] == start


PLEASANTRIES = [
    ("en", "Good morning! Hope you're having a lovely start to the week :)"),
    ("en", "hi lisa, how are you doing?"),
    ("en", "Hello there, how's it going?"),
    ("de", "Guten Morgen, wie geht's?"),
    ("de", "Hallo! Ich hoffe, Sie hatten ein schönes Wochenende."),
]


@pytest.mark.parametrize(("lang", "said"), PLEASANTRIES)
async def test_a_pleasantry_gets_a_friendly_word_and_the_offer_to_help(engine, lang, said):
    chat = await talk(engine, "chat", lang)
    assert await chat(said) == phrase(lang, "inbound.pleasantry")
    booked = await chat("Book me a massage on Friday at 9" if lang == "en" else "Massage am Freitag um 9")
    assert ("9 am" if lang == "en" else "9 Uhr") in booked


FOR_A_PERSON = [
    ("en", "Hey, could you let Anna know I got my MRI results back? I'll bring them along on Friday."),
    ("en", "Please let Tom know I'll be ten minutes late tomorrow."),
    ("de", "Können Sie Frau Lang ausrichten, dass ich die Befunde am Freitag mitbringe?"),
]


@pytest.mark.parametrize(("lang", "said"), FOR_A_PERSON)
async def test_a_message_for_a_person_by_name_is_taken_even_with_a_day_in_it(engine, lang, said):
    chat = await talk(engine, "chat", lang)
    await chat(said)
    await chat("Leo Fischer")
    await chat("0171 2233445")
    assert chat.status is Status.MESSAGE_TAKEN
    assert chat.outcome["appointment"] is None


async def test_let_me_know_is_no_message():
    chat = await talk(rule_engine(ManualClock(NOW.isoformat())), "chat", "en")
    assert "Monday to Friday" in await chat("Can you let me know your opening hours?")
    assert chat.status is not Status.MESSAGE_TAKEN
