"""The rule brain on an outbound call when the business answers Lisa's wish plainly, en + de: a yes to a wish
that is one slot ("Sure, three's fine") books that slot; an hour refused beside another ("3 is taken, but 3:30
is free") offers the other; a plain no ("Sorry, that doesn't work") makes Lisa ask what else there is instead
of repeating the request; "full" before a noun ("for the full hour") refuses nothing."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call, dentist

from agent.conversation import BookingRequest, Status


def wish(lang: str, preferred: str, description: str = "") -> BookingRequest:
    request = dentist(lang)
    request.preferred_time = preferred
    if description:
        request.description = description
    return request


HELLO = {"en": "Miller dental, hello?", "de": "Praxis Müller, guten Tag?"}
BYE = {"en": "Great, see you then, bye.", "de": "Gut, bis dann, tschüss."}
SLOT = {"en": "Tuesday at 3 pm", "de": "Dienstag 15 Uhr"}

YES_TO_THE_SLOT = [
    ("en", "Yes, that works, I've booked him in."),
    ("en", "Sure, three's fine."),
    ("en", "3 o'clock works for us."),
    ("en", "No worries, 3 is booked for him."),
    ("en", "Let me see... yes, that's fine."),
    ("de", "Ja, drei passt."),
    ("de", "Ja, das geht, ich trage ihn ein."),
    ("de", "Um drei ist gut."),
]


@pytest.mark.parametrize(("lang", "answer"), YES_TO_THE_SLOT)
async def test_a_yes_to_a_wish_that_is_one_slot_books_that_slot(lang, answer):
    call = Call(lang, wish(lang, SLOT[lang]))
    await call(HELLO[lang])
    await call(answer)
    await call(BYE[lang])
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-24T15:00"
    assert [e.type for e in call.conv.events] == ["booking_in_progress", "booking_confirmed"]  # once


@pytest.mark.parametrize(
    ("lang", "answer"),
    [("en", "No, 3 doesn't work."), ("en", "Sorry, three's no good."), ("de", "Nein, um drei geht nicht.")],
)
async def test_a_no_to_that_slot_books_nothing_and_asks_what_else(lang, answer):
    call = Call(lang, wish(lang, SLOT[lang]))
    await call(HELLO[lang])
    reply = await call(answer)
    assert "?" in reply and SLOT[lang].split()[0] not in reply  # not the refused wish again
    assert call.status is Status.OPEN and call.outcome["appointment"] is None


async def test_a_yes_to_another_question_is_not_a_yes_to_the_wish():
    call = Call("en", wish("en", SLOT["en"]))
    await call(HELLO["en"])
    await call("Are you a robot?")
    await call("Yes.")
    assert call.status is Status.OPEN


HOUR_LEFT = [
    ("en", "3 is taken, but 3:30 is free.", "15:30"),
    ("en", "Sorry, 3 is gone. 4 works though.", "16:00"),
    ("en", "No, 3 is booked. 4 would be free.", "16:00"),
    ("en", "three's no good, but four is possible", "16:00"),
    ("de", "Drei ist leider vergeben, vier ginge.", "16:00"),
    ("de", "Um drei ist schon belegt, aber halb vier wäre frei.", "15:30"),
]


@pytest.mark.parametrize(("lang", "answer", "hour"), HOUR_LEFT)
async def test_an_hour_beside_the_refused_one_is_an_offer_on_that_day(lang, answer, hour):
    call = Call(lang, wish(lang, SLOT[lang]))
    await call(HELLO[lang])
    reply = await call(answer)
    assert "24" in reply  # the slot said back with its date
    await call(BYE[lang])
    assert call.status is Status.BOOKED and call.outcome["appointment"] == f"2026-11-24T{hour}"


PLAIN_NO = [
    ("en", "Sorry, that doesn't work.", "What about Wednesday at 9?"),
    ("en", "Hmm, no.", "I could do Wednesday at 9."),
    ("en", "No, that won't work, sorry.", "Wednesday at nine?"),
    ("de", "Nein, das geht leider nicht.", "Mittwoch um neun?"),
    ("de", "Hm, nein.", "Ich hätte Mittwoch um 9."),
]


@pytest.mark.parametrize(("lang", "no", "offer"), PLAIN_NO)
async def test_a_plain_no_to_the_wish_asks_for_another_time_and_takes_the_next_offer(lang, no, offer):
    preferred = "nächste Woche, Montag 10-12 Uhr" if lang == "de" else "next week, Monday 10-12"
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    reply = await call(no)
    assert reply in (
        "Ah, that's a pity. What could you offer instead?",
        "Ach, schade. Was könnten Sie stattdessen anbieten?",
    )
    await call(offer)
    await call(BYE[lang])
    assert (
        call.status is Status.BOOKED and call.outcome["appointment"] == "2026-12-02T09:00"
    )  # the wished week


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_plain_no_to_a_strict_wish_asks_once_more_then_books_nothing(lang):
    preferred = "nur samstags" if lang == "de" else "Saturday only"
    call = Call(lang, wish(lang, preferred, "Haarschnitt" if lang == "de" else "A haircut"))
    await call(HELLO[lang])
    first = await call("Nein, leider nicht." if lang == "de" else "No, sorry.")
    assert "?" in first and ("samstag" in first.lower() or "Saturday" in first)
    last = await call("Nein, samstags haben wir zu." if lang == "de" else "No, we're closed on Saturdays.")
    assert "Saturday" in last or "samstags" in last
    await call(BYE[lang])
    assert call.status is not Status.BOOKED and call.outcome["appointment"] is None


@pytest.mark.parametrize(
    "offer",
    ["Tuesday at 2 for the full hour, would that work?", "I can do Tuesday at 2, it takes the full hour.",
     "We could do a full check-up Tuesday at 2."],
)  # fmt: skip
async def test_full_before_a_noun_refuses_nothing(offer):
    call = Call("en", wish("en", "Tuesday afternoon"))
    await call(HELLO["en"])
    assert "November 24 at 2 pm" in await call(offer)
    await call(BYE["en"])
    assert call.outcome["appointment"] == "2026-11-24T14:00"


async def test_a_full_day_is_still_refused():
    call = Call("en", wish("en", "Tuesday afternoon"))
    await call(HELLO["en"])
    reply = await call("Tuesday is full, sorry. Wednesday at 2?")
    assert "Wednesday" in reply and "Tuesday, November 24" not in reply
