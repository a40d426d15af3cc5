"""The rule brain on outbound booking calls (seed 002): Lisa calls a business on behalf of a user."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine

from agent.conversation import BookingRequest, Status
from agent.rule_nlu import callee_name, purpose, spoken_preference

CLOCK = "2026-11-23T09:15:00+01:00"  # Monday


def dentist(lang: str = "en") -> BookingRequest:
    de = lang == "de"
    return BookingRequest(
        request_id="3f0c7c1e",
        user_id="9b2d4c8e",
        title="Zahnarzttermin buchen" if de else "Book a dental cleaning",
        description="Ich brauche einen Termin für eine Zahnreinigung"
        if de
        else "I need an appointment for a dental cleaning",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 7654321",
        preferred_time="nächste Woche, Montag 10-12 Uhr" if de else "next week, Monday 10-12",
        user_profile={
            "username": "Max Mustermann",
            "street": "Musterstraße",
            "house_number": "123",
            "city": "Berlin",
        },
    )


def in_the_wished_week(day: date) -> date:
    """A weekday the business says plainly, as Lisa reads it against :func:`dentist`'s wish ("next week,
    Monday 10-12"): that weekday of next week (today stays today)."""
    return day if day <= date(2026, 11, 23) else day + timedelta(days=7)


class Call(Talk):
    """An outbound call about ``request`` (the dentist's by default), on a fresh engine at ``CLOCK``."""

    def __init__(self, lang: str = "en", request: BookingRequest | None = None) -> None:
        super().__init__(rule_engine(ManualClock(CLOCK)), "outbound", lang, request or dentist(lang))


async def test_lisa_waits_for_the_callee_then_introduces_herself():
    call = Call()
    assert await call.engine.reply(call.conv, None) == ""
    intro = await call("Good morning, Miller dental practice, how can I help you?")
    assert intro == (
        "Hello, this is Lisa. I'm calling on behalf of Max Mustermann. I'd like to book an appointment for a "
        "dental cleaning — would next week, Monday between 10 and 12 work?"
    )
    assert call.conv.slots["callee"] == "Miller dental practice"


async def test_offer_that_fits_is_accepted_and_the_confirmation_books():
    call = Call()
    await call("Good morning, Miller dental practice, how can I help you?")
    assert "would be great" in await call("let me check next monday at half past ten would be free")
    assert await call("and the name of the patient please") == "The name is Max Mustermann."
    assert call.status is Status.OPEN  # nothing is booked before the business confirms
    reply = await call("Alright, Monday at ten thirty. See you then, goodbye.")
    assert "Goodbye" in reply and call.conv.end_requested
    assert call.status is Status.BOOKED
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-30T10:30"
    assert [e.type for e in call.conv.events] == ["booking_in_progress", "booking_confirmed"]


async def test_offer_outside_the_preferred_time_gets_a_counter_request_then_an_alternative():
    call = Call()
    await call("Miller dental, hello?")
    reply = await call("We could do Monday at 3 pm.")
    assert "doesn't suit Max Mustermann" in reply and "Monday between 10 and 12" in reply
    assert "Monday, November 30 at 11 am would be great" in await call("Hmm, Monday at 11 then?")
    assert (
        await call("And a phone number where we can reach him?") == "The callback number is +49 30 1234567."
    )
    reply = await call("Okay, I've put him down for Monday at 11. Anything else?")
    assert "that's all" in reply
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-30T11:00"
    assert "goodbye" in (await call("Bye")).lower() and call.conv.end_requested
    assert call.status is Status.BOOKED


async def test_when_nothing_fits_the_nearest_reasonable_offer_is_accepted():
    call = Call()
    await call("Hello, Dr. Smith's office.")
    assert "doesn't suit" in await call("We could do Tuesday at 9.")
    # the wish names next week: "Tuesday" is next week's (the business looks at the week it was asked for)
    assert "Tuesday, December 1 at 9 am works too" in await call("No, nothing on Monday, sorry.")
    await call("ok great see you then")
    assert call.status is Status.BOOKED and call.conv.outcome.as_dict()["appointment"] == "2026-12-01T09:00"


async def test_fully_booked_fails_politely_and_lisa_ends_after_the_goodbye():
    request = dentist()
    request.title, request.description = "Haircut appointment", "Men's haircut, about 30 minutes"
    request.preferred_time = "this Friday afternoon"
    call = Call(request=request)
    assert "Friday" in await call("Salon Schmidt, hello?")
    reply = await call("I'm sorry, we are fully booked this week. Please call again next week.")
    assert reply == "I understand, nothing is free on Friday. Thank you, I'll let Max Mustermann know."
    assert call.status is Status.FAILED and not call.conv.end_requested
    await call("Yes, bye.")
    assert call.conv.end_requested and call.status is Status.FAILED


async def test_call_back_later_waits_for_callback():
    call = Call()
    await call("hello")
    reply = await call("Sorry, the doctor is busy, can you call back in an hour?")
    assert reply == "Of course, I'll call back in an hour. Thank you!"
    assert call.status is Status.WAITING_FOR_CALLBACK
    assert "in an hour" in call.conv.outcome.summary
    await call("bye")
    assert call.conv.end_requested and call.status is Status.WAITING_FOR_CALLBACK


async def test_privacy_and_honesty():
    call = Call()
    await call("hi this is the practice")
    assert "AI assistant" in await call("are you a robot?")
    reply = await call("what's his date of birth and address?")
    assert "can't give that out" in reply
    said = " ".join(call.said)
    assert "Musterstraße" not in said and "+49 30 1234567" not in said


async def test_german_outbound_booking():
    call = Call("de")
    intro = await call("Praxis Dr. Müller, guten Tag.")
    assert intro == (
        "Hallo, hier ist Lisa. Ich rufe im Auftrag von Max Mustermann an. Ich hätte gern einen Termin für eine "
        "Zahnreinigung – ginge nächste Woche, Montag zwischen 10 und 12 Uhr?"
    )
    assert "wäre prima" in await call("Nächsten Montag um halb elf hätten wir etwas frei.")
    assert await call("Wie ist der Name des Patienten?") == "Der Name ist Max Mustermann."
    await call("Gut, dann ist der Termin eingetragen. Auf Wiederhören!")
    assert call.status is Status.BOOKED and call.conv.end_requested
    assert call.conv.outcome.summary == "Termin gebucht für Montag, 30.11., 10:30 Uhr bei Praxis Dr. Müller."


async def test_german_no_availability_and_callback():
    call = Call("de")
    await call("Friseur Schmidt, hallo?")
    assert "nichts frei" in await call("Leider sind wir diese Woche komplett ausgebucht.")
    assert call.status is Status.FAILED
    call = Call("de")
    await call("Hallo?")
    assert "noch einmal an" in await call("Bitte rufen Sie später nochmal an, wir haben gerade viel zu tun.")
    assert call.status is Status.WAITING_FOR_CALLBACK


async def test_a_line_that_never_makes_sense_ends_failed():
    call = Call()
    await call("Salon Schmidt, hello?")
    for _ in range(3):
        await call("mmm")
    assert call.conv.end_requested and call.status is Status.FAILED


@pytest.mark.parametrize(
    ("greeting", "name"),
    [
        ("Good morning, Miller dental practice, how can I help you?", "Miller dental practice"),
        ("Salon Schmidt, hello?", "Salon Schmidt"),
        ("Praxis Dr. Müller, guten Tag.", "Praxis Dr. Müller"),
        ("Hello?", None),
        ("hi this is the practice", None),
    ],
)
def test_callee_name(greeting, name):
    assert callee_name(greeting) == name


def test_purpose_and_preference_phrases():
    assert purpose(dentist(), "en") == "an appointment for a dental cleaning"
    assert purpose(dentist("de"), "de") == "einen Termin für eine Zahnreinigung"
    assert spoken_preference("next week, Monday 10-12", "en") == "next week, Monday between 10 and 12"
    assert (
        spoken_preference("nächste Woche, Montag 10-12 Uhr", "de")
        == "nächste Woche, Montag zwischen 10 und 12 Uhr"
    )


async def test_unknown_questions_and_time_only_offers():
    call = Call()
    await call("Miller dental practice, good morning.")
    assert "don't know" in await call("Is he a new patient with us?")
    reply = await call("We'd have 11:30 free.")  # no day: the preferred Monday is meant
    assert "Monday, November 30 at 11:30 would be great" in reply
    await call("Great, that's booked then.")
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-30T11:30"
    assert "that's all" in await call("Anything else I can do for you?")


async def test_asap_preference_takes_the_first_offer():
    request = dentist()
    request.preferred_time = "ASAP"
    call = Call(request=request)
    intro = await call("Miller dental practice.")
    assert "a dental cleaning, as soon as possible — when would you have time?" in intro
    assert "would be great" in await call("Tomorrow at 8 would be possible.")
    await call("Okay, you're booked. Bye!")
    assert call.status is Status.BOOKED and call.conv.outcome.as_dict()["appointment"] == "2026-11-24T08:00"
    assert call.conv.end_requested


async def test_introduction_talked_over_is_repeated_once():
    """Speech recognition splits "Good morning. Miller dental practice, how can I help you?" into two turns;
    the callee barges into the first introduction, so Lisa introduces herself again, naming the practice."""
    call = Call()
    await call("Good morning.")
    call.engine.heard(call.conv, "Hello,")
    reply = await call("Miller dental practice, how can I help you?")
    assert reply.startswith("Hello, this is Lisa. I'm calling on behalf of Max Mustermann.")
    assert call.conv.slots["callee"] == "Miller dental practice"
    call.engine.heard(call.conv, "Hello, this is")
    assert "would be great" in await call("next monday at half past ten would be free")  # no third intro
    assert await call("All right.") == "Thank you."
    await call("Monday at 10 30. See you then!")
    assert call.conv.outcome.summary.endswith("at Miller dental practice.")


def test_misheard_greetings_are_not_business_names():
    assert callee_name("to launch it.") is None
    assert callee_name("Good morning, another dental practice, how can I help you?") is None
    assert (
        callee_name("salon schmidt hello") is None or callee_name("salon schmidt, hello") == "salon schmidt"
    )
    assert callee_name("miller dental practice, how can I help you") == "miller dental practice"


# --------------------------------------------------------------------------------------------- issue 10 classes


def wish(preferred: str, lang: str = "en") -> BookingRequest:
    request = dentist(lang)
    request.preferred_time = preferred
    return request


@pytest.mark.parametrize(
    ("lang", "offer", "closing", "said_back"),
    [
        (
            "en",
            "We could do Friday at ten.",
            "Lovely, Friday at ten then, bye!",
            "Friday, November 27 at 10 am",
        ),
        (
            "en",
            "Friday at 10 would be free.",
            "Great, see you Friday at 10, bye bye",
            "Friday, November 27 at 10 am",
        ),
        (
            "en",
            "Friday at ten?",
            "Alright, I've put him down for Friday 10am. Goodbye!",
            "Friday, November 27 at 10 am",
        ),
        ("en", "How about Friday at ten?", "Okay, thanks, bye!", "Friday, November 27 at 10 am"),
        (
            "de",
            "Freitag um zehn wäre frei.",
            "Prima, dann Freitag um zehn, tschüss!",
            "Freitag, 27. November um 10 Uhr",
        ),
        (
            "de",
            "Ginge Freitag um 10 Uhr?",
            "Gut, ist eingetragen. Auf Wiederhören!",
            "Freitag, 27. November um 10 Uhr",
        ),
        (
            "de",
            "Freitag um zehn hätten wir.",
            "Alles klar, auf Wiederhören.",
            "Freitag, 27. November um 10 Uhr",
        ),
    ],
)
async def test_confirm_and_goodbye_in_one_breath_is_booked_and_said_back(lang, offer, closing, said_back):
    call = Call(lang, wish("Freitag vormittag" if lang == "de" else "Friday morning", lang))
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    assert said_back in await call(offer)
    last = await call(closing)
    assert call.conv.end_requested and call.status is Status.BOOKED
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-27T10:00"
    assert last.startswith(said_back)


@pytest.mark.parametrize(
    ("lang", "offer", "misheard", "question", "answer", "booked"),
    [
        ("en", "Wednesday at quarter past two?", "Great, Wednesday at two fifty then.", "2:15 pm or 2:50 pm",
         "Quarter past two, sorry.", "2026-11-25T14:15"),
        ("en", "Wednesday at quarter past two?", "Great, Wednesday at two fifty then.", "2:15 pm or 2:50 pm",
         "No, two fifty.", "2026-11-25T14:50"),
        ("en", "Wednesday at three thirty is free.", "Okay, three thirteen on Wednesday.", "3:30 pm or 3:13 pm",
         "The first one.", "2026-11-25T15:30"),
        ("en", "Wednesday at two would work.", "See you Thursday at two then.", "Wednesday, November 25 or Thursday",
         "Wednesday, sorry.", "2026-11-25T14:00"),
        ("de", "Mittwoch um Viertel nach zwei?", "Prima, dann Mittwoch um zehn vor drei.", "14:15 Uhr oder 14:50 Uhr",
         "Viertel nach zwei.", "2026-11-25T14:15"),
    ],
)  # fmt: skip
async def test_a_confirmation_naming_another_time_is_asked_about(
    lang, offer, misheard, question, answer, booked
):
    call = Call(lang, wish("Mittwoch nachmittag" if lang == "de" else "Wednesday afternoon", lang))
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call(offer)
    assert question in await call(misheard)
    assert call.status is Status.OPEN  # nothing unconfirmed is booked
    reply = await call(answer)
    assert call.status is Status.BOOKED and call.conv.outcome.as_dict()["appointment"] == booked
    assert booked[-5:].lstrip("0") in reply.replace(" pm", "").replace(" Uhr", "") or "perfect" in reply


async def test_a_misheard_confirmation_left_unsettled_books_nothing():
    call = Call("en", wish("Wednesday afternoon"))
    await call("Miller dental, hello?")
    await call("Wednesday at quarter past two?")
    assert "or 2:50 pm" in await call("Lovely, two fifty on Wednesday then, bye!")
    assert not call.conv.end_requested  # the question is asked, not a goodbye
    last = await call("Bye.")
    assert call.conv.end_requested and call.status is Status.FAILED
    assert "couldn't confirm" in last and "2:50" in call.conv.outcome.summary.replace("14:50", "2:50")


@pytest.mark.parametrize(
    ("lang", "preferred", "offers", "accepted", "booked"),
    [
        ("en", "Wednesday afternoon", "I have Monday at eight or Wednesday at four in the afternoon.",
         "Wednesday, November 25 at 4 pm would be great", "2026-11-25T16:00"),
        ("en", "Tuesday morning", "I have Tuesday at 9, or Thursday at 2:30.",
         "Tuesday, November 24 at 9 am would be great", "2026-11-24T09:00"),
        ("en", "Thursday afternoon", "Tuesday at 9 or Thursday at 2:30, which do you prefer?",
         "Thursday, November 26 at 2:30 pm would be great", "2026-11-26T14:30"),
        ("en", "Monday morning", "Monday at ten is taken, but I could do Monday at eleven or Tuesday at ten.",
         "Monday, November 30 at 11 am would be great", "2026-11-30T11:00"),
        ("de", "Mittwoch nachmittag", "Montag um acht oder Mittwoch um vier Uhr nachmittags.",
         "Mittwoch, 25. November um 16 Uhr wäre prima", "2026-11-25T16:00"),
        ("de", "Donnerstag nachmittag", "Ich hätte Dienstag um 9 oder Donnerstag um halb drei.",
         "Donnerstag, 26. November um 14:30 Uhr wäre prima", "2026-11-26T14:30"),
    ],
)  # fmt: skip
async def test_the_offer_that_fits_is_taken_among_several(lang, preferred, offers, accepted, booked):
    call = Call(lang, wish(preferred, lang))
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    assert accepted in await call(offers)
    await call("Gut, auf Wiederhören!" if lang == "de" else "Good, bye!")
    assert call.status is Status.BOOKED and call.conv.outcome.as_dict()["appointment"] == booked


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_when_no_offer_fits_lisa_asks_once_then_takes_the_nearest(lang):
    call = Call(lang, wish("Freitag nachmittag" if lang == "de" else "Friday afternoon", lang))
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    offers = (
        "Montag um acht, Dienstag um elf oder Mittwoch um drei."
        if lang == "de"
        else "We could do Monday at eight, Tuesday at eleven or Wednesday at three."
    )
    reply = await call(offers)
    assert ("Freitag nachmittag" if lang == "de" else "Friday afternoon") in reply
    reply = await call("Nein, am Freitag leider nichts." if lang == "de" else "No, sorry, nothing on Friday.")
    assert ("Mittwoch, 25. November um 15 Uhr" if lang == "de" else "Wednesday, November 25 at 3 pm") in reply
    await call("Gut, eingetragen. Tschüss!" if lang == "de" else "Okay, that's booked then. Bye!")
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-25T15:00"


@pytest.mark.parametrize(
    ("lang", "question", "answer"),
    [
        ("en", "Has he been with us before?", "don't know"),
        ("en", "Is he a new patient", "don't know"),
        ("en", "What are his symptoms?", "don't know"),
        ("en", "Does he have a referral?", "bring that along"),
        ("en", "Is he privately insured?", "bring that along"),
        ("en", "What's his date of birth?", "can't give that out"),
        ("en", "And his email address?", "can't give that out"),
        ("de", "War er schon mal bei uns?", "weiß ich leider nicht"),
        ("de", "Hat er Schmerzen?", "weiß ich leider nicht"),
        ("de", "Hat er eine Überweisung?", "bringt Max Mustermann zum Termin mit"),
        ("de", "Wie ist sein Geburtsdatum?", "nicht herausgeben"),
    ],
)
async def test_questions_lisa_cannot_answer_get_an_honest_answer_and_the_booking_goes_on(
    lang, question, answer
):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    before = await call(question)
    assert answer in before and "Hello, this is Lisa" not in before and "Ich rufe an" not in before
    assert (
        "Ginge nächste Woche" if lang == "de" else "Would next week, Monday between 10 and 12 work?"
    ) in before
    accepted = await call("Nächsten Montag um halb elf?" if lang == "de" else "Next Monday at half past ten?")
    assert "prima" in accepted or "great" in accepted
    after = await call(question)
    assert answer in after
    assert (
        "Montag, 30. November um 10:30 Uhr wäre prima" if lang == "de" else "10:30 would be great"
    ) in after


@pytest.mark.parametrize(
    ("lang", "garbled"),
    [
        ("en", "What's the sir name for the cooking?"),
        ("en", "And the same for the booking?"),
        ("en", "Who's it under?"),
        ("en", "And whom should I put it under?"),
        ("en", "and use it under."),  # "And who's it under?" through a noisy line
        ("en", "who is it under"),
        ("de", "Auf welchen Nahmen?"),
        ("de", "Und der Nachname?"),
    ],
)
async def test_right_after_agreeing_a_garbled_question_is_the_name_question(lang, garbled):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call("Nächsten Montag um halb elf?" if lang == "de" else "Next Monday at half past ten?")
    assert await call(garbled) == (
        "Der Name ist Max Mustermann." if lang == "de" else "The name is Max Mustermann."
    )


async def test_a_garbled_question_before_anything_is_agreed_is_not_taken_for_the_name():
    call = Call()
    await call("Miller dental, hello?")
    assert "Max Mustermann." not in await call("And the same for the booking?")


async def test_spelling_the_name():
    call = Call()
    await call("Miller dental, hello?")
    await call("Next Monday at half past ten?")
    assert await call("Could you spell that?") == "Mustermann: M-U-S-T-E-R-M-A-N-N."


@pytest.mark.parametrize(
    ("lang", "preferred", "lines", "booked"),
    [
        ("en", "Friday morning", ["Thursday at ten — no, sorry, Friday at ten.", "Good, bye!"], "2026-11-27T10:00"),
        ("en", "Tuesday morning", ["We could do Tuesday at nine, or rather at ten.", "Fine, bye."], "2026-11-24T10:00"),
        ("en", "this week, mornings", ["Tuesday at ten would work.", "Sorry, actually Wednesday instead.",
                                       "Okay, see you Wednesday at ten. Bye!"], "2026-11-25T10:00"),
        ("en", "this week, mornings", ["Tuesday at ten would work.", "Oh, my mistake, eleven instead.",
                                       "Bye!"], "2026-11-24T11:00"),
        ("de", "Freitag vormittag", ["Donnerstag um zehn, ach nein, lieber Freitag um zehn.", "Gut, tschüss!"],
         "2026-11-27T10:00"),
        ("de", "diese Woche vormittags", ["Dienstag um zehn ginge.", "Entschuldigung, doch lieber Mittwoch.",
                                          "Gut, bis Mittwoch um zehn, tschüss!"], "2026-11-25T10:00"),
    ],
)  # fmt: skip
async def test_self_corrections_replace_the_slot(lang, preferred, lines, booked):
    call = Call(lang, wish(preferred, lang))
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    for line in lines:
        await call(line)
    assert call.conv.end_requested and call.status is Status.BOOKED
    assert call.conv.outcome.as_dict()["appointment"] == booked


async def test_offers_split_over_two_turns_by_a_barge_in_are_read_together():
    """Speech recognition ends the business's turn at a pause ("I have Tuesday at 9." … "or Thursday at 2:30"),
    Lisa starts her yes and is cut off before naming the slot: the offers count together."""
    call = Call("en", wish("Thursday afternoon"))
    await call("Miller dental, hello?")
    assert "doesn't suit" in await call("I have Tuesday at 9.")
    call.engine.heard(call.conv, "Unfortunately")
    assert "Thursday, November 26 at 2:30 pm would be great" in await call("Or Thursday at 230.")


@pytest.mark.parametrize(
    ("answer", "booked"), [("No, 330.", "2026-11-26T15:30"), ("Three thirty.", "2026-11-26T15:30")]
)
async def test_whisper_digits_settle_a_misheard_confirmation(answer, booked):
    call = Call("en", wish("Thursday afternoon"))
    await call("Salon Lisa, hello?")
    await call("Thursday at 3 30 is free.")
    assert "3:30 pm or 2:50 pm" in await call("Lovely, 250 on Thursday then.")
    await call(answer)
    assert call.conv.outcome.as_dict()["appointment"] == booked


async def test_yes_to_just_to_be_sure_books_even_with_a_goodbye():
    call = Call("en", wish("Thursday afternoon"))
    await call("Salon Lisa, hello?")
    await call("Thursday at 3 30 is free.")
    await call("Okay, so 3.39 Thursday.")
    assert "Just to be sure" in await call("Hmm, yes.")
    last = await call("Yes, bye.")
    assert call.status is Status.BOOKED and last.startswith("Thursday, November 26 at 3:30 pm")


@pytest.mark.parametrize(
    ("lang", "question"),
    [("en", "Sorry, who did you say you're calling for?"), ("de", "Für wen rufen Sie nochmal an?")],
)
async def test_asked_again_who_the_call_is_for_lisa_gives_the_name(lang, question):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    assert "Max Mustermann" in await call(question)


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("Is it for a check-up or a cleaning?", "It's for an appointment for a dental cleaning."),
        ("What day were you thinking?", "Next week, Monday between 10 and 12 would be ideal."),
        ("Can you hold for a moment?", "Sure, I'll wait."),
    ],
)
async def test_what_the_request_answers_is_answered_from_it(line, answer):
    call = Call()
    await call("Greenway dental, Jessica speaking.")
    assert (await call(line)).startswith(answer)


async def test_a_confirmation_in_other_words_books_and_anything_else_is_no_goodbye():
    call = Call("en", wish("tomorrow afternoon"))
    await call("Beauty lounge, hi!")
    assert "Tuesday, November 24 at 5 pm would be great" in await call("Tomorrow we only have 5 pm left.")
    reply = await call("Perfect, that's all booked for tomorrow at 5. Anything else?")
    assert call.status is Status.BOOKED and "that's all" in reply and "Goodbye" not in reply
    assert not call.conv.end_requested
    assert "Tuesday, November 24 at 5 pm" in await call("Cheerio!")
    assert call.conv.end_requested


async def test_a_refusal_without_a_slot_after_lisa_asked_for_another_takes_the_offer():
    call = Call("en", wish("Monday morning"))
    await call("Hello?")
    assert "doesn't suit" in await call(
        "Sorry, we're only open in the afternoons on Monday. Would 2 pm work?"
    )
    assert "2 pm works too" in await call("Okay, no mornings at all on Monday, I'm afraid.")


async def test_after_nothing_free_at_the_preferred_time_the_next_offer_is_taken():
    call = Call("en", wish("Thursday"))
    await call("Hair by Anna.")
    assert "nothing is free on Thursday" in await call(
        "Thursday? Let me see... we're booked solid on Thursday, sorry."
    )
    assert call.status is Status.FAILED
    assert "Friday, November 27 at 11 am works too" in await call("Friday at eleven maybe?")
    last = await call("Okay then, Friday at eleven. Thanks, bye.")
    assert (
        call.status is Status.BOOKED and last == "Friday, November 27 at 11 am, perfect — thank you. Goodbye!"
    )


async def test_a_side_question_while_a_time_is_in_doubt_is_answered_and_the_doubt_asked_again():
    call = Call("de", wish("Donnerstag vormittag", "de"))
    await call("Zahnarztpraxis Dr. Weber, Sie sprechen mit Frau Klein.")
    await call("Donnerstag um neun oder um halb elf, was ist Ihnen lieber?")
    reply = await call("Gut, dann halb elf. Wie ist der Name?")
    assert reply == "Der Name ist Max Mustermann. Entschuldigung – 9 Uhr oder 10:30 Uhr?"
    reply = await call("Ist er bei uns schon Patient?")
    assert reply.startswith("Das weiß ich leider nicht") and reply.endswith("9 Uhr oder 10:30 Uhr?")
    await call("Alles klar, dann bis Donnerstag um halb elf. Tschüss!")
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-26T10:30"


@pytest.mark.parametrize(
    ("lang", "line"), [("en", "Hello? Are you still there?"), ("de", "Hallo? Sind Sie noch da?")]
)
async def test_still_there(lang, line):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call("Einen Moment bitte." if lang == "de" else "One moment please.")
    assert await call(line) == ("Ja, ich bin noch da." if lang == "de" else "Yes, I'm still here.")


@pytest.mark.parametrize(
    ("heard", "accepted"),
    [
        ("I have to stay at 9 or Thursday at 230.", "Tuesday, November 24 at 9 am would be great"),
        ("But they're stay at 230.", "Thursday, November 26 at 2:30 pm"),
    ],
)
async def test_weekdays_the_speech_model_garbles_are_read_back_in_an_offer(heard, accepted):
    call = Call("en", wish("Tuesday morning"))
    await call("City Physio, good morning!")
    assert accepted in await call(heard)


def test_to_stay_is_only_tuesday_before_a_time():
    from agent.outbound_nlu import unmishear

    assert unmishear("He has to stay at home") == "He has to stay at home"
    assert unmishear("I have to stay at 9") == "I have Tuesday at 9"


# ---------------------------------------------------------------- issue 10, classes 6-11 on outbound calls
@pytest.mark.parametrize(
    ("lang", "offer", "noted"),
    [
        (
            "en",
            "She does her bookings herself. Her three o'clock is running late; shall I leave her a note to call you back?",
            "Alright, I've written it down. She calls back after her last appointment at five.",
        ),
        ("en", "I can pass on a message and the doctor will ring you back.", "Okay, noted."),
        (
            "de",
            "Die Ärztin macht die Termine selbst. Ich kann ihr etwas ausrichten, sie ruft dann zurück.",
            "Gut, ich habe es notiert. Sie meldet sich nach ihrem letzten Termin um fünf.",
        ),
    ],
)
async def test_a_business_that_passes_a_message_on_gets_one_and_nothing_is_booked(lang, offer, noted):
    """Class 8: a message instead of a booking — who, what, when and the callback number are left, the times
    in it ("her three o'clock", "after five") are no offers, and the request waits for the callback."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    left = await call(offer)
    assert "Max Mustermann" in left and "+49 30 1234567" in left
    assert call.status is Status.WAITING_FOR_CALLBACK
    assert [e.type for e in call.conv.events] == ["message_left"]
    after = await call(noted)
    assert "prima" not in after and "great" not in after and "perfect" not in after
    await call("Auf Wiederhören." if lang == "de" else "Okay, bye.")
    assert call.conv.end_requested and call.status is Status.WAITING_FOR_CALLBACK
    assert call.conv.outcome.appointment is None


async def test_a_message_offer_with_a_free_slot_in_it_is_an_offer():
    call = Call()
    await call("Miller dental, hello?")
    assert "would be great" in await call("I can give you Monday at half past ten, or take a message.")
    assert call.status is Status.OPEN


@pytest.mark.parametrize(
    ("lang", "question", "answer"),
    [
        ("en", "Is this just a routine visit, or is something bothering him?", "It's for"),
        ("en", "What is he coming in with, what needs doing?", "It's for"),
        ("en", "And roughly when was he hoping to come in?", "would be ideal"),
        ("en", "Are there days that suit him better than others?", "would be ideal"),
        ("en", "If something changes, how do we get hold of him?", "+49 30 1234567"),
        ("de", "Ist das eine Kontrolle oder hat er Beschwerden?", "Es geht um"),
        ("de", "Wann würde es ihm denn am besten passen?", "Am liebsten"),
        ("de", "Wie erreichen wir ihn, falls sich etwas ändert?", "+49 30 1234567"),
    ],
)
async def test_paraphrased_questions_of_the_business_are_answered_from_the_request(lang, question, answer):
    """Class 6 on outbound calls: a question the patterns miss is matched by meaning, answered from the
    request, never with "I don't know"."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    reply = await call(question)
    assert answer in reply
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply


@pytest.mark.parametrize(
    ("lang", "declined", "question", "answer"),
    [
        ("en", "Monday I only have four pm.", "Okay, sorry, is he insured privately?", "bring that along"),
        ("en", "Monday I only have four pm.", "Right, no, what's the best number for him?", "+49 30 1234567"),
        ("de", "Montag hätte ich nur um 16 Uhr.", "Okay, ist er privat versichert?", "zum Termin mit"),
    ],
)
async def test_a_question_of_the_business_after_lisas_question_is_no_answer_to_it(
    lang, declined, question, answer
):
    """Class 7 on outbound calls: Lisa asks for something better; an "okay"/"no" that leads into a question
    of the business's own is a new request, not a yes (or a no) to hers: the declined slot stays declined."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call(declined)
    reply = await call(question)
    assert answer in reply
    assert "16 Uhr" not in reply and "4 pm" not in reply
    assert call.conv.state.get("agreement", {}).get("accepted") is None
    accepted = await call("Montag um zehn?" if lang == "de" else "Monday at ten?")
    assert ("wäre prima" if lang == "de" else "would be great") in accepted


async def test_a_business_that_talks_about_something_else_gets_a_way_out_before_lisa_gives_up():
    """Class 9 on outbound calls: three turns of small talk are not a bad line — Lisa says what she wants in
    other words and offers to call back another time; a slot after that is booked as usual."""
    call = Call()
    await call("Miller dental, hello?")
    await call("Oh, we've just moved into the new building, you know.")
    await call("Everything is still in boxes here.")
    way_out = await call("And the new computer system is a nightmare.")
    assert "call back another time" in way_out and not call.conv.end_requested
    assert "would be great" in await call("Sorry! Next Monday at half past ten is free.")


async def test_the_way_out_taken_waits_for_a_callback():
    call = Call()
    await call("Miller dental, hello?")
    for line in (
        "We've just moved, you know.",
        "It's all chaos here at the moment.",
        "The computer keeps crashing.",
    ):
        await call(line)
    await call("Yes, that would be better, honestly.")
    assert call.status is Status.WAITING_FOR_CALLBACK


@pytest.mark.parametrize(
    ("lang", "chatter"),
    [
        ("en", ["Ah, it's all go here, you know.", "The phones haven't stopped ringing.",
                "And two of my colleagues are off sick.", "Honestly, I don't know where the day went.",
                "And the coffee machine broke down as well."]),
        ("de", ["Ach, hier ist die Hölle los, wissen Sie.", "Das Telefon klingelt ununterbrochen.",
                "Und zwei Kolleginnen sind krank.", "Ich weiß gar nicht, wo der Tag geblieben ist.",
                "Und die Kaffeemaschine ist auch noch kaputt."]),
    ],
)  # fmt: skip
async def test_small_talk_past_the_way_out_ends_with_a_call_back_not_a_bad_line(lang, chatter):
    """Class 9: a business that talks on past the way out is not a bad line. Lisa asks once more, plainly, then
    ends politely and calls back later (waiting for a callback), never "the line seems to be bad"."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    said = [await call(line) for line in chatter[:4]]
    assert "andermal" in said[2] if lang == "de" else "call back another time" in said[2]
    assert ("Ginge denn" if lang == "de" else "would") in said[3] and not call.conv.end_requested
    said.append(await call(chatter[4]))
    assert ("rufe später" if lang == "de" else "call back later") in said[4] and call.conv.end_requested
    assert call.status is Status.WAITING_FOR_CALLBACK
    assert not any(("Leitung" if lang == "de" else "line seems") in line for line in said)


@pytest.mark.parametrize(
    ("lang", "taken_back", "then"),
    [
        ("en", "Thursday at 10, no. Sorry.", "Next Monday at half past ten."),
        ("en", "Hmm, Tuesday at nine, no, sorry, wait.", "Monday at eleven."),
        ("de", "Donnerstag um zehn, nein, Entschuldigung.", "Nächsten Montag um halb elf."),
    ],
)
async def test_a_slot_taken_back_without_the_new_one_heard_is_asked_for_again(lang, taken_back, then):
    """A self-correction whose new slot was lost on the line ("Thursday at ten, no. Sorry.") is no offer: Lisa
    neither accepts nor turns down the slot taken back; she asks which day and time, and books the answer."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    asked = await call(taken_back)
    assert ("welcher Tag" if lang == "de" else "which day and time") in asked
    assert not re.search(r"Thursday|Tuesday|Donnerstag", asked)
    assert ("wäre prima" if lang == "de" else "would be great") in await call(then)


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_the_name_asked_again_is_spelled(lang):
    """Classes 9 and 11: the name asked for a second time is said and spelled, never the same words again."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call("Nächsten Montag um halb elf?" if lang == "de" else "Next Monday at half past ten?")
    first = await call("Und der Name?" if lang == "de" else "And the name?")
    again = await call("Wie war nochmal der Name?" if lang == "de" else "Sorry, what was the name again?")
    assert "Max Mustermann" in first and "M-U-S-T-E-R-M-A-N-N" in again and again != first


@pytest.mark.parametrize(
    ("lang", "read_back", "answer"),
    [
        ("en", "Max Mustermann, M, U, S, T, E, R, M, A, N, N?", "Yes, that's right."),
        ("en", "So that's Mustermann?", "Yes, that's right."),
        (
            "en",
            "Max Mustermunn, M-U-S-T-E-R-M-U-N-N?",
            "Not quite — it's Max Mustermann: Mustermann, M-U-S-T-E-R-M-A-N-N.",
        ),
        ("en", "Max Musterman?", "Not quite"),
        ("de", "Also Mustermann, M-U-S-T-E-R-M-A-N-N?", "Ja, genau."),
        ("de", "Max Mostermann?", "Nicht ganz"),
        ("en", "Okay, oh double it. Is that right?", "Yes, that's right: Mustermann, M-U-S-T-E-R-M-A-N-N."),
        ("de", "Okay, also M, U, äh. Stimmt das so?", "Ja, genau: Mustermann"),
    ],
)
async def test_a_name_read_back_is_confirmed_or_corrected(lang, read_back, answer):
    """Class 11 on outbound calls: the business reads the name back; right is confirmed, a near miss
    corrected and spelled (never "I don't know")."""
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call("Nächsten Montag um halb elf?" if lang == "de" else "Next Monday at half past ten?")
    await call("Und der Name?" if lang == "de" else "And the name?")
    assert answer in await call(read_back)


@pytest.mark.parametrize(
    ("last", "goodbye"),
    [
        ("Okay, next Monday at half past ten by", True),  # "bye" as Whisper writes it at the end
        ("Yes, Monday at 10:30, I put him down by now", True),
        ("Monday at 10:30 then. Bye!", True),
        ("Monday at 10:30, and could he stop by?", False),
    ],
)
async def test_a_bye_heard_as_by_at_the_end_closes_the_call(last, goodbye):
    call = Call()
    await call("Miller dental, hello?")
    await call("Next Monday at half past ten?")
    closing = await call(last)
    assert call.conv.end_requested is goodbye, closing
    assert ("Goodbye" in closing) is goodbye
