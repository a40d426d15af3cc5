"""The rule brain on an outbound call: an offer the business takes back in the same breath by saying it is
closed or away that day ("Friday at three. Oh, hold on — we're closed that day for inventory.", "Freitag um
drei … nein, da ist Betriebsausflug.") is never accepted nor booked, en + de; Lisa asks for another time. A
closure of another day or hour takes nothing back."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call, dentist

from agent.conversation import BookingRequest, Status


def haircut(lang: str) -> BookingRequest:
    """A men's haircut, wished for this Friday afternoon (Friday 27 November at the tests' clock)."""
    request = dentist(lang)
    de = lang == "de"
    request.title = "Termin Haarschnitt" if de else "Haircut appointment"
    request.description = "Herrenhaarschnitt, etwa 30 Minuten" if de else "Men's haircut, about 30 minutes"
    request.preferred_time = "diesen Freitag nachmittag" if de else "this Friday afternoon"
    return request


HELLO = {"en": "Salon Schmidt, hello.", "de": "Salon Schmidt, guten Tag."}
BYE = {"en": "Okay, bye.", "de": "Ja, tschüss."}
ANOTHER_TIME = {"en": "Would you have another time?", "de": "Hätten Sie einen anderen Termin?"}

CLOSED_IN_THE_SAME_BREATH = {
    "en": [
        "Friday at three. Oh, hold on, that's the 28th? We're closed that day for inventory. Sorry.",
        "Friday at three... ah no, we're closed on Fridays.",
        "I could do Friday at three. Wait, no, Friday's our staff outing, we're shut all day.",
        "Friday at 3 pm. Oh sorry, I forgot, we're not open on Friday, it's a holiday.",
        "How about Friday at three? Hmm, no, actually the salon is closed that day.",
        "Friday at three is free. Oh wait, no, it's stocktaking that day, sorry.",
    ],
    "de": [
        "Freitag um drei … moment, da haben wir geschlossen.",
        "Freitag um drei … nein, da ist Betriebsausflug.",
        "Freitag um 15 Uhr. Ach, Moment, am Freitag haben wir ja zu, Inventur.",
        "Ich hätte Freitag um drei. Oh nein, Freitag ist ja Feiertag, da ist geschlossen.",
        "Freitag um drei ginge. Ach nee, da sind wir auf Fortbildung.",
        "Freitag um 15 Uhr wäre frei. Nein, warte, freitags haben wir Ruhetag.",
    ],
}
CLOSED_CASES = [(lang, s) for lang, lines in CLOSED_IN_THE_SAME_BREATH.items() for s in lines]


@pytest.mark.parametrize(("lang", "said"), CLOSED_CASES)
async def test_an_offer_taken_back_by_a_closure_is_not_booked(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    reply = await call(said)
    assert ANOTHER_TIME[lang] in reply
    assert "15" not in reply and "3 pm" not in reply  # no yes to the closed slot
    assert call.conv.state["agreement"].get("accepted") is None
    await call(BYE[lang])
    assert call.conv.end_requested and call.status is not Status.BOOKED


CLOSED_LATER = {
    "en": [
        "Oh wait, we're closed on Friday, inventory. Sorry.",
        "Hang on, no, we're shut that day, it's our staff outing.",
        "Oh no, I'm sorry, Friday is a bank holiday, we're not open.",
        "Wait, I forgot, we don't open on Fridays.",
        "Sorry, scrap that, the salon is closed on Friday.",
    ],
    "de": [
        "Ach nee, Moment, da haben wir ja Inventur.",
        "Oh, Entschuldigung, am Freitag haben wir geschlossen.",
        "Moment, Freitag ist Betriebsausflug, da ist zu.",
        "Ach, ich vergaß, freitags arbeiten wir nicht.",
        "Nein, warten Sie, da sind wir alle auf Schulung.",
    ],
}
LATER_CASES = [(lang, s) for lang, lines in CLOSED_LATER.items() for s in lines]
FRIDAY_AT_THREE = {"en": "Friday at three is free.", "de": "Freitag um drei ist frei."}
BOOKED_NAME = {
    "en": "Great, booked you in. What's the name?",
    "de": "Gut, ist eingetragen. Wie ist der Name?",
}


@pytest.mark.parametrize(("lang", "said"), LATER_CASES)
async def test_a_closure_said_after_the_yes_takes_the_slot_back(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FRIDAY_AT_THREE[lang])
    assert call.conv.state["agreement"]["accepted"] == "2026-11-27T15:00"
    assert ANOTHER_TIME[lang] in await call(said)
    await call(BYE[lang])
    assert call.status is not Status.BOOKED


@pytest.mark.parametrize(("lang", "said"), LATER_CASES)
async def test_a_closure_said_after_the_booking_undoes_it(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FRIDAY_AT_THREE[lang])
    await call(BOOKED_NAME[lang])
    assert call.status is Status.BOOKED
    assert ANOTHER_TIME[lang] in await call(said)
    assert call.status is not Status.BOOKED
    await call(BYE[lang])
    assert call.status is not Status.BOOKED and call.conv.outcome.appointment is None


NOT_TAKEN_BACK = {
    "en": [
        "Friday at three is free. We're closed on Saturdays, though.",
        "Friday at three works, I'm off at five though.",
        "Friday at three. We're closed at the weekend, by the way.",
        "Friday at three would be possible, we're shut on Sundays anyway.",
        "Friday at three is free; we're closed on Monday for a training day.",
    ],
    "de": [
        "Freitag um drei ginge. Samstags haben wir geschlossen.",
        "Freitag um drei ginge, über Mittag haben wir zu.",
        "Freitag um drei ist frei, am Montag haben wir Inventur.",
        "Freitag um drei wäre möglich, am Wochenende ist geschlossen.",
        "Freitag um 15 Uhr ist noch frei. Ab 18 Uhr haben wir dann zu.",
    ],
}
KEPT_CASES = [(lang, s) for lang, lines in NOT_TAKEN_BACK.items() for s in lines]
GREAT = {"en": "would be great", "de": "wäre prima"}


@pytest.mark.parametrize(("lang", "said"), KEPT_CASES)
async def test_a_closure_of_another_day_or_hour_leaves_the_offer(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    assert GREAT[lang] in await call(said)
    assert call.conv.state["agreement"]["accepted"] == "2026-11-27T15:00"


@pytest.mark.parametrize(
    ("lang", "said", "taken"),
    [
        ("en", "Friday at three. Oh wait, we're closed that day. Saturday at ten?", "Saturday, November 28 at 10 am"),
        ("de", "Freitag um drei … nein, da ist Betriebsausflug. Aber Donnerstag um vier ginge.", "Donnerstag, 26. November um 16 Uhr"),
    ],
)  # fmt: skip
async def test_an_offer_after_the_closure_is_taken_as_it_comes(lang, said, taken):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    assert taken in await call(said)  # the wished Friday is closed: not asked for again
