"""The rule brain on how people really talk (issue 10, classes 7-11), inbound and chat, en + de, through the Engine:
a new request is not a "yes", a message about an existing appointment is not a booking, no reply three times
in a row, fillers and self-corrections, and names heard unsure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.calendar import InMemoryCalendar

TZ = ZoneInfo("Europe/Berlin")
MONDAY_9 = "2026-11-23T09:00:00+01:00"


@pytest.fixture
def calendar():
    return InMemoryCalendar()


@pytest.fixture
def engine(calendar):
    return rule_engine(ManualClock(MONDAY_9), calendar)


async def bookings(calendar) -> list:
    return await calendar.bookings_between(
        datetime(2026, 11, 23, tzinfo=TZ), datetime(2026, 12, 20, tzinfo=TZ)
    )


# ---------------------------------------------------------------- class 7: a new request is not a "yes"
@pytest.mark.parametrize(
    ("mode", "lang", "misses", "ask", "name", "slot"),
    [
        ("inbound", "en", ["asdf qwer", "blorp"], "Okay, then book me for Friday at nine", "Ann Lee", "2026-11-27T09:00"),
        ("chat", "en", ["xyz", "hmpf"], "Yes — actually, can I get an appointment Thursday at 2 pm?", "Bo Kim", "2026-11-26T14:00"),
        ("chat", "de", ["xyz", "blubb"], "Ja, dann buchen Sie mich für Freitag um neun", "Eva Roth", "2026-11-27T09:00"),
        ("chat", "de", ["qwertz", "asdf"], "Okay, ich hätte gern einen Termin am Mittwoch um 11 Uhr", "Jan Falk", "2026-11-25T11:00"),
    ],
)  # fmt: skip
async def test_a_new_request_after_an_offer_to_transfer_is_that_request(
    engine, mode, lang, misses, ask, name, slot
):
    t = await talk(engine, mode, lang)
    for miss in misses:
        await t(miss)
    assert ("colleague" in t.said[-1]) or ("Mitarbeiter" in t.said[-1])  # the transfer offer
    reply = await t(ask)
    assert t.conv.transfer_to is None and t.outcome["status"] == "open"
    assert "name" in reply.lower()
    await t(name)
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == slot


async def test_a_plain_yes_to_the_transfer_offer_still_transfers_and_a_no_with_a_question_is_answered(engine):
    t = await talk(engine, "inbound")
    await t("asdf qwer")
    await t("blorp")
    await t("yes please")
    assert t.outcome["status"] == "transferred"
    t = await talk(engine, "inbound")
    await t("asdf qwer")
    await t("blorp")
    reply = await t("No, but when are you open on Saturday?")
    assert "closed" in reply and t.conv.transfer_to is None


# ---------------------------------------------------------------- class 8: passing a message is not booking
@pytest.mark.parametrize(
    ("mode", "lang", "first", "name", "phone", "to"),
    [
        ("inbound", "en", "I won't make my appointment on Thursday, please tell Ms. Lang", "Tom Baker", "0171 2345678", "Ms. Lang"),
        ("inbound", "en", "Hi, I'm running late for my 3 o'clock, can you let Dr. Park know?", "Sue Hill", "030 555 1234", "Dr. Park"),
        ("chat", "en", "I can't make it to my appointment tomorrow at 10, could you pass that on?", "Max Cole", "+44 20 7946 0018", "the team"),
        ("chat", "en", "Please cancel my session on Friday at four, something came up.", "Liz Ward", "0160 9876543", "the team"),
        ("chat", "de", "Können Sie Frau Lang ausrichten, dass ich meinen Termin am Donnerstag nicht schaffe", "Jonas Weber", "0171 2345678", "Frau Lang"),
        ("chat", "de", "Ich muss meinen Termin morgen um 15 Uhr leider absagen.", "Eva Roth", "030 1234567", "das Team"),
        ("chat", "de", "Sagen Sie bitte Herrn Berg, ich komme zu meinem Termin um drei zehn Minuten später.", "Ali Can", "0151 1112223", "Herrn Berg"),
    ],
)  # fmt: skip
async def test_a_message_about_an_existing_appointment_is_taken_never_booked(
    engine, calendar, mode, lang, first, name, phone, to
):
    t = await talk(engine, mode, lang)
    reply = await t(first)
    assert "name" in reply.lower() and to in reply
    assert not any(w in reply for w in ("free", "frei", "How about", "Wie wäre", "could offer", "hätte ich"))
    reply = await t(f"My name is {name}" if lang == "en" else f"Mein Name ist {name}")
    assert name in reply and t.outcome["status"] == "message_taken"
    assert "number" in reply.lower() or "Nummer" in reply  # the callback number is asked for
    reply = await t(phone)
    assert phone in reply and phone in t.outcome["summary"] and name in t.outcome["summary"]
    assert t.conv.slots["message"]["phone"] == phone
    assert await bookings(calendar) == [] and t.outcome["appointment"] is None


async def test_no_number_or_a_goodbye_after_the_message_is_fine(engine):
    t = await talk(engine, "inbound")
    await t("I'd like to leave a message")
    await t("Please tell the team that I will be ten minutes late today.")
    await t("My name is Anna Miller.")
    assert "goodbye" in (await t("No, thank you. Bye.")).lower()
    assert t.outcome["status"] == "message_taken" and t.conv.end_requested
    de = await talk(engine, "chat", "de")
    await de("Richten Sie Dr. Sommer bitte aus, dass ich den Befund mitbringe.")
    await de("Ich bin Paula Brandt")
    assert "Kann ich sonst noch" in await de("Die Nummer haben Sie ja.")
    assert de.outcome["status"] == "message_taken" and "Paula Brandt" in de.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I'd like to book an appointment for Friday at 10 am"),
        ("en", "I'm late for work, can I book Friday at 10 am?"),
        ("de", "Ich möchte einen Termin am Freitag um 10 Uhr"),
    ],
)
async def test_asking_for_a_new_appointment_still_books(engine, lang, text):
    t = await talk(engine, "chat", lang)
    await t(text)
    await t("Ann Lee")
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == "2026-11-27T10:00"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I'd like to reschedule my appointment from Thursday to Friday at 10"),
        ("en", "Can I move my appointment to next week?"),
        ("de", "Ich möchte einen Termin absagen, den am Freitag um 10."),
        ("de", "Kann ich meinen Termin am Donnerstag auf Freitag verschieben?"),
    ],
)
async def test_cancelling_or_moving_an_appointment_is_passed_on(engine, calendar, lang, text):
    t = await talk(engine, "chat", lang)
    reply = await t(text)
    assert "name" in reply.lower()
    await t("Ann Lee")
    assert t.outcome["status"] == "message_taken" and await bookings(calendar) == []


# ---------------------------------------------------------------- class 9: loops
@pytest.mark.parametrize(
    ("lang", "start", "chatter", "way_out"),
    [
        ("en", "I'd like an appointment on friday afternoon", ["what about the weather", "nice weather", "my dog is called Rex"], "take a message"),
        ("de", "Ich möchte einen Termin am Freitag nachmittags", ["wie ist das Wetter", "schönes Wetter", "mein Hund heißt Rex"], "Nachricht"),
    ],
)  # fmt: skip
async def test_never_the_same_reply_three_times(engine, lang, start, chatter, way_out):
    t = await talk(engine, "inbound" if lang == "en" else "chat", lang)
    await t(start)
    for text in chatter:
        await t(text)
    replies = t.said
    assert replies[1] == replies[0]  # the brain repeats its offer once...
    assert replies[2] != replies[1] and way_out in replies[2]  # ...then rephrases with a way out
    assert replies[3] not in replies[:3] and way_out in replies[3]  # ...then offers the way out
    reply = await t("a message please" if lang == "en" else "eine Nachricht bitte")
    assert "pass on" in reply or "ausrichten" in reply


async def test_repeated_noise_is_not_answered_the_same_way_three_times(engine):
    t = await talk(engine, "inbound")
    for _ in range(5):
        await t("...")
    for a, b, c in zip(t.said, t.said[1:], t.said[2:], strict=False):
        assert not (a == b == c)


async def test_after_the_way_out_a_booking_request_still_books(engine):
    t = await talk(engine, "inbound")
    for text in ["I'd like an appointment on friday afternoon", "hm weather", "nice weather", "my dog"]:
        await t(text)
    await t("Okay, book me for Friday at 3 pm then")
    await t("Ann Lee")
    assert t.outcome["appointment"] == "2026-11-27T15:00"


# ---------------------------------------------------------------- class 10: fillers and self-corrections
@pytest.mark.parametrize(
    ("lang", "ask", "fillers", "name", "slot"),
    [
        ("en", "Book me Thursday at ten please", ["Hang on.", "uh, let me think", "one sec"], "Joe Park", "2026-11-26T10:00"),
        ("en", "appointment friday at 9", ["Hold on a second", "Um... wait a moment"], "Mia Stone", "2026-11-27T09:00"),
        ("de", "Termin am Donnerstag um zehn bitte", ["Moment mal", "äh, Sekunde", "Lassen Sie mich kurz überlegen"], "Eva Roth", "2026-11-26T10:00"),
    ],
)  # fmt: skip
async def test_fillers_while_asked_for_the_name_are_never_names(
    engine, calendar, lang, ask, fillers, name, slot
):
    t = await talk(engine, "inbound" if lang == "en" else "chat", lang)
    assert "name" in (await t(ask)).lower()
    for filler in fillers:
        reply = await t(filler)
        assert (
            "take your time" in reply.lower() or "Zeit" in reply or "still here" in reply or "Eile" in reply
        )
        assert t.outcome["status"] == "open"
    await t(name)
    assert t.outcome["appointment"] == slot and [b.name for b in await bookings(calendar)] == [name]


async def test_a_filler_before_the_name_is_dropped(engine, calendar):
    t = await talk(engine, "inbound")
    await t("appointment friday at 11")
    await t("Uh, hang on, it's Joe Park")
    assert [b.name for b in await bookings(calendar)] == ["Joe Park"]


@pytest.mark.parametrize(
    ("lang", "turns", "slot"),
    [
        ("en", ["Thursday at ten — no, rather Friday at ten"], "2026-11-27T10:00"),
        ("en", ["Can I come Thursday at ten? No wait, Friday at ten is better"], "2026-11-27T10:00"),
        ("en", ["I'd like Thursday at 10", "Sorry, actually Wednesday instead"], "2026-11-25T10:00"),
        ("en", ["book me friday at nine", "no, sorry, I mean at eleven"], "2026-11-27T11:00"),
        ("de", ["Donnerstag um zehn, ach nein, lieber Freitag um zehn"], "2026-11-27T10:00"),
        ("de", ["Einen Termin am Donnerstag um 10 bitte", "Entschuldigung, doch lieber Mittwoch"], "2026-11-25T10:00"),
        ("de", ["Freitag um neun, nein, um elf"], "2026-11-27T11:00"),
    ],
)  # fmt: skip
async def test_a_self_correction_replaces_the_slot(engine, lang, turns, slot):
    t = await talk(engine, "chat", lang)
    for text in turns:
        reply = await t(text)
    assert "name" in reply.lower()
    await t("Kim Lee")
    assert t.outcome["appointment"] == slot and "Kim Lee" in t.outcome["summary"]


def test_fillers_and_corrections_in_the_parser():
    assert nlu.strip_fillers("Hang on.") == "" and nlu.strip_fillers("Moment mal") == ""
    assert nlu.strip_fillers("uh, let me think") == "" and nlu.strip_fillers("one sec") == ""
    assert nlu.strip_fillers("Er kommt später") == "Er kommt später"  # German "he", not a filler
    assert (
        nlu.strip_fillers("Uh-huh") == "Uh-huh" and nlu.strip_fillers("Please") == "Please"
    )  # answers, not fillers
    assert nlu.strip_fillers("Ähm, Moment, Freitag um zehn") == "Freitag um zehn"
    now = datetime(2026, 11, 23, 9, tzinfo=TZ)
    when = nlu.parse_when_corrected("Friday at 10 instead of Thursday at 10", now, "en")
    assert when.day.isoformat() == "2026-11-27"


# ---------------------------------------------------------------- class 11: names heard unsure
def words(text: str, unsure: set[str], low: float = 0.35) -> list[tuple[str, float]]:
    return [(w, low if w.strip(".,").lower() in unsure else 0.93) for w in text.split()]


async def test_a_name_heard_unsure_is_spelled_back_and_a_spelled_correction_taken(engine, calendar):
    t = await talk(engine, "inbound")
    await t("I'd like an appointment on Friday at ten")
    reply = await t("Joe Park", words("Joe Park", {"park"}))
    assert "Joe Park — P-A-R-K, is that right?" in reply and t.outcome["status"] == "open"
    reply = await t("No, it's Clark, C-L-A-R-K", words("No, it's Clark, C-L-A-R-K", {"clark"}))
    assert "Joe Clark" in reply and t.outcome["status"] == "booked"
    assert [b.name for b in await bookings(calendar)] == ["Joe Clark"]
    assert t.conv.history[-2].meta["words"][2] == ["Clark,", 0.35]  # the engine keeps the words


async def test_a_yes_confirms_the_name_and_a_bare_surname_corrects_it(engine, calendar):
    t = await talk(engine, "inbound")
    await t("My name is Joe Park, appointment Thursday at 9 please", words("My name is Joe Park,", {"park"}))
    assert "P-A-R-K" in t.said[-1] and "is free" in t.said[-1]
    assert "Joe Park" in await t("Yes, that's right", words("Yes, that's right", set()))
    t2 = await talk(engine, "inbound")
    await t2("appointment Thursday at 11")
    await t2("It's Joe Park.", words("It's Joe Park.", {"joe", "park"}))
    reply = await t2("Clark", [("Clark", 0.4)])  # heard unsure again: asked again
    assert "Joe Clark — C-L-A-R-K, is that right?" in reply
    await t2("yes", [("yes", 0.98)])
    assert sorted(b.name for b in await bookings(calendar)) == ["Joe Clark", "Joe Park"]


async def test_a_bare_no_asks_for_the_spelling_in_german_too(engine, calendar):
    t = await talk(engine, "chat", "de")
    await t("Termin am Freitag um zehn")
    reply = await t("Mein Name ist Jo Park", words("Mein Name ist Jo Park", {"jo", "park"}))
    assert "Jo Park – P-A-R-K, richtig?" in reply
    assert "buchstabieren" in await t("Nein", [("Nein", 0.9)])
    assert "Jo Parker" in await t("P, A, R, K, E, R", words("P, A, R, K, E, R", set()))
    assert [b.name for b in await bookings(calendar)] == ["Jo Parker"]


async def test_names_heard_sure_or_typed_are_taken_as_they_are(engine, calendar):
    t = await talk(engine, "inbound")
    await t("appointment Friday at 2 pm")
    await t("Joe Park", words("Joe Park", set()))
    chat = await talk(engine, "chat")
    await chat("appointment Friday at 3 pm")
    await chat("Jo Prk")
    assert sorted(b.name for b in await bookings(calendar)) == ["Jo Prk", "Joe Park"]


async def test_a_message_name_heard_unsure_is_confirmed_too(engine):
    t = await talk(engine, "inbound")
    await t("Please tell Dr. Park I'll be ten minutes late")
    assert "P-A-R-K-S" in await t("Ben Parks", words("Ben Parks", {"parks"}))
    reply = await t("no, Marks, M-A-R-K-S")
    assert "Ben Marks" in reply and t.conv.slots["message"]["name"] == "Ben Marks"
    assert nlu.NAME_CONFIDENCE == 0.6


# ---------------------------------------------------------------- classes 7 and 9: after the way out
@pytest.mark.parametrize(
    ("mode", "lang", "ask", "answer"),
    [
        ("inbound", "en", "A message, please.", "What would you like me to pass on?"),
        ("chat", "en", "message please", "What would you like me to pass on?"),
        ("chat", "de", "Eine Nachricht, bitte.", "Was darf ich ausrichten?"),
    ],
)
async def test_a_short_message_request_asks_for_the_message_and_is_none(engine, mode, lang, ask, answer):
    """The answer to Lisa's way out ("… or I can take a message") while slots are on the table is a request
    for a message, not the message itself and not ignored."""
    t = await talk(engine, mode, lang)
    await t("Ich hätte gern einen Termin am Donnerstag vormittags." if lang == "de" else "Thursday morning?")
    reply = await t(ask)
    assert answer in reply
    await t(
        "Sagen Sie der Therapeutin, mein Knie ist schlimmer."
        if lang == "de"
        else "Tell her my knee is worse."
    )
    await t("Max Roth")
    assert "message" not in str(t.conv.slots.get("message", {}).get("message", "")).lower()
    assert "knie" in str(t.conv.slots).lower() or "knee" in str(t.conv.slots).lower()


@pytest.mark.parametrize(
    ("lang", "story"),
    [
        ("en", "My dog pulled me over on the ice yesterday."),
        ("en", "I fell off my bike last week, you know."),
        ("de", "Ich bin gestern auf dem Eis ausgerutscht."),
    ],
)
async def test_a_story_about_a_past_day_is_no_wish_for_that_day(engine, lang, story):
    """Small talk about yesterday while an offer is on the table (class 9) is not a request for a past day."""
    t = await talk(engine, "inbound" if lang == "en" else "chat", lang)
    await t("Ich hätte gern einen Termin am Donnerstag vormittags." if lang == "de" else "Thursday morning?")
    reply = await t(story)
    assert "already passed" not in reply and "schon vorbei" not in reply
    if lang == "en":  # asking for a past day still gets the honest answer
        assert "already passed" in await t("Can I come yesterday?")


@pytest.mark.parametrize(
    ("lang", "wish", "again", "slot"),
    [
        ("de", "Ich bräuchte nächsten Dienstag vormittags einen Termin.", "Dann buchen Sie mir Dienstag um zehn.", "2026-12-01T10:00"),
        ("en", "Do you have anything next Thursday afternoon?", "Okay, Thursday at three then.", "2026-12-03T15:00"),
        ("en", "Do you have anything next Thursday afternoon?", "Actually, this Thursday at three.", "2026-11-26T15:00"),
    ],
)  # fmt: skip
async def test_a_bare_weekday_means_the_date_being_talked_about(engine, lang, wish, again, slot):
    """ "Tuesday at ten" after talking about next Tuesday is next Tuesday, not tomorrow; "this Thursday" says
    which week itself."""
    t = await talk(engine, "chat", lang)
    await t(wish)
    await t(again)
    await t("Klara Vogt")
    assert t.outcome["appointment"] == slot


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("Zero one seven six, five five four four, three three two.", "01765544332"),
        ("null eins sieben sechs fünf fünf vier vier", "01765544"),
        ("It's 0176 4455667.", "0176 4455667"),
        ("I have one or two questions.", None),
    ],
)
def test_phone_numbers_said_digit_by_digit(text, digits):
    assert nlu.extract_phone(text) == digits
