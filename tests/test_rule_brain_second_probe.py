"""Failure classes found by a second round of conversations from outside the suite, en + de, through the Engine:
- outbound: an offer wrapped in a queue's words ("Next available would be Tuesday at 2") got no reply; "nothing
  else" after Lisa asked for another time ended the call; a call back only if something changes ("call us
  back if he needs to change it") turned a booking into waiting_for_callback;
- chat and inbound: "anything earlier?", "something later maybe" or "no, that doesn't work after all" while
  Lisa asks for the name became the name and the slot was booked; German "um 10" lost its "um"."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk
from test_rule_brain_outbound import Call, dentist

from agent.conversation import BookingRequest, Status

CLOCK = "2026-11-23T09:15:00+01:00"  # Monday


def cleaning(lang: str, preferred: str) -> BookingRequest:
    request = dentist(lang)
    request.preferred_time = preferred
    return request


HELLO = {"en": "Miller dental, hello?", "de": "Praxis Weber, guten Tag."}

QUEUE_WORDS_AROUND_AN_OFFER = [
    ("en", "Next available would be Tuesday at 2.", "2 pm"),
    ("en", "Sorry, I'm currently busy with a patient - but Tuesday at 3 works.", "3 pm"),
    ("en", "Stay on the line, oh wait, Tuesday at 3 is free.", "3 pm"),
    ("de", "Der nächste freie Termin wäre Dienstag um drei.", "15 Uhr"),
]


@pytest.mark.parametrize(("lang", "said", "time"), QUEUE_WORDS_AROUND_AN_OFFER)
async def test_an_offer_in_a_queues_words_is_answered(lang, said, time):
    call = Call(lang, cleaning(lang, "Dienstag" if lang == "de" else "Tuesday"))
    await call(HELLO[lang])
    reply = await call(said)
    assert time in reply


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_real_queue_still_gets_silence(lang):
    call = Call(lang, cleaning(lang, "Dienstag" if lang == "de" else "Tuesday"))
    queue = {
        "en": "All our staff are currently busy. Please stay on the line, the next available agent will be with you.",
        "de": "Alle unsere Mitarbeiter sind im Gespräch. Bitte bleiben Sie in der Leitung.",
    }
    assert await call(queue[lang]) == ""


NOTHING_ELSE = [
    ("en", "No, sorry, nothing else.", "Yes, that's fine, Tuesday at 9 for him.", "2026-11-24T09:00"),
    ("en", "Sorry, that's all I have.", "Okay, he's down for Tuesday at 9.", "2026-11-24T09:00"),
    ("de", "Nein, sonst nichts, tut mir leid.", "Gut, Dienstag um 9 ist eingetragen.", "2026-11-24T09:00"),
]


@pytest.mark.parametrize(("lang", "nothing", "confirmed", "start"), NOTHING_ELSE)
async def test_nothing_else_after_a_counter_request_is_no_goodbye(lang, nothing, confirmed, start):
    call = Call(lang, cleaning(lang, "Dienstag nachmittag" if lang == "de" else "Tuesday afternoon"))
    await call(HELLO[lang])
    await call("Ich habe Dienstag um 9 Uhr." if lang == "de" else "I have Tuesday at 9 am.")
    await call(nothing)
    assert not call.conv.end_requested and call.status is Status.OPEN  # nothing booked before a yes
    await call(confirmed)
    await call("Tschüss." if lang == "de" else "Bye.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == start


CALL_BACK_IF = [
    ("en", ["Tuesday at 3 is free.", "Okay he's in. He can call us back if he needs to change it. Bye."]),
    ("en", ["Tuesday at 3 works. If anything changes just call us back. Bye!"]),
    ("de", ["Dienstag um drei geht. Falls das nicht passt, rufen Sie einfach nochmal an. Tschüss!"]),
]


@pytest.mark.parametrize(("lang", "lines"), CALL_BACK_IF)
async def test_a_call_back_only_if_something_changes_keeps_the_booking(lang, lines):
    call = Call(lang, cleaning(lang, "Dienstag nachmittag" if lang == "de" else "Tuesday afternoon"))
    await call(HELLO[lang])
    for line in lines:
        await call(line)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-24T15:00"


async def test_call_back_tomorrow_is_still_a_call_back():
    call = Call("en", cleaning("en", "Tuesday afternoon"))
    await call(HELLO["en"])
    await call("Sorry, I can't talk now, call back tomorrow please.")
    assert call.status is Status.WAITING_FOR_CALLBACK


OTHER_THAN_THE_SLOT = [
    ("en", ["Wednesday at 3 please", "hmm, anything earlier?", "10 am please"], "2026-11-25T10:00"),
    ("en", ["Wednesday at 3 please", "something later maybe", "yes"], "2026-11-25T15:30"),
    ("en", ["Wednesday at 3 please", "hmm no, that does not work for me after all", "Thursday at 3"], "2026-11-26T15:00"),
    ("de", ["Mittwoch um 15 Uhr bitte", "was Späteres vielleicht", "ja"], "2026-11-25T15:30"),
    ("de", ["Mittwoch um 15 Uhr bitte", "geht es auch etwas früher?", "um 10"], "2026-11-25T10:00"),
    ("de", ["Mittwoch um 15 Uhr bitte", "nein warte, das passt doch nicht", "Donnerstag um 15 Uhr"], "2026-11-26T15:00"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "lines", "start"), OTHER_THAN_THE_SLOT)
async def test_another_time_asked_for_instead_of_the_name_is_never_the_name(lang, lines, start):
    chat = await talk(rule_engine(ManualClock(CLOCK)), "chat", lang)
    for line in lines:
        await chat(line)
    await chat("Tom Berg")
    assert chat.status is Status.BOOKED
    assert chat.outcome["appointment"] == start
    assert "Tom Berg" in chat.outcome["summary"]


FOR_SOMEONE_ELSE = [
    ("en", "Hi, this is Sarah Klein, I want to book a massage for my husband on Thursday at 4", "Tom Klein"),
    ("en", "Can I book an appointment for my wife on Thursday at 4? I'm Max Berg.", "Anna Berg"),
    ("de", "Hallo, hier ist Sarah Klein, ich möchte einen Termin für meine Tochter am Donnerstag um 16 Uhr", "Mia Klein"),
    ("de", "Mein Name ist Jonas Weber, ich brauche einen Termin für meinen Vater, Donnerstag um 16 Uhr", "Karl Weber"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said", "patient"), FOR_SOMEONE_ELSE)
async def test_an_appointment_for_someone_else_is_booked_under_their_name(lang, said, patient):
    chat = await talk(rule_engine(ManualClock(CLOCK)), "chat", lang)
    reply = await chat(said)
    assert ("Person" in reply) if lang == "de" else ("person the appointment is for" in reply)
    assert chat.status is Status.OPEN
    await chat(patient)
    assert chat.status is Status.BOOKED and chat.outcome["appointment"] == "2026-11-26T16:00"
    assert patient in chat.outcome["summary"]


async def test_a_name_said_with_the_relative_is_theirs():
    chat = await talk(rule_engine(ManualClock(CLOCK)), "chat", "en")
    await chat("I want to book for my son Leo on Thursday at 4")
    assert chat.status is Status.BOOKED and "Leo" in chat.outcome["summary"]


HOUR_TAKEN_BACK = [
    ("en", "I have Tuesday at 2 or 4.", "Oh sorry, 2 just went. Only Tuesday at 4 is left."),
    ("en", "I have Tuesday at 2 or 4.", "Oh sorry, 2 just went, my colleague booked it. Only 4 is left."),
    ("de", "Dienstag um zwei oder um vier.", "Oh, zwei ist gerade weg. Nur noch vier."),
    ("de", "Ich hätte Dienstag um 14 oder um 16 Uhr.", "Ach, 14 Uhr ist schon weg, 16 Uhr wäre noch frei."),
]


@pytest.mark.parametrize(("lang", "offer", "taken_back"), HOUR_TAKEN_BACK)
async def test_an_hour_taken_back_by_its_number_leaves_the_other(lang, offer, taken_back):
    call = Call(lang, cleaning(lang, "Dienstag nachmittag" if lang == "de" else "Tuesday afternoon"))
    await call(HELLO[lang])
    await call(offer)
    reply = await call(taken_back)
    assert ("16 Uhr" if lang == "de" else "4 pm") in reply
    await call("Gut, bis Dienstag, tschüss." if lang == "de" else "Great, see you then. Bye.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-24T16:00"


@pytest.mark.parametrize(
    ("lang", "offer", "booked"),
    [
        ("en", "We only do cleanings on Thursdays. Thursday at 2 would work.", "Yes, booked. Bye."),
        ("en", "Thursday at 2 is what I can do, we're busy all week.", "Okay, I've put him in. Take care!"),
        (
            "de",
            "Reinigungen machen wir nur donnerstags. Donnerstag um 14 Uhr ginge.",
            "Ja, ist eingetragen. Tschüss.",
        ),
    ],
)
async def test_booked_and_bye_after_lisa_asked_for_better_is_the_offer_said_back(lang, offer, booked):
    call = Call(lang, cleaning(lang, "Dienstag nachmittag" if lang == "de" else "Tuesday afternoon"))
    await call(HELLO[lang])
    await call(offer)
    reply = await call(booked)
    assert ("14 Uhr" if lang == "de" else "2 pm") in reply and call.conv.end_requested
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-26T14:00"
