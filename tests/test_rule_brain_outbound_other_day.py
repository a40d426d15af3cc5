"""The rule brain on an outbound call when the wished day is refused and another day is named without a time
Lisa heard ("Tuesday is full; the earliest I've got is Thursday at [lost on the line]"), en + de: she asks the
time on that day instead of reporting that nothing is free, and when the business then closes with the day
alone ("Lovely, Thursday for him. See you then!") she asks the time before anyone hangs up. What is booked is
what was said on the phone; without a time nothing is booked."""

from __future__ import annotations

from datetime import date

import pytest
from test_rule_brain_outbound import Call, dentist

from agent.conversation import BookingRequest, Status


def wished_tuesday(lang: str) -> BookingRequest:
    """The dentist's request, wished for Tuesday (24 November at the tests' clock)."""
    request = dentist(lang)
    request.preferred_time = "Dienstag" if lang == "de" else "Tuesday"
    return request


HELLO = {"en": "Miller dental, hello?", "de": "Praxis Weber, guten Tag."}
DAY = {
    date(2026, 11, 25): {"en": "Wednesday, November 25", "de": "Mittwoch, 25. November"},
    date(2026, 11, 26): {"en": "Thursday, November 26", "de": "Donnerstag, 26. November"},
    date(2026, 11, 27): {"en": "Friday, November 27", "de": "Freitag, 27. November"},
}
ASK_TIME = {"en": "What time would work on {day}?", "de": "Um wie viel Uhr ginge es am {day}?"}

REFUSED_BESIDE_ANOTHER_DAY = [
    ("en", "Tuesday is fully booked. Sorry, the earliest I've got is Thursday, at, um", date(2026, 11, 26)),
    ("en", "No, Tuesday we're full, sorry. Friday I could fit him in, let me see.", date(2026, 11, 27)),
    ("en", "Tuesday's no good, we're booked solid. How about Wednesday?", date(2026, 11, 25)),
    ("en", "We have nothing on Tuesday, but Thursday I have something", date(2026, 11, 26)),
    ("en", "Sorry, Tuesday is full. I could do Thursday at quarter dass one", date(2026, 11, 26)),
    ("de", "Dienstag ist leider komplett voll. Am frühesten hätte ich Donnerstag um, äh", date(2026, 11, 26)),
    ("de", "Am Dienstag geht leider nichts mehr, aber Freitag hätte ich noch was.", date(2026, 11, 27)),
    ("de", "Dienstag sind wir ausgebucht. Wie wäre es mit Mittwoch?", date(2026, 11, 25)),
]


@pytest.mark.parametrize(("lang", "said", "day"), REFUSED_BESIDE_ANOTHER_DAY)
async def test_a_refused_day_beside_another_day_gets_the_question_for_its_time(lang, said, day):
    call = Call(lang, wished_tuesday(lang))
    await call(HELLO[lang])
    reply = await call(said)
    assert reply == ASK_TIME[lang].format(day=DAY[day][lang])
    assert call.status is Status.OPEN and not call.conv.end_requested
    assert "no_availability" not in [e.type for e in call.conv.events]


PUT_DOWN_WITHOUT_TIME = {
    "en": [
        "Lovely, Thursday for Max Mustermann. See you then, bye!",
        "Okay, Thursday then, I've put him in. Bye!",
        "Great, he's down for Thursday. Take care!",
    ],
    "de": [
        "Gut, dann Donnerstag für Herrn Mustermann. Bis dann, tschüss!",
        "Alles klar, Donnerstag ist eingetragen. Auf Wiederhören!",
    ],
}
BEFORE_BYE = {
    "en": "Sorry, before you go — what time on Thursday, November 26 is it?",
    "de": "Entschuldigung, bevor Sie auflegen — um wie viel Uhr am Donnerstag, 26. November?",
}
THE_TIME = {
    "en": ["Two fifteen.", "Oh, quarter past two, sorry."],
    "de": ["Um Viertel nach zwei.", "14 Uhr 15."],
}
PUT_DOWN_CASES = [
    (lang, s, t) for lang, lines in PUT_DOWN_WITHOUT_TIME.items() for s in lines for t in THE_TIME[lang]
]


async def _asked_for_thursday(lang: str) -> Call:
    call = Call(lang, wished_tuesday(lang))
    await call(HELLO[lang])
    await call(REFUSED_BESIDE_ANOTHER_DAY[0 if lang == "en" else 5][1])
    return call


@pytest.mark.parametrize(("lang", "said", "time"), PUT_DOWN_CASES)
async def test_a_day_put_down_without_a_time_gets_the_time_asked_before_goodbye(lang, said, time):
    call = await _asked_for_thursday(lang)
    assert await call(said) == BEFORE_BYE[lang]
    assert not call.conv.end_requested and call.status is Status.OPEN
    reply = await call(time)
    assert "14:15" in reply or "2:15 pm" in reply
    await call("Bye." if lang == "en" else "Tschüss.")
    assert call.conv.end_requested and call.status is Status.BOOKED
    assert call.outcome["appointment"] == "2026-11-26T14:15"


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_without_a_time_nothing_is_booked_and_lisa_asks_only_once(lang):
    call = await _asked_for_thursday(lang)
    assert await call(PUT_DOWN_WITHOUT_TIME[lang][0]) == BEFORE_BYE[lang]
    reply = await call(PUT_DOWN_WITHOUT_TIME[lang][0])  # the day again, no time: she does not ask twice
    assert "?" not in reply and call.conv.end_requested
    assert call.status is not Status.BOOKED and call.outcome["appointment"] is None


@pytest.mark.parametrize(
    ("lang", "said", "expected"),
    [
        ("en", "Thursday, let me just look.", "I'll wait"),
        (
            "en",
            "Right, erm, so what was it for again, the eye?",
            "What time would work on Thursday, November 26?",
        ),
        ("de", "Donnerstag, Moment bitte.", "warte"),
    ],
)
async def test_after_the_refusal_lisa_waits_or_asks_the_time_again_never_the_refused_day(
    lang, said, expected
):
    call = await _asked_for_thursday(lang)
    reply = await call(said)
    assert expected in reply
    assert "Tuesday" not in reply and "Dienstag" not in reply
