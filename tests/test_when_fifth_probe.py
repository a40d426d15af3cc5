"""Dates and times of the fifth outside probe, en + de, clock Monday, November 23, 2026 (this week Nov 23-29, next
week Nov 30-Dec 6, the week after Dec 7-13):

1. "in two weeks on Wednesday", "in a week on Friday", "übernächsten Mittwoch": the weekday of the week named,
   not the day N weeks from today and not this week's weekday ("nächsten Mittwoch" is December 2, so
   "übernächsten Mittwoch" is December 9, like "übernächste Woche Mittwoch" and "the Wednesday after next").
2. The outbound user's wish: "Monday or Tuesday" allows both days; "not before the 10th" / "ab dem 10." is an open
   span from that day (after the 10th: from the 11th); a plain weekday ("Mittwoch nachmittag") is also met by
   that weekday of a later week. Offers that fit are accepted and the summary does not call them outside.
3. Short words are weekday abbreviations only where a weekday can stand ("Do 10 Uhr", "Di., 1.12.", "Mo, Di oder
   Mi"), never as words ("can we do this", "pfiat di", "Fr. Weber").
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_plain_answers import HELLO, wish

from agent.conversation import Status
from agent.when import parse_offers, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN)
MONDAY_9 = "2026-11-23T09:15:00+01:00"
NAME = {"en": "Noor Rahman", "de": "Ole Petersen"}


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


# ---------------------------------------------------------------- 1. the weekday of a week named
WEEKDAY_OF_A_WEEK = [
    ("en", "could I book a massage in two weeks on Wednesday at 3pm?", d(9, 12), time(15)),
    ("en", "in a week on friday at 10", d(4, 12), time(10)),
    ("en", "in three weeks, thursday 11am", d(17, 12), time(11)),
    ("en", "Wednesday in two weeks, around 3", d(9, 12), time(15)),
    ("en", "in two weeks, on the Monday at 9", d(7, 12), time(9)),
    ("en", "the Wednesday after next at 3 pm", d(9, 12), time(15)),
    ("en", "next week on wednesday at 3", d(2, 12), time(15)),
    ("de", "Termin in zwei Wochen, am Mittwoch um 15 Uhr", d(9, 12), time(15)),
    ("de", "in einer Woche am Freitag um 10", d(4, 12), time(10)),
    ("de", "in drei Wochen Donnerstag 11 Uhr", d(17, 12), time(11)),
    ("de", "übernächsten Mittwoch um 15 Uhr", d(9, 12), time(15)),
    ("de", "Haben Sie uebernaechsten Dienstag um 10 was frei?", d(8, 12), time(10)),
    ("de", "übernächste Woche Mittwoch um 15 Uhr", d(9, 12), time(15)),
    ("de", "nächsten Mittwoch um 15 Uhr", d(2, 12), time(15)),
]


@pytest.mark.parametrize(("lang", "text", "day", "at"), WEEKDAY_OF_A_WEEK)
def test_a_weekday_of_a_week_named_is_in_that_week(lang, text, day, at):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.day, w.time) == (day, at), w


@pytest.mark.parametrize(("lang", "text"), [("en", "in two weeks"), ("de", "heute in einer Woche")])
def test_weeks_from_today_without_a_weekday_stay_that_day(lang, text):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.day == (d(7, 12) if "two" in text else d(30)), w


@pytest.mark.parametrize(
    ("mode", "lang", "line", "said", "slot"),
    [
        ("chat", "en", "Hello, I'm away until then - could I book a massage in two weeks on Wednesday at 3pm?",
         "December 9", "2026-12-09T15:00"),
        ("inbound", "en", "Can I come in a week on Friday at 10?", "December 4", "2026-12-04T10:00"),
        ("chat", "de", "Ich bräuchte einen Termin in zwei Wochen, am Mittwoch um 15 Uhr", "9. Dezember",
         "2026-12-09T15:00"),
        ("inbound", "de", "Hallo, haben Sie übernächsten Mittwoch um 15 Uhr was frei?", "9. Dezember",
         "2026-12-09T15:00"),
    ],
)  # fmt: skip
async def test_lisa_books_the_weekday_of_the_week_named(mode, lang, line, said, slot):
    t = await talk(rule_engine(ManualClock(MONDAY_9)), mode, lang)
    assert said in await t(line)
    await t(NAME[lang])
    assert t.status is Status.BOOKED and t.outcome["appointment"] == slot, t.said


# ---------------------------------------------------------------- 2. the wish: days said with "or", open spans
OR_DAYS = [
    ("en", "Monday or Tuesday", [d(24), d(30)]),
    ("en", "Tuesday or Thursday", [d(24), d(26)]),
    ("en", "next week Tuesday or Wednesday, morning", [d(1, 12), d(2, 12)]),
    ("en", "either Tuesday or maybe Friday afternoon", [d(24), d(27)]),
    ("en", "Tuesday or Wednesday next week", [d(1, 12), d(2, 12)]),  # the week said once is for both
    ("de", "nächste Woche Montag oder Dienstag", [d(30), d(1, 12)]),
    ("de", "Dienstag oder Donnerstag nachmittags", [d(24), d(26)]),
    ("de", "Mo, Di oder Mi", [d(24), d(25), d(30)]),
]


@pytest.mark.parametrize(("lang", "text", "days"), OR_DAYS)
def test_days_said_with_or_are_all_allowed(lang, text, days):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.days() == days and w.day == days[0], w
    assert all(w.allows_day(day) for day in days)
    other = next(d(n, 12) for n in range(1, 8) if d(n, 12).weekday() not in {day.weekday() for day in days})
    assert not w.allows_day(other) and not w.allows_day(d(22))


OPEN_SPANS = [
    ("en", "not before December 10th", d(10, 12), None),
    ("en", "any day after the 10th", d(11, 12), None),
    ("en", "from the 10th of December on", d(10, 12), None),
    ("en", "December 10th or later, mornings", d(10, 12), None),
    ("en", "no earlier than Wednesday", d(25), None),
    ("en", "before Friday", d(23), d(26)),
    ("en", "by the 10th at the latest", d(23), d(10, 12)),
    ("de", "nicht vor dem 10. Dezember", d(10, 12), None),
    ("de", "nicht vor dem 10.", d(10, 12), None),
    ("de", "ab dem 10.", d(10, 12), None),
    ("de", "frühestens am 10.12.", d(10, 12), None),
    ("de", "nach dem 10. Dezember", d(11, 12), None),
    ("de", "ab nächster Woche", d(30), None),
    ("de", "spätestens am 4. Dezember", d(23), d(4, 12)),
]


@pytest.mark.parametrize(("lang", "text", "first", "last"), OPEN_SPANS)
def test_a_day_with_a_bound_word_is_an_end_of_a_span(lang, text, first, last):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.day is None and (w.first_day, w.last_day) == (first, last), w
    later = datetime(2027, 1, 12, 10, tzinfo=BERLIN)
    assert w.matches(later) is (last is None)


@pytest.mark.parametrize(
    ("lang", "line", "said"),
    [
        ("en", "Do you have anything after the 10th?", "Friday, December 11"),
        ("en", "Can I come Monday or Tuesday?", "Tuesday, November 24"),
        (
            "de",
            "Ich brauche einen Termin, nicht vor dem 10. Dezember, vormittags",
            "Donnerstag, 10. Dezember",
        ),
        ("de", "Haben Sie nach dem 10. etwas frei?", "Freitag, 11. Dezember"),
    ],
)
async def test_in_a_chat_lisa_offers_the_first_day_the_wish_allows(lang, line, said):
    t = await talk(rule_engine(ManualClock(MONDAY_9)), "chat", lang)
    assert said in await t(line)


@pytest.mark.parametrize(
    ("lang", "text", "earliest", "latest"),
    [("en", "any day after 4pm", time(16), None), ("de", "nicht vor 9 Uhr", time(9), None),
     ("en", "not later than 11", None, time(11)), ("de", "frühestens um 14 Uhr", time(14), None)],
)  # fmt: skip
def test_a_time_with_a_bound_word_is_an_open_window(lang, text, earliest, latest):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.earliest, w.latest, w.day, w.first_day) == (earliest, latest, None, None), w


@pytest.mark.parametrize(
    ("lang", "text", "day"),
    [
        ("en", "We could do the 14th at ten.", d(14, 12)),
        ("de", "Ab dem 14. um 10 Uhr hätte ich was.", d(14, 12)),
    ],
)
def test_a_business_offering_from_a_day_on_offers_that_day(lang, text, day):
    offers = parse_offers(text, MONDAY, lang)
    assert [(o.day, o.time) for o in offers] == [(day, time(10))]


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "I'm away until the 10th"), ("en", "could I stop by on Friday?"), ("de", "Ich komme am Freitag")],
)
def test_until_and_words_like_by_are_no_bounds(lang, text):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.day is not None and w.first_day is None, w


# through an outbound call: (wish, offers in turn, the slot booked)
FITTING_OFFERS = [
    ("en", "Monday or Tuesday", ["Tuesday at ten?"], "2026-11-24T10:00"),
    ("en", "Monday or Tuesday", ["How about Monday at 9?"], "2026-11-30T09:00"),
    ("en", "Tuesday or Thursday", ["I've got Thursday at 2."], "2026-11-26T14:00"),
    ("en", "Tuesday or Wednesday afternoon", ["Wednesday at three?"], "2026-11-25T15:00"),
    ("en", "next week Tuesday or Wednesday, morning", ["Wednesday the 2nd at nine?"], "2026-12-02T09:00"),
    ("en", "not before December 10th", ["Friday the 11th at two?"], "2026-12-11T14:00"),
    ("en", "after the 10th", ["I could do December 14th at 10."], "2026-12-14T10:00"),
    ("en", "any day after 4pm", ["Thursday at five?"], "2026-11-26T17:00"),
    ("en", "Wednesday afternoon", ["Wednesday the 2nd at 4 pm?"], "2026-12-02T16:00"),
    ("de", "nächste Woche Montag oder Dienstag", ["Dienstag, den 1., um 13 Uhr?"], "2026-12-01T13:00"),
    ("de", "Dienstag oder Donnerstag", ["Donnerstag um 11 Uhr ginge."], "2026-11-26T11:00"),
    ("de", "nicht vor dem 10. Dezember", ["Den 11. um 14 Uhr?"], "2026-12-11T14:00"),
    ("de", "ab dem 10.", ["Ich hätte den 15. um neun."], "2026-12-15T09:00"),
    ("de", "frühestens am 10. Dezember", ["Am 10. um 8 Uhr?"], "2026-12-10T08:00"),
    ("de", "nicht vor 9 Uhr", ["Morgen um halb zehn?"], "2026-11-24T09:30"),
    ("de", "Mittwoch nachmittag", ["Nächsten Mittwoch, also am 2., um 16 Uhr ginge."], "2026-12-02T16:00"),
]
BYE = {"en": "Great, see you then. Bye.", "de": "Gut, bis dann. Tschüss."}
# an offer inside the wish is accepted as such ("would be great"), not taken as second best ("works too")
NOT_SUITING = ("doesn't suit", "nicht so gut", "works too", "passt", "outside", "außerhalb")


@pytest.mark.parametrize(("lang", "preferred", "offers", "slot"), FITTING_OFFERS)
async def test_an_offer_inside_the_wish_is_accepted_and_not_called_outside(lang, preferred, offers, slot):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    for offer in offers:
        reply = await call(offer)
    assert not any(word in reply for word in NOT_SUITING), reply  # "would be great", not "works too"
    await call(BYE[lang])
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot, call.said
    summary = call.outcome["summary"]
    assert "outside the wished time" not in summary and "außerhalb der Wunschzeit" not in summary, summary


OUTSIDE_OFFERS = [
    ("en", "Monday or Tuesday", "Wednesday at ten?"),
    ("en", "not before December 10th", "Could he come on the 8th at nine?"),
    ("en", "next week Tuesday or Wednesday, morning", "Thursday the 3rd at nine?"),
    ("de", "nächste Woche Montag oder Dienstag", "Mittwoch, den 2., um 13 Uhr?"),
    ("de", "nicht vor dem 10. Dezember", "Ich könnte Ihnen den 8. um neun anbieten."),
    ("de", "Mittwoch nachmittag", "Donnerstag um 15 Uhr?"),
]


@pytest.mark.parametrize(("lang", "preferred", "offer"), OUTSIDE_OFFERS)
async def test_an_offer_outside_the_wish_is_still_declined_once(lang, preferred, offer):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    reply = await call(offer)
    assert "doesn't suit" in reply or "nicht so gut" in reply, reply
    assert call.status is Status.OPEN


@pytest.mark.parametrize(
    ("lang", "preferred", "offer", "only"),
    [("en", "not before December 10th", "Could he come on the 8th at nine?", "Sorry, the 8th at nine is all we have."),
     ("en", "Monday or Tuesday", "Wednesday at ten?", "No, Wednesday at ten is the only one."),
     ("de", "nicht vor dem 10. Dezember", "Ich könnte Ihnen den 8. um neun anbieten.",
      "Nein, leider nur den 8. um neun.")],
)  # fmt: skip
async def test_an_offer_outside_the_wish_taken_in_the_end_is_called_outside(lang, preferred, offer, only):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    await call(offer)
    await call(only)
    await call(BYE[lang])
    assert call.status is Status.BOOKED, call.said
    summary = call.outcome["summary"]
    assert "outside the wished time" in summary or "außerhalb der Wunschzeit" in summary, summary


# ---------------------------------------------------------------- 3. abbreviations
@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("de", "Hallo, ich... sorry, can we do this in English?"),
        ("de", "Danke, pfiat di."),
        ("de", "Hier ist Fr. Weber, ich brauche einen Termin."),
        ("de", "Servus, mi hat's erwischt"),
        ("de", "Mo hier, ich wollte nur fragen"),
        ("de", "can we do 10 am instead"),
        ("en", "C'mon, really?"),
        ("en", "We wed in June"),
    ],
)
def test_short_words_are_no_weekdays(lang, text):
    w = parse_when(text, MONDAY, lang)
    assert w is None or w.day is None, w


@pytest.mark.parametrize(
    ("lang", "text", "day", "at"),
    [
        ("de", "Do 10 Uhr", d(26), time(10)),
        ("de", "Di., 1.12.", d(1, 12), None),
        ("de", "Fr 14:00", d(27), time(14)),
        ("de", "am Do um 10", d(26), time(10)),
        ("de", "Sa vormittag", d(28), None),
        ("de", "Mi, 15 Uhr", d(25), time(15)),
        ("de", "nächsten Do", d(3, 12), None),
        ("en", "Wed 3pm", d(25), time(15)),
        ("en", "Thu at 10", d(26), time(10)),
        ("en", "on Fri", d(27), None),
        ("en", "can I move my wed appointment?", d(25), None),
        ("de", "Mo, Di oder Mi", d(24), None),
    ],
)
def test_abbreviations_where_a_weekday_can_stand_are_weekdays(lang, text, day, at):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.day, w.time) == (day, at), w


@pytest.mark.parametrize(
    ("lang", "text", "first", "last"), [("de", "Mo-Fr", d(23), d(27)), ("de", "Di bis Do", d(24), d(26))]
)
def test_abbreviated_spans_still_work(lang, text, first, last):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.first_day, w.last_day) == (first, last), w


async def test_pfiat_di_after_a_booking_offers_no_tuesday():
    t = await talk(rule_engine(ManualClock("2026-11-26T11:00:00+01:00")), "inbound", "de")
    await t("Grüß Gott, ich möchte eine Sporttherapie nächsten Dienstag um 16 Uhr.")
    await t("Florian Huber.")
    reply = await t("Danke, pfiat di.")
    assert "hätte ich" not in reply and t.outcome["appointment"] == "2026-12-01T16:00", t.said


async def test_english_please_in_a_german_chat_offers_no_thursday():
    t = await talk(rule_engine(ManualClock(MONDAY_9)), "chat", "de")
    reply = await t("Hallo, ich... sorry, can we do this in English? My German is not so good.")
    assert "Donnerstag" not in reply, reply
