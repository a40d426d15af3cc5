"""The rule brain on inbound calls and chats, in English and German, driven through the Engine."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine, talk

from agent.calendar import Booking, InMemoryCalendar
from agent.conversation import Status

TZ = ZoneInfo("Europe/Berlin")
MONDAY_9 = "2026-11-23T09:00:00+01:00"


@pytest.fixture
def calendar():
    return InMemoryCalendar()


@pytest.fixture
def engine(calendar):
    return rule_engine(ManualClock(MONDAY_9), calendar)


async def test_greeting_names_lisa_and_the_business(engine):
    assert (
        await Talk(engine, "inbound").open()
        == "Hello, this is Lisa from Parkside Physiotherapy. How can I help you?"
    )
    assert await Talk(engine, "chat", "de").open() == (
        "Hallo, hier ist Lisa von Parkside Physiotherapy. Wie kann ich Ihnen helfen?"
    )


async def test_booking_asks_for_what_is_missing_then_confirms_with_name_and_time(engine, calendar):
    t = await talk(engine)
    assert "which day and time" in (await t("Hi, I'd like to make an appointment")).lower()
    reply = await t("tomorrow")
    assert reply.startswith("On Tuesday, November 24 I could offer 8 am")
    reply = await t("at 4")
    assert "Tuesday, November 24 at 4 pm is free" in reply and "name" in reply
    reply = await t("jo march")
    assert "Jo March" in reply and "Tuesday, November 24 at 4 pm" in reply and "anything else" in reply
    assert t.status is Status.BOOKED
    assert t.conv.outcome.as_dict()["appointment"] == "2026-11-24T16:00"
    assert (
        await calendar.bookings_between(datetime(2026, 11, 24, tzinfo=TZ), datetime(2026, 11, 25, tzinfo=TZ))
    )[0].name == "Jo March"
    assert "goodbye" in (await t("no thanks, bye")).lower()
    assert t.conv.end_requested and t.status is Status.BOOKED


async def test_everything_in_one_message(engine):
    t = await talk(engine)
    reply = await t("Hello, my name is Ann Lee and I'd like to book a massage on December 2nd at 9:30")
    assert "Ann Lee" in reply and "Wednesday, December 2 at 9:30" in reply
    assert t.conv.slots["booked"]["service"] == "massage"


async def test_taken_slot_gets_the_nearest_alternative(engine, calendar):
    await calendar.add(
        Booking(
            datetime(2026, 11, 25, 15, tzinfo=TZ),
            datetime(2026, 11, 25, 15, 30, tzinfo=TZ),
            "X",
            "appointment",
        )
    )
    t = await talk(engine)
    reply = await t("can I book an appointment on wednesday at 3 pm")
    assert "already taken" in reply and "How about Wednesday, November 25 at 3:30 pm?" in reply
    assert "name" in (await t("yes please")).lower()
    await t("Ann Lee")
    assert t.conv.outcome.as_dict()["appointment"] == "2026-11-25T15:30"


async def test_closed_day_gets_an_alternative_and_no_means_ask_again(engine):
    t = await talk(engine)
    reply = await t("can I come saturday at 10")
    assert "closed on Saturday" in reply and "How about Friday, November 27 at 10 am?" in reply
    assert "other day" in await t("no")
    reply = await t("what about thursday")
    assert reply.startswith("On Thursday, November 26 I could offer")
    reply = await t("10.30")  # how Whisper writes it
    assert "Thursday, November 26 at 10:30 is free" in reply


async def test_after_hours_and_past_are_refused(engine):
    t = await talk(engine)
    reply = await t("I need an appointment today at 7 pm")
    assert "closed at that time" in reply and "How about" in reply
    t = await talk(engine)
    reply = await t("book me in for today at 8")
    assert "already passed" in reply and "How about Monday, November 23" in reply
    t = await talk(engine)
    assert "already passed" in await t("an appointment yesterday please")
    assert t.status is Status.OPEN


async def test_two_callers_never_get_the_same_slot(engine):
    first, second = await talk(engine), await talk(engine)
    await first("appointment on friday at 11, my name is Ann Lee")
    reply = await second("appointment on friday at 11, my name is Bob Ray")
    assert first.status is Status.BOOKED and second.status is Status.OPEN
    assert "already taken" in reply


async def test_german_booking_with_window(engine):
    t = await talk(engine, lang="de")
    reply = await t("Ich hätte gern einen Termin nächste Woche Dienstag vormittags")
    assert reply.startswith("Am Dienstag, 1. Dezember hätte ich 8 Uhr")
    reply = await t("um halb elf")
    assert "Dienstag, 1. Dezember um 10:30 Uhr ist frei" in reply
    reply = await t("Erika Musterfrau")
    assert "Danke, Erika Musterfrau" in reply and "gebucht" in reply
    assert t.conv.outcome.summary.startswith(
        "Termin gebucht für Erika Musterfrau am Dienstag, 01.12., 10:30 Uhr"
    )
    assert "Wiedersehen" in await t("danke, das war's")
    assert t.conv.end_requested


async def test_opening_hours_and_faq(engine):
    t = await talk(engine, "inbound")
    reply = await t("Hi, when are you open on Saturday?")
    assert reply.startswith("On Saturday we're closed.") and "Monday to Friday from 8 am to 6 pm" in reply
    assert "free parking" in await t("where can I park?")
    assert "forty five euros" in await t("how much does a session cost")
    await t("Okay, thanks. That's all, bye.")
    assert t.status is Status.ANSWERED and t.conv.end_requested

    de = await talk(engine, lang="de")
    assert "Am Dienstag haben wir von 8 bis 18 Uhr geöffnet" in await de("Haben Sie morgen offen?")
    assert "Krankenkasse" in await de("Nehmen Sie auch Privatversicherte? Was kostet das?")


async def test_honest_about_being_an_ai(engine):
    for lang, text, expected in [
        ("en", "wait, are you a robot?", "I'm Lisa, an AI assistant"),
        ("en", "am I talking to a real person", "I'm Lisa, an AI assistant"),
        ("de", "Bin ich mit einem Menschen verbunden?", "Ich bin Lisa, eine KI-Assistentin"),
    ]:
        t = await talk(engine, "inbound", lang)
        reply = await t(text)
        assert expected in reply and "language model" not in reply
        assert t.status is Status.OPEN and t.conv.transfer_to is None


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "can I talk to a person please"),
        ("en", "real person"),
        ("en", "human"),
        ("en", "0"),
        ("de", "Ich möchte mit einem Mitarbeiter sprechen"),
        ("de", "Mitarbeiter bitte"),
    ],
)
async def test_transfer_to_a_human(engine, lang, text):
    t = await talk(engine, "inbound", lang)
    reply = await t(text)
    assert t.status is Status.TRANSFERRED
    assert t.conv.transfer_to == "+49 30 5550199"
    assert ("colleague" in reply) if lang == "en" else ("Mitarbeiter" in reply)
    assert t.conv.events[-1].type == "transfer_requested"


async def test_not_understood_twice_offers_a_human(engine):
    t = await talk(engine, "inbound")
    assert "didn't quite get that" in await t("asdf qwer")
    assert "put you through" in await t("blorp")
    await t("yes")
    assert t.status is Status.TRANSFERRED


async def test_take_a_message(engine):
    t = await talk(engine, "inbound")
    assert "pass on" in await t("I'd like to leave a message")
    assert "name" in await t("Please tell Dr. Park that my knee is much better")
    reply = await t("Tom Baker")
    assert "Tom Baker" in reply and t.status is Status.MESSAGE_TAKEN
    assert (
        t.conv.outcome.summary == "Message from Tom Baker: Please tell Dr. Park that my knee is much better"
    )

    de = await talk(engine, lang="de")
    await de("Ich möchte eine Nachricht hinterlassen")
    reply = await de("Mein Name ist Hans Meier, bitte sagen Sie, dass ich später komme")
    assert "Hans Meier" in reply and de.status is Status.MESSAGE_TAKEN
    assert de.conv.slots["message"]["message"] == "bitte sagen Sie, dass ich später komme"


async def test_request_a_callback(engine):
    t = await talk(engine, "inbound")
    assert "Which number" in await t("can you call me back please")
    reply = await t("it's +49 171 2345678")
    assert "+49 171 2345678" in reply and t.status is Status.CALLBACK_REQUESTED
    de = await talk(engine, lang="de")
    await de("Rückruf bitte unter 0171 2345678 morgen vormittag")
    assert de.status is Status.CALLBACK_REQUESTED and "morgen vormittag" in de.conv.outcome.summary


async def test_goodbye_without_anything_is_abandoned(engine):
    t = await talk(engine, "inbound")
    assert "goodbye" in (await t("bye")).lower()
    assert t.status is Status.ABANDONED and t.conv.end_requested
    assert await t("hello?") == ""  # nothing more after the end


@pytest.mark.parametrize("heard", ["Perfect. Thanks, by perfect.", "okay thank you by now", "alright, by"])
async def test_goodbye_as_speech_recognition_writes_it_ends_the_call(engine, heard):
    """Whisper often hears "bye" as "by"; after an answer that is still a goodbye."""
    t = await talk(engine, "inbound")
    await t("is there parking near you?")
    assert "goodbye" in (await t(heard)).lower()
    assert t.status is Status.ANSWERED and t.conv.end_requested


@pytest.mark.parametrize("text", ["", "   ", "...", "?!", "ähm " * 400])
async def test_empty_garbled_or_overlong_input_gets_a_request_to_repeat(engine, text):
    t = await talk(engine, "inbound")
    reply = await t(text)
    assert reply and ("again" in reply or "briefly" in reply or "didn't" in reply)
    assert t.status is Status.OPEN and not t.conv.end_requested


@pytest.mark.parametrize(
    "text",
    [
        "lkjh 1234 ???",
        "appointment appointment appointment 99:99",
        "book on the 31st of february at 25 o'clock",
        "my name is",
        "call me back",
        "Termin am 45. Dezember um halb 99",
        "\x00\x01 book",
        "😀😀😀",
    ],
)
async def test_odd_input_never_raises(engine, text):
    t = await talk(engine, "inbound")
    assert await t(text)
    assert await t("bye")


async def test_picking_one_of_the_offered_times(engine):
    t = await talk(engine, "inbound")
    reply = await t("do you have anything free on thursday afternoon")
    assert reply == "On Thursday, November 26 I could offer 12 noon, 3 pm or 5:30 pm. Which time suits you?"
    assert "name" in await t("the last one")
    await t("Sam Green")
    assert t.conv.outcome.as_dict()["appointment"] == "2026-11-26T17:30"
    de = await talk(engine, lang="de")
    await de("Termin am Freitag bitte")
    await de("den ersten")
    await de("Mein Name ist Eva Braun-Schulz")
    assert de.conv.outcome.as_dict()["appointment"] == "2026-11-27T08:00"
    assert "Eva Braun-Schulz" in de.conv.outcome.summary


async def test_services_question(engine):
    t = await talk(engine, "inbound")
    reply = await t("what services do you offer")
    assert reply.startswith("We offer physiotherapy session, initial assessment, massage and sports therapy")
    de = await talk(engine, lang="de")
    assert "Massage" in await de("Welche Leistungen bieten Sie an?")


async def test_message_in_one_go_even_when_it_mentions_an_appointment(engine):
    de = await talk(engine, lang="de")
    reply = await de(
        "Ich möchte eine Nachricht hinterlassen: ich komme morgen zehn Minuten später zu meinem Termin. "
        "Mein Name ist Paul Klee."
    )
    assert "Paul Klee" in reply and de.status is Status.MESSAGE_TAKEN
    assert de.conv.slots["message"]["message"] == "ich komme morgen zehn Minuten später zu meinem Termin"
    en = await talk(engine, "inbound")
    assert "name" in await en(
        "I'd like to leave a message for Dr. Park: my appointment on friday has to be moved"
    )
    await en("Anna Berg")
    assert en.status is Status.MESSAGE_TAKEN and "has to be moved" in en.conv.outcome.summary


async def test_goodbye_in_the_middle_of_a_booking_ends_without_booking(engine, calendar):
    t = await talk(engine, "inbound")
    await t("I'd like an appointment on friday")
    assert "goodbye" in (await t("never mind, bye")).lower()
    assert t.conv.end_requested and t.status is Status.ABANDONED
    assert (
        await calendar.bookings_between(datetime(2026, 11, 27, tzinfo=TZ), datetime(2026, 11, 28, tzinfo=TZ))
        == []
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "let me speak to the manager"),
        ("de", "Kann ich bitte mit jemandem sprechen?"),
        ("en", "operator"),
    ],
)
async def test_more_ways_to_ask_for_a_person(engine, lang, text):
    t = await talk(engine, "inbound", lang)
    await t(text)
    assert t.status is Status.TRANSFERRED


async def test_a_phone_number_given_while_booking_is_stored(engine, calendar):
    t = await talk(engine, "inbound")
    await t("appointment on friday at 9 please, I'm Ann Lee, my number is 0171 2345678")
    assert t.status is Status.BOOKED
    booking = (
        await calendar.bookings_between(datetime(2026, 11, 27, tzinfo=TZ), datetime(2026, 11, 28, tzinfo=TZ))
    )[0]
    assert booking.phone == "0171 2345678" and booking.name == "Ann Lee"
