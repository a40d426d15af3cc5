"""Outbound failure classes from a third probe written outside the suite, en + de: a weekday said plainly is
read in the week the wish names; "booked, bye" with no time agreed gets the time asked before goodbye; a slot
given away after the booking ("my colleague just gave ten thirty away, can he do eleven?") is taken back and
the new hour booked; "Monday I have ten or eleven thirty" offers ten; a closed wished day lets Lisa take the
offer beside it; a reply naming another time is no loop."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_plain_answers import HELLO, wish

from agent.conversation import BookingRequest, Status
from agent.engine import same_reply

WISHED_WEEK = [
    ("en", "next week, Wednesday morning", ["Wednesday at nine would work"], "2026-12-02T09:00"),
    ("en", "next Wednesday morning", ["I could do Wednesday at 9."], "2026-12-02T09:00"),
    ("en", "next week, Monday 10-12", ["We're closed that Monday for staff training, Tuesday at ten thirty?"],
     "2026-12-01T10:30"),
    ("en", "in two weeks, Thursday afternoon", ["Thursday at 3 is free."], "2026-12-10T15:00"),
    ("de", "nächste Woche, Mittwoch vormittag", ["Mittwoch um neun ginge."], "2026-12-02T09:00"),
    ("de", "nächste Woche, Montag 10-12 Uhr", ["Montag haben wir zu, Dienstag um halb elf?"], "2026-12-01T10:30"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "preferred", "offers", "slot"), WISHED_WEEK)
async def test_a_weekday_said_plainly_is_that_of_the_wished_week(lang, preferred, offers, slot):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    for offer in offers:
        await call(offer)
    await call("Okay, booked, bye." if lang == "en" else "Gut, eingetragen, tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot


@pytest.mark.parametrize(
    ("lang", "offer", "slot"),
    [("en", "This Wednesday at 9?", "2026-11-25T09:00"), ("en", "Tomorrow at 11 is free.", "2026-11-24T11:00"),
     ("en", "Wednesday the 25th at nine.", "2026-11-25T09:00"), ("de", "Morgen um elf ginge.", "2026-11-24T11:00")],
)  # fmt: skip
async def test_a_day_said_with_its_week_keeps_it(lang, offer, slot):
    call = Call(lang, wish(lang, "nächste Woche, Mittwoch" if lang == "de" else "next week, Wednesday"))
    await call(HELLO[lang])
    reply = await call(offer)
    assert slot[8:10].lstrip("0") in reply  # the date said back is the one named


async def test_a_plain_weekday_against_a_wish_without_a_week_is_the_nearest():
    # "Monday morning" asked on a Monday is next Monday; "Tuesday at three" is tomorrow
    call = Call("en", wish("en", "Monday morning"))
    await call(HELLO["en"])
    await call("I could do Tuesday at three or Wednesday at five.")
    assert "2026-11-24T15:00" in call.conv.state["agreement"]["offered"]


BOOKED_BYE = [
    ("en", "Monday, somewhere late morning", "booked, bye", "Monday at ten fifty", "2026-11-30T10:50"),
    ("en", "Hmm, Monday, let me see, yes.", "Okay he's booked, see you!",
     "Eleven fifteen on Monday.", "2026-11-30T11:15"),
    ("de", "Montag, Moment, ja, da geht was.", "Ist eingetragen, tschüss!", "Montag um Viertel nach elf.",
     "2026-11-30T11:15"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "missed", "bye", "slot_said", "slot"), BOOKED_BYE)
async def test_booked_bye_with_no_time_agreed_gets_the_time_asked(lang, missed, bye, slot_said, slot):
    call = Call(lang)
    await call(HELLO[lang])
    await call(missed)
    asked = await call(bye)
    assert "?" in asked and not call.conv.end_requested
    await call(slot_said)
    await call("Bye." if lang == "en" else "Tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_booked_bye_is_asked_about_only_once(lang):
    call = Call(lang)
    await call(HELLO[lang])
    await call("Hmm, let me look." if lang == "en" else "Moment, ich schau mal.")
    await call("Booked, bye." if lang == "en" else "Eingetragen, tschüss.")
    await call("Booked, bye!" if lang == "en" else "Eingetragen, tschüss!")
    assert call.conv.end_requested and call.status is not Status.BOOKED


GIVEN_AWAY = [
    ("en", "ten thirty Monday", "okay I've written him in for ten thirty",
     "oh sorry my colleague just gave ten thirty away, can he do eleven instead?", "2026-11-30T11:00"),
    ("en", "Monday at 10:30 is free.", "Great, he's booked for 10:30.",
     "Oh no, I just gave that slot away to a walk-in, could he do eleven thirty?", "2026-11-30T11:30"),
    ("de", "Montag um halb elf", "gut, ich hab ihn für halb elf eingetragen",
     "oh moment, die Kollegin hat halb elf gerade vergeben, ginge auch elf?", "2026-11-30T11:00"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "offer", "booked", "given_away", "slot"), GIVEN_AWAY)
async def test_a_slot_given_away_after_the_booking_is_replaced_by_the_new_hour(
    lang, offer, booked, given_away, slot
):
    call = Call(lang)
    await call(HELLO[lang])
    await call(offer)
    await call(booked)
    reply = await call(given_away)
    assert slot[11:13] in reply and "10:30" not in reply
    await call("Great, bye." if lang == "en" else "Prima, tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot


@pytest.mark.parametrize(
    ("said", "slot"),
    [("Monday I have ten or eleven thirty which one would he prefer", "2026-11-30T10:00"),
     ("On Monday we have 11.", "2026-11-30T11:00"), ("Monday I've got ten thirty or twelve.", "2026-11-30T10:30")],
)  # fmt: skip
async def test_an_hour_after_i_have_is_an_offer(said, slot):
    call = Call()
    await call(HELLO["en"])
    await call(said)
    await call("Okay, he's booked, bye.")
    assert call.outcome["appointment"] == slot


@pytest.mark.parametrize(
    "said", ["We have two dentists.", "I have ten minutes, go ahead.", "We have 3 rooms."]
)
async def test_a_number_after_i_have_that_is_no_hour_offers_nothing(said):
    call = Call()
    await call(HELLO["en"])
    await call(said)
    assert not call.conv.state.get("agreement", {}).get("offered")


def test_a_reply_naming_another_time_is_not_the_same_reply():
    assert not same_reply(
        "Montag, 30. November um 10:30 Uhr wäre prima, vielen Dank.",
        "Montag, 30. November um 11 Uhr wäre prima, vielen Dank.",
    )
    assert same_reply("Which day and time could you offer?", "Which day and time could you offer?!")


WRONG_NUMBER = [
    ("en", "no this is a bakery you must have the wrong number"),
    ("en", "Sorry, there's no dentist here, this is a private number."),
    ("en", "I think you've got the wrong number, love."),
    ("de", "Da sind Sie falsch, hier ist eine Bäckerei."),
    ("de", "Falsch verbunden, hier gibt's keine Praxis."),
]


@pytest.mark.parametrize(("lang", "said"), WRONG_NUMBER)
async def test_a_wrong_number_gets_an_apology_and_the_user_hears_why(lang, said):
    call = Call(lang)
    await call("Hello?" if lang == "en" else "Hallo?")
    reply = await call(said)
    assert ("wrong number" in reply or "verwählt" in reply) and call.conv.end_requested
    assert call.status is Status.FAILED
    assert ("wrong number" if lang == "en" else "falsche Nummer") in call.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "said", "bye"),
    [("de", "Der Doktor ist gerade nicht da, ich ruf Sie zurück, unter welcher Nummer?", "Alles klar, wir melden uns, tschüss."),
     ("de", "Die Chefin ist nicht da, wir rufen Sie morgen zurück.", "Tschüss."),
     ("en", "The doctor isn't in right now, I'll call you back, what number?", "Alright, we'll be in touch, bye.")],
)  # fmt: skip
async def test_a_call_back_promised_leaves_the_message_and_says_the_number_once(lang, said, bye):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(said)
    assert reply.count("+49 30 1234567") == 1
    await call(bye)
    assert call.status is Status.WAITING_FOR_CALLBACK


CONDITIONS = [
    ("de", ["Montag um elf geht, das kostet aber achtzig Euro, die Kasse zahlt das nicht, ist das in Ordnung?",
            "Gut, bis dann."], "achtzig Euro"),
    ("en", ["Monday at 11 works.", "Great, he's booked. Please have him come fifteen minutes early and bring his "
            "insurance card.", "Bye."], "fifteen minutes early"),
    ("en", ["Monday at 11 works, it's 95 euros and insurance doesn't cover it.", "Booked, see you."], "95 euros"),
    ("de", ["Montag um elf, bitte bringen Sie die Überweisung mit.", "Eingetragen, tschüss."], "Überweisung"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "lines", "kept"), CONDITIONS)
async def test_what_the_business_says_the_user_must_know_is_in_the_summary(lang, lines, kept):
    call = Call(lang)
    await call(HELLO[lang])
    replies = [await call(line) for line in lines]
    assert any("Max Mustermann" in r and ("let" in r or "weiter" in r) for r in replies)  # Lisa takes it in
    assert call.status is Status.BOOKED and kept in call.outcome["summary"]


async def test_a_call_without_conditions_has_a_plain_summary():
    call = Call()
    await call(HELLO["en"])
    await call("Monday at 11 works.")
    await call("Booked, see you.")
    assert call.outcome["summary"] == "Appointment booked for Monday, November 30 at 11:00 at Miller dental."


WHAT_TIME = [
    ("en", ["yes Monday is possible, what time would suit him", "ok that's fine", "bye"]),
    ("en", ["What time would suit him?", "Sure, that works. See you then.", "Bye."]),
    ("en", ["Monday's fine, when would he like to come?", "Ten is good.", "Bye then."]),
    ("de", ["Montag geht, um wie viel Uhr möchte er denn kommen?", "Ja, das passt.", "Tschüss."]),
    ("de", ["Wann passt es ihm denn?", "Gut, ist eingetragen.", "Auf Wiederhören."]),
]


@pytest.mark.parametrize(("lang", "lines"), WHAT_TIME)
async def test_asked_what_time_suits_lisa_proposes_one_and_a_yes_books_it(lang, lines):
    call = Call(lang)
    await call(HELLO[lang])
    proposal = await call(lines[0])
    assert ("10 am" in proposal or "10 Uhr" in proposal) and proposal.endswith("?")
    for line in lines[1:]:
        await call(line)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-30T10:00"


async def test_a_proposal_turned_down_books_nothing():
    call = Call()
    await call(HELLO["en"])
    await call("What time would suit him?")
    await call("No, ten is taken, sorry.")
    assert call.status is Status.OPEN and call.outcome["appointment"] is None


ONLINE_ONLY = [
    ("en", ["sorry we only take bookings online now, through our website", "it's miller dental dot com, bye"],
     "miller dental dot com"),
    ("en", ["Appointments are only online these days, via Doctolib."], "Doctolib"),
    ("de", ["Termine gibt es nur noch online, über unsere Webseite praxis-mueller.de."], "praxis-mueller.de"),
    ("de", ["Das geht nur online, bitte online buchen.", "www punkt praxis müller punkt de"], "praxis müller punkt de"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "lines", "kept"), ONLINE_ONLY)
async def test_online_only_booking_is_passed_on_with_the_address(lang, lines, kept):
    call = Call(lang)
    await call(HELLO[lang])
    for line in lines:
        await call(line)
    assert call.conv.end_requested and call.status is Status.FAILED
    assert kept in call.outcome["summary"] and ("online" in call.outcome["summary"])


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "We're booked solid for the next few weeks, the earliest I have is December fourteenth at ten."),
     ("de", "Wir sind komplett voll die nächsten Wochen, das Früheste wäre der 14. Dezember um zehn.")],
)  # fmt: skip
async def test_booked_solid_beside_the_earliest_slot_is_an_offer_not_a_booking(lang, said):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(said)
    assert "14" in reply and call.status is Status.OPEN  # accepted, not booked before the business confirms
    await call("Gut, eingetragen, tschüss." if lang == "de" else "Okay, I've put him in, bye.")
    assert call.outcome["appointment"] == "2026-12-14T10:00"


def brief(lang: str, preferred: str, title: str, description: str) -> BookingRequest:
    request = wish(lang, preferred)
    request.title, request.description = title, description
    return request


EVENING = [
    ("en", "Friday evening", "Friday at 8, would that work?", "2026-11-27T20:00"),
    ("en", "Friday after 6", "We could do Friday at seven.", "2026-11-27T19:00"),
    ("de", "Freitag abend", "Freitag um acht ginge.", "2026-11-27T20:00"),
    ("de", "Freitag ab 18 Uhr", "Freitag um halb acht hätte ich.", "2026-11-27T19:30"),
]


@pytest.mark.parametrize(("lang", "preferred", "offer", "slot"), EVENING)
async def test_an_hour_without_am_pm_against_an_evening_wish_is_in_the_evening(lang, preferred, offer, slot):
    call = Call(lang, brief(lang, preferred, "Tisch" if lang == "de" else "Table", "Dinner"))
    await call("Trattoria Roma, buonasera.")
    await call(offer)
    await call("Gut, bis Freitag." if lang == "de" else "Lovely, see you Friday.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot


async def test_a_morning_said_as_such_stays_in_the_morning():
    call = Call("en", brief("en", "Friday evening", "Table", "Dinner"))
    await call("Trattoria Roma.")
    assert "8 am" in await call("Friday at 8 in the morning?")


ABOUT_THE_BRIEF = [
    ("en", "Vaccination for my dog Bello", "And the dog's name?", "Bello"),
    ("de", "Impfung für unsere Katze Luna", "Wie heißt denn die Katze?", "Luna"),
    ("en", "Table for 4 people", "For how many people?", "4 people"),
    ("de", "Tisch für vier", "Für wie viele Personen?", "vier Personen"),
    ("en", "Check-up for my cat", "What's the cat called?", "don't know"),
]


@pytest.mark.parametrize(("lang", "description", "question", "said"), ABOUT_THE_BRIEF)
async def test_questions_about_the_pet_or_the_party_are_answered_from_the_brief(
    lang, description, question, said
):
    call = Call(lang, brief(lang, "next week", "Termin" if lang == "de" else "Appointment", description))
    await call(HELLO[lang])
    reply = await call(question)
    assert said in reply and not reply.startswith(("The name is Max", "Der Name ist Max"))


PUT_IN_NO_TIME = [
    ("de", "Montag so kurz nach zehn", "Ja gut, dann schreib ich ihn ein, tschüss.", "Um viertel nach zehn.",
     "2026-11-30T10:15"),
    ("en", "Monday late morning should be fine, I'll put him in, bye.", None, "Eleven fifteen.", "2026-11-30T11:15"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "first", "bye", "slot_said", "slot"), PUT_IN_NO_TIME)
async def test_put_in_with_no_time_gets_the_time_asked_and_a_goodbye(lang, first, bye, slot_said, slot):
    call = Call(lang)
    await call(HELLO[lang])
    asked = await call(first)
    if bye:
        asked = await call(bye)
    assert "?" in asked and not call.conv.end_requested
    await call(slot_said)
    assert call.conv.end_requested and call.outcome["appointment"] == slot


INSISTED = [
    ("en", "Only Monday at two I'm afraid.", "Alright, two it is then, bye.", "2026-11-30T14:00"),
    ("en", "I could fit him in first thing Monday, at eight.", "Well that's all I have, I've put him down for eight, bye.",
     "2026-11-30T08:00"),
    ("de", "Nur Montag um zwei, leider.", "Gut, dann eben zwei, tschüss.", "2026-11-30T14:00"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "offer", "bye", "slot"), INSISTED)
async def test_a_declined_slot_the_business_puts_down_is_booked_and_flagged_outside_the_wish(
    lang, offer, bye, slot
):
    call = Call(lang)
    await call(HELLO[lang])
    assert "?" in await call(offer)  # turned down once, with the wish
    await call(bye)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot
    assert ("outside the wished time" if lang == "en" else "außerhalb der Wunschzeit") in call.outcome[
        "summary"
    ]


@pytest.mark.parametrize(
    ("lang", "said", "slot"),
    [("en", "Monday eleven works.", "2026-11-30T11:00"), ("de", "Montag elf ginge.", "2026-11-30T11:00"),
     ("en", "Monday I could do ten forty-five, oh no wait, that's just gone, eleven fifteen then.", "2026-11-30T11:15")],
)  # fmt: skip
async def test_an_hour_right_after_the_weekday_is_an_offer(lang, said, slot):
    call = Call(lang)
    await call(HELLO[lang])
    await call(said)
    await call("Gut, bis dann, tschüss." if lang == "de" else "Great, see you then, bye.")
    assert call.outcome["appointment"] == slot


@pytest.mark.parametrize(
    ("lang", "first", "again"),
    [("de", "Montag ist komplett voll, Dienstag um zehn ginge.", "Nee, Montag geht wirklich gar nichts. Also Dienstag?"),
     ("en", "Monday is fully booked, Tuesday at ten would work.", "No, Monday really doesn't work at all. So Tuesday?")],
)  # fmt: skip
async def test_a_day_refused_again_is_not_offered_with_the_time_talked_about(lang, first, again):
    call = Call(lang)
    await call(HELLO[lang])
    await call(first)
    reply = await call(again)
    assert ("1. Dezember" in reply or "December 1" in reply) and "30" not in reply


@pytest.mark.parametrize("said", ["twelve thirty any good?", "Would twelve thirty work?", "12:30 any good?"])
async def test_an_hour_asked_about_is_an_offer(said):
    call = Call("en", wish("en", "next week Tuesday between 12 and 1"))
    await call(HELLO["en"])
    assert "12:30" in await call(said)
    await call("See you then, bye.")
    assert call.outcome["appointment"] == "2026-12-01T12:30"
