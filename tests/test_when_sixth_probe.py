"""Spoken times of the sixth probe, as people say them on the phone and type them in chat and as speech
recognition writes them, en + de, clock Monday, November 23, 2026, 09:15 (Tuesday is November 24):

1. Clock times in words are exact times alone, after a weekday, after "at"/"um" and inside a sentence: "ten to
   eleven" (before only understood after "at"), "Punkt elf", "um zehn rum", "gegen Mittag", "Tuesday 1430".
2. "kurz nach zehn" / "just after ten" is the half hour [10:00, 10:30), "kurz vor drei" / "shortly before three"
   [14:30, 15:00) (before: an open window from 10:00 / until 15:00); "first thing in the morning" 8-10, "end of the
   day" 15-18.
3. Numbers that are no times stay no times ("5 to 10 minutes", "Tuesday 1500 euros", "by the end of the day").
4. Through the engine: a chat booking of "ten to eleven" / "zehn vor elf"; an outbound wish "kurz nach zehn"
   accepts 10:15 and declines 11:30.
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
from agent.when import parse_when

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN)
MONDAY_9 = "2026-11-23T09:15:00+01:00"
TUESDAY, THURSDAY = date(2026, 11, 24), date(2026, 11, 26)

# ---------------------------------------------------------------- 1. clock times in words
SPOKEN_EN = [
    ("ten to eleven", time(10, 50)),
    ("five to three", time(14, 55)),
    ("ten of eleven", time(10, 50)),
    ("quarter to ten", time(9, 45)),
    ("quarter past ten", time(10, 15)),
    ("twenty past two", time(14, 20)),
    ("half ten", time(10, 30)),
    ("half past ten", time(10, 30)),
    ("ten thirty", time(10, 30)),
    ("eleven fifteen", time(11, 15)),
    ("eleven o'clock", time(11)),
    ("noon", time(12)),
    ("midday", time(12)),
    ("around ten", time(10)),
    ("ten-ish", time(10)),
    ("10ish", time(10)),
    ("about half two", time(14, 30)),
    ("9 sharp", time(9)),
    ("nine a.m.", time(9)),
    ("9am", time(9)),
    ("9.30am", time(9, 30)),
    ("9:30 a.m.", time(9, 30)),
    ("two p.m.", time(14)),
    ("14:30", time(14, 30)),
    ("1430", time(14, 30)),
    ("10 30", time(10, 30)),
    ("ten in the morning", time(10)),
    ("three in the afternoon", time(15)),
]
SPOKEN_DE = [
    ("zehn vor elf", time(10, 50)),
    ("Viertel nach zehn", time(10, 15)),
    ("Viertel vor elf", time(10, 45)),
    ("viertel elf", time(10, 15)),
    ("dreiviertel elf", time(10, 45)),
    ("halb elf", time(10, 30)),
    ("Punkt elf", time(11)),
    ("Punkt 11 Uhr", time(11)),
    ("gegen zehn", time(10)),
    ("so gegen halb drei", time(14, 30)),
    ("zehn rum", time(10)),
    ("elf Uhr dreißig", time(11, 30)),
    ("11 Uhr 30", time(11, 30)),
    ("11.30 Uhr", time(11, 30)),
    ("14 Uhr", time(14)),
    ("vierzehn Uhr fünfzehn", time(14, 15)),
    ("zehn Uhr morgens", time(10)),
    ("drei Uhr nachmittags", time(15)),
    ("früh um acht", time(8)),
    ("zehn nach halb elf", time(10, 40)),
    ("gegen Mittag", time(12)),
    ("1430", time(14, 30)),
]
# where the time stands: alone, after a weekday, after "at"/"um", inside a sentence (day: Tuesday/Thursday/None)
PLACES = {
    "en": [
        ("{}", None),
        ("Tuesday {}", TUESDAY),
        ("at {}", None),
        ("could you do {} on Thursday?", THURSDAY),
    ],
    "de": [("{}", None), ("Dienstag {}", TUESDAY), ("um {}", None), ("Geht es am Donnerstag {}?", THURSDAY)],
}
# four digits alone are no time (a year, a number); after a day word or "at" they are
ALONE_NEEDS_A_DAY = {"1430"}
CASES = [
    (lang, place.format(said), day, at)
    for lang, table in (("en", SPOKEN_EN), ("de", SPOKEN_DE))
    for said, at in table
    for place, day in PLACES[lang]
    if not (said in ALONE_NEEDS_A_DAY and place in ("{}", "Geht es am Donnerstag {}?"))
    and not (said.startswith(("at ", "um ", "9 sharp")) and place.startswith(("at", "um")))
]


@pytest.mark.parametrize(("lang", "text", "day", "at"), CASES)
def test_a_spoken_time_is_that_time_wherever_it_stands(lang, text, day, at):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.day, w.time, w.earliest, w.latest) == (day, at, None, None), w


@pytest.mark.parametrize(
    ("lang", "text", "at"),
    [("en", "at 9 sharp", time(9)), ("en", "at exactly ten", time(10)), ("de", "um Punkt elf", time(11)),
     ("de", "pünktlich um acht", time(8)), ("de", "um zehn rum", time(10)), ("de", "so um zehn herum", time(10)),
     ("en", "Tuesday 0930", time(9, 30)), ("de", "morgen 1430", time(14, 30))],
)  # fmt: skip
def test_punctual_and_rough_hours_are_the_hour(lang, text, at):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.time == at, w


# ---------------------------------------------------------------- 2. windows
WINDOWS = [
    ("en", "just after ten", time(10), time(10, 30)),
    ("en", "Tuesday, shortly after 10am", time(10), time(10, 30)),
    ("en", "right after two", time(14), time(14, 30)),
    ("en", "shortly before three", time(14, 30), time(15)),
    ("en", "just before 11", time(10, 30), time(11)),
    ("de", "kurz nach zehn", time(10), time(10, 30)),
    ("de", "Dienstag so kurz nach 10 Uhr", time(10), time(10, 30)),
    ("de", "kurz vor drei", time(14, 30), time(15)),
    ("de", "knapp vor 12", time(11, 30), time(12)),
    ("de", "kurz vor halb drei", time(14), time(14, 30)),
    ("en", "first thing in the morning", time(8), time(10)),
    ("en", "Friday, end of the day", time(15), time(18)),
    ("en", "late in the day on Tuesday", time(15), time(18)),
    ("de", "Dienstag gegen Feierabend", time(15), time(18)),
]


@pytest.mark.parametrize(("lang", "text", "earliest", "latest"), WINDOWS)
def test_shortly_after_and_before_and_day_ends_are_windows(lang, text, earliest, latest):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and (w.time, w.earliest, w.latest) == (None, earliest, latest), w


@pytest.mark.parametrize(
    ("lang", "text", "fits", "does_not_fit"),
    [("de", "Dienstag kurz nach zehn", ["10:00", "10:15"], ["09:45", "10:30", "11:00"]),
     ("en", "Tuesday shortly before three", ["14:30", "14:45"], ["14:00", "15:00"])],
)  # fmt: skip
def test_a_shortly_window_fits_the_half_hour_said(lang, text, fits, does_not_fit):
    w = parse_when(text, MONDAY, lang)
    assert w is not None
    at = [datetime.fromisoformat(f"2026-11-24T{hm}:00+01:00") for hm in [*fits, *does_not_fit]]
    assert [w.matches(a) for a in at] == [True] * len(fits) + [False] * len(does_not_fit)


# ---------------------------------------------------------------- 3. numbers that are no times
@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "it takes five to ten minutes"), ("en", "we need 5 to 10 minutes"), ("en", "ten to fifteen people"),
     ("en", "I have ten to twelve patients"), ("en", "it costs 45 euros"), ("en", "2 people"),
     ("en", "30 minutes"), ("de", "Zimmer 12"), ("en", "1430"), ("en", "by the end of the day"),
     ("en", "at the end of the day, it's your call"), ("de", "Punkt"), ("de", "wir essen zu Mittag")],
)  # fmt: skip
def test_numbers_that_are_no_times_stay_no_times(lang, text):
    w = parse_when(text, MONDAY, lang)
    assert w is None or (w.time, w.earliest, w.latest) == (None, None, None), w


@pytest.mark.parametrize(
    ("lang", "text", "day"),
    [("en", "Tuesday 1500 euros", TUESDAY), ("en", "Tuesday 2026", TUESDAY), ("de", "Dienstag 120 Leute", TUESDAY)],
)  # fmt: skip
def test_digits_after_a_day_that_are_no_clock_time_leave_the_time_open(lang, text, day):
    w = parse_when(text, MONDAY, lang)
    assert w is not None and w.day == day and w.time is None, w


@pytest.mark.parametrize(
    ("text", "earliest", "latest", "at"),
    [("Tuesday 10 to 11", time(10), time(11), None), ("from ten to eleven", time(10), time(11), None),
     ("Tuesday at 10 to 11", None, None, time(10, 50))],
)  # fmt: skip
def test_ten_to_eleven_in_digits_or_after_from_stays_a_window(text, earliest, latest, at):
    w = parse_when(text, MONDAY, "en")
    assert w is not None and (w.earliest, w.latest, w.time) == (earliest, latest, at), w


# ---------------------------------------------------------------- 4. through the engine
@pytest.mark.parametrize(
    ("mode", "lang", "line", "said"),
    [("chat", "en", "Could I book Tuesday ten to eleven?", "10:50"),
     ("inbound", "en", "can you do ten to eleven on Tuesday", "10:50"),
     ("chat", "de", "Geht Dienstag zehn vor elf?", "10:50 Uhr"),
     ("inbound", "de", "Haben Sie am Dienstag Punkt elf was frei?", "11 Uhr")],
)  # fmt: skip
async def test_lisa_books_a_spoken_time(mode, lang, line, said):
    t = await talk(rule_engine(ManualClock(MONDAY_9)), mode, lang)
    assert said in await t(line)
    await t("Tom Berg")
    hm = said.split()[0] if ":" in said else f"{said.split()[0]}:00"
    assert t.status is Status.BOOKED and t.outcome["appointment"] == f"2026-11-24T{int(hm[:-3]):02d}{hm[-3:]}"


@pytest.mark.parametrize(
    ("lang", "line", "said"),
    [("en", "Tuesday just after ten please", "10 am"), ("de", "Dienstag kurz vor drei", "14:30 Uhr")],
)
async def test_in_a_chat_lisa_offers_the_first_slot_of_the_shortly_window(lang, line, said):
    t = await talk(rule_engine(ManualClock(MONDAY_9)), "chat", lang)
    reply = await t(line)
    assert said in reply and ("11 am" not in reply and "15 Uhr" not in reply), reply


BYE = {"en": "Great, see you then. Bye.", "de": "Gut, bis dann. Tschüss."}


@pytest.mark.parametrize(
    ("lang", "preferred", "offer", "slot"),
    [("de", "Dienstag kurz nach zehn", "Dienstag um Viertel nach zehn?", "2026-11-24T10:15"),
     ("en", "Tuesday just after ten", "Tuesday at ten past ten?", "2026-11-24T10:10"),
     ("en", "Tuesday around ten", "How about Tuesday at ten to eleven?", "2026-11-24T10:50")],
)  # fmt: skip
async def test_an_outbound_offer_inside_a_spoken_wish_is_accepted(lang, preferred, offer, slot):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    await call(offer)
    await call(BYE[lang])
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot, call.said
    assert "outside the wished time" not in call.outcome["summary"]
    assert "außerhalb der Wunschzeit" not in call.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "preferred", "offer"),
    [
        ("de", "Dienstag kurz nach zehn", "Dienstag um halb zwölf?"),
        ("en", "Tuesday shortly before three", "Tuesday at four?"),
    ],
)
async def test_an_outbound_offer_outside_a_shortly_wish_is_declined(lang, preferred, offer):
    call = Call(lang, wish(lang, preferred))
    await call(HELLO[lang])
    reply = await call(offer)
    assert "doesn't suit" in reply or "nicht so gut" in reply, reply
    assert call.status is Status.OPEN


@pytest.mark.parametrize(
    "said, day, at",
    [
        (
            "Tuesday 1st at 1120 is free.",
            date(2026, 12, 1),
            time(11, 20),
        ),  # "Tuesday the first at 11:20", heard
        ("Wednesday, 2nd at 10", date(2026, 12, 2), time(10, 0)),
        ("How about Friday 4th?", date(2026, 12, 4), None),
        ("Monday 30th in the morning", date(2026, 11, 30), None),
    ],
)
def test_a_weekday_before_an_ordinal_is_that_day_of_the_month(said, day, at):
    found = parse_when(said, MONDAY, "en")
    assert found is not None and found.day == day and found.time == at, found


BEFORE_CHRISTMAS = datetime(2026, 12, 20, 9, 15, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "lang, said, day",
    [
        ("en", "Are you open on Christmas Eve?", date(2026, 12, 24)),
        ("en", "Could I come on Boxing Day at 10?", date(2026, 12, 26)),
        ("en", "What about New Year's Eve?", date(2026, 12, 31)),
        ("de", "Haben Sie am zweiten Weihnachtsfeiertag vormittags geöffnet?", date(2026, 12, 26)),
        ("de", "Geht es am 2. Weihnachtsfeiertag?", date(2026, 12, 26)),
        ("de", "Einen Termin an Silvester um 10 Uhr", date(2026, 12, 31)),
        ("de", "Und an Heiligabend?", date(2026, 12, 24)),
        ("de", "Haben Sie an Neujahr offen?", date(2027, 1, 1)),
    ],
)
def test_a_holiday_said_by_name_is_its_date(lang, said, day):
    found = parse_when(said, BEFORE_CHRISTMAS, lang)
    assert found is not None and found.day == day, found


@pytest.mark.parametrize(
    "lang, said, day",
    [
        ("de", "Stimmt, Neujahr. Dann Montag, den 4. um 14 Uhr?", date(2027, 1, 4)),  # the day said wins
        ("en", "Merry Christmas! Could I come on the 28th?", date(2026, 12, 28)),  # a greeting is no day
        ("de", "am 2. Advent", None),  # the ordinal of a noun is no day of the month
        ("de", "den 2. Termin nehme ich", None),
        ("de", "den 3. bitte", date(2027, 1, 3)),
    ],
)
def test_a_holiday_or_an_ordinal_in_passing_is_no_day(lang, said, day):
    found = parse_when(said, BEFORE_CHRISTMAS, lang)
    assert (found.day if found else None) == day, found
