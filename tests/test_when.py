"""Dates and times as said on the phone (agent/when.py), en + de, against fixed clocks.

Settled semantics (see the module docstring): "Monday" = the next Monday strictly after today; "this Friday" =
Friday of the current week; "next Monday" = Monday of next calendar week; "next week" = Mon..Fri of next week;
hours 1-7 without am/pm or a morning word are afternoon hours; "halb elf" = 10:30.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from agent.when import When, offer_taken_back, parse_offers, parse_when, say_datetime, say_day, say_time

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN)  # Monday 23 Nov 2026, 09:15
TUESDAY = datetime(2026, 11, 24, 14, 0, tzinfo=BERLIN)  # Tuesday 24 Nov 2026, 14:00
THURSDAY = datetime(2026, 11, 26, 16, 30, tzinfo=BERLIN)  # Thursday 26 Nov 2026
SATURDAY = datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN)  # Saturday 28 Nov 2026
NEW_YEARS_EVE = datetime(2026, 12, 31, 10, 0, tzinfo=BERLIN)


def d(day: int, month: int = 11, year: int = 2026) -> date:
    return date(year, month, day)


def t(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


# (text, day, exact time, (earliest, latest) or None, (first_day, last_day) or None), clock MONDAY
EN_MONDAY = [
    ("next Monday at half past ten", d(30), t(10, 30), None, None),
    # speech recognition's "past": "pass", "passed", "path", and "two" heard as "to" when no number follows
    ("the earliest I've got is Thursday a quarter pass to", d(26), t(14, 15), None, None),
    ("lovely, Thursday quarter path 2 for Omar", d(26), t(14, 15), None, None),
    ("Thursday at half passed ten", d(26), t(10, 30), None, None),
    ("Thursday at twenty passed 4", d(26), t(16, 20), None, None),
    ("Thursday at quarter past to.", d(26), t(14, 15), None, None),
    ("Next Monday at half past ten would be free", d(30), t(10, 30), None, None),
    ("Let me check. Next Monday at half past ten would be free.", d(30), t(10, 30), None, None),
    ("tomorrow at 4 pm", d(24), t(16), None, None),
    # Whisper writes a spoken "ten fifteen" as "10 15", and a full stop may follow it at once
    ("No problem. Monday 30, 10 15.", d(30), t(10, 15), None, None),
    ("Tuesday, 3 30.", d(24), t(15, 30), None, None),
    ("Friday 8 45. Would that work?", d(27), t(8, 45), None, None),
    ("tomorrow at 4pm", d(24), t(16), None, None),
    ("tomorrow at 4 p.m.", d(24), t(16), None, None),
    ("tomorrow at 9 a.m.", d(24), t(9), None, None),
    ("December 2nd at 9:30", d(2, 12), t(9, 30), None, None),
    ("the 2nd of December at 9:30", d(2, 12), t(9, 30), None, None),
    ("Dec 2 at 9.30", d(2, 12), t(9, 30), None, None),
    ("January 5th", d(5, 1, 2027), None, None, None),
    ("November 23rd", d(23), None, None, None),  # today still counts
    ("November 20th", d(20, 11, 2027), None, None, None),  # passed: next year
    ("December 2, 2027", d(2, 12, 2027), None, None, None),
    ("quarter past eleven", None, t(11, 15), None, None),
    ("a quarter past 11", None, t(11, 15), None, None),
    ("quarter to three", None, t(14, 45), None, None),
    ("quarter to one", None, t(12, 45), None, None),
    ("half past ten", None, t(10, 30), None, None),
    ("half past 10", None, t(10, 30), None, None),
    ("half ten", None, t(10, 30), None, None),
    ("ten past nine", None, t(9, 10), None, None),
    ("twenty to five", None, t(16, 40), None, None),
    ("at ten to three", None, t(14, 50), None, None),
    ("at 10", None, t(10), None, None),
    ("at ten o'clock", None, t(10), None, None),
    ("10 o'clock", None, t(10), None, None),
    ("at 10:30", None, t(10, 30), None, None),
    ("at 10.30", None, t(10, 30), None, None),
    ("on Friday at 10.0.", d(27), t(10, 0), None, None),  # Whisper's spelling of "ten am"
    ("at 10 30", None, t(10, 30), None, None),
    ("at ten thirty", None, t(10, 30), None, None),
    ("ten forty-five works", None, t(10, 45), None, None),
    ("at one", None, t(13), None, None),
    ("at 3", None, t(15), None, None),
    ("at 8", None, t(8), None, None),
    ("at 15:00", None, t(15), None, None),
    ("9 in the morning", None, t(9), None, None),
    ("at 4 in the afternoon", None, t(16), None, None),
    ("Monday, 10-12", d(30), None, (t(10), t(12)), None),
    ("next week, Monday 10-12", d(30), None, (t(10), t(12)), None),
    ("Monday next week", d(30), None, None, None),
    ("this Friday afternoon", d(27), None, (t(12), t(18)), None),
    ("this Monday", d(23), None, None, None),
    ("in the morning", None, None, (t(8), t(12)), None),
    ("Wednesday morning", d(25), None, (t(8), t(12)), None),
    ("this afternoon", d(23), None, (t(12), t(18)), None),
    ("tonight", d(23), None, (t(17), t(21)), None),
    ("next week", None, None, None, (d(30), d(4, 12))),
    ("sometime next week please", None, None, None, (d(30), d(4, 12))),
    ("this week", None, None, None, (d(23), d(27))),
    ("the week after next", None, None, None, (d(7, 12), d(11, 12))),
    ("early next week", None, None, None, (d(30), d(1, 12))),
    ("at the end of the week", None, None, None, (d(26), d(27))),
    ("end of next week", None, None, None, (d(3, 12), d(4, 12))),
    ("the day after tomorrow", d(25), None, None, None),
    ("today at 5", d(23), t(17), None, None),
    ("in two days", d(25), None, None, None),
    ("on the 3rd", d(3, 12), None, None, None),
    ("the 30th at 11", d(30), t(11), None, None),
    ("Monday", d(30), None, None, None),
    ("on Tuesday", d(24), None, None, None),
    ("Friday", d(27), None, None, None),
    ("Sunday", d(29), None, None, None),
    ("next Friday", d(4, 12), None, None, None),
    ("coming Friday", d(27), None, None, None),
    ("noon", None, t(12), None, None),
    ("tomorrow around noon", d(24), t(12), None, None),
    ("between 10 and 12", None, None, (t(10), t(12)), None),
    ("between 2 and 4", None, None, (t(14), t(16)), None),
    ("from 9 to 11", None, None, (t(9), t(11)), None),
    ("10 to 12 on Thursday", d(26), None, (t(10), t(12)), None),
    ("10 am - 2 pm", None, None, (t(10), t(14)), None),
    ("after 3", None, None, (t(15), None), None),
    ("before 11 am", None, None, (None, t(11)), None),
    ("Alright, Monday at ten thirty. See you then, goodbye.", d(30), t(10, 30), None, None),
    ("Wednesday 10.30", d(25), t(10, 30), None, None),
    ("10 30 on Friday", d(27), t(10, 30), None, None),
    ("Thursday at 2:15 pm", d(26), t(14, 15), None, None),
]

DE_MONDAY = [
    # "vierzehn Uhr fünfzehn" at the end of a sentence
    ("Donnerstag, 14 Uhr 15.", d(26), t(14, 15), None, None),
    ("am Donnerstag um 9 Uhr 30. Passt das?", d(26), t(9, 30), None, None),
    ("am Mittwoch um 15 Uhr", d(25), t(15), None, None),
    ("Am Mittwoch um 15 Uhr, wenn das geht.", d(25), t(15), None, None),
    ("Viertel nach elf", None, t(11, 15), None, None),
    ("Viertel vor drei", None, t(14, 45), None, None),
    ("halb elf", None, t(10, 30), None, None),
    ("um halb zwei", None, t(13, 30), None, None),
    ("halb eins", None, t(12, 30), None, None),
    ("zehn nach neun", None, t(9, 10), None, None),
    ("fünf vor halb zehn", None, t(9, 25), None, None),
    ("dreiviertel elf", None, t(10, 45), None, None),
    ("nächste Woche Dienstag vormittags", d(1, 12), None, (t(8), t(12)), None),
    ("Dienstag nächste Woche", d(1, 12), None, None, None),
    ("morgen um 9", d(24), t(9), None, None),
    ("morgen früh", d(24), None, (t(8), t(12)), None),
    ("morgen um 3", d(24), t(15), None, None),
    ("übermorgen nachmittags", d(25), None, (t(12), t(18)), None),
    ("am 2. Dezember um 9:30", d(2, 12), t(9, 30), None, None),
    ("am zweiten Dezember", d(2, 12), None, None, None),
    ("am 2.12.", d(2, 12), None, None, None),
    ("am 02.12.2027 um 10 Uhr", d(2, 12, 2027), t(10), None, None),
    ("nächsten Montag zwischen 10 und 12 Uhr", d(30), None, (t(10), t(12)), None),
    ("nächste Woche, Montag 10-12 Uhr", d(30), None, (t(10), t(12)), None),
    ("um zehn Uhr dreißig", None, t(10, 30), None, None),
    ("um 10:30 Uhr", None, t(10, 30), None, None),
    ("um 10.30 Uhr", None, t(10, 30), None, None),
    ("um 10 Uhr 30", None, t(10, 30), None, None),
    ("um fünfzehn Uhr", None, t(15), None, None),
    ("um ein Uhr", None, t(13), None, None),
    ("um eins", None, t(13), None, None),
    ("um 10 am Montag", d(30), t(10), None, None),
    ("8 Uhr abends", None, t(20), None, None),
    ("um 7 Uhr morgens", None, t(7), None, None),
    ("nächste Woche", None, None, None, (d(30), d(4, 12))),
    ("diese Woche", None, None, None, (d(23), d(27))),
    ("übernächste Woche", None, None, None, (d(7, 12), d(11, 12))),
    ("am Montag", d(30), None, None, None),
    ("diesen Freitag", d(27), None, None, None),
    ("nächsten Freitag", d(4, 12), None, None, None),
    ("kommenden Freitag", d(27), None, None, None),
    ("heute Nachmittag", d(23), None, (t(12), t(18)), None),
    ("am Vormittag", None, None, (t(8), t(12)), None),
    ("am dritten", d(3, 12), None, None, None),
    ("in zwei Tagen", d(25), None, None, None),
    ("ab 14 Uhr", None, None, (t(14), None), None),
    ("bis 12 Uhr", None, None, (None, t(12)), None),
    ("von 9 bis 11 Uhr", None, None, (t(9), t(11)), None),
    ("mittags", None, None, (t(11, 30), t(14)), None),
    ("Mittwoch um 12 Uhr mittags", d(25), t(12), None, None),
    ("naechste Woche Dienstag", d(1, 12), None, None, None),
]

NOTHING = [
    ("en", "My name is Max"),
    ("en", "Thank you"),
    ("en", "Hi, I'd like an appointment"),
    ("en", "Good morning, Miller dental practice, how can I help you?"),
    ("en", "Just a second, please."),
    ("en", "Yes, that one."),
    ("en", "I need an appointment for a dental cleaning"),
    ("en", "It takes about 30 minutes."),
    ("en", "For 2 people at the table"),
    ("en", ""),
    ("en", "   "),
    ("de", "Ja, passt"),
    ("de", "Ja, passt. Danke, tschüss!"),
    ("de", "Mein Name ist Erika Musterfrau."),
    ("de", "Hallo, ich möchte einen Termin vereinbaren."),
    ("de", "Guten Morgen, Praxis Müller."),
    ("de", "Guten Tag!"),
    ("de", "Einen Moment bitte."),
    ("de", "Das dauert etwa 30 Minuten."),
    ("de", "Meine Nummer ist 030 1234567."),
    ("de", "So früh wie möglich wäre gut."),
]


def check(w: When | None, day, exact, window, span) -> None:
    assert w is not None
    assert w.day == day
    assert w.time == exact
    assert (w.earliest, w.latest) == (window or (None, None))
    assert (w.first_day, w.last_day) == (span or (None, None))
    assert w.text


@pytest.mark.parametrize(("text", "day", "exact", "window", "span"), EN_MONDAY, ids=[c[0] for c in EN_MONDAY])
def test_english_on_a_monday(text, day, exact, window, span):
    check(parse_when(text, MONDAY, "en"), day, exact, window, span)


@pytest.mark.parametrize(("text", "day", "exact", "window", "span"), DE_MONDAY, ids=[c[0] for c in DE_MONDAY])
def test_german_on_a_monday(text, day, exact, window, span):
    check(parse_when(text, MONDAY, "de"), day, exact, window, span)


@pytest.mark.parametrize(("language", "text"), NOTHING)
def test_texts_without_a_date_give_none(language, text):
    assert parse_when(text, MONDAY, language) is None


# ------------------------------------------------------------------------------------------ other clocks


def test_weekdays_relative_to_a_tuesday_afternoon():
    assert parse_when("this Friday afternoon", TUESDAY, "en").day == d(27)
    assert parse_when("Monday", TUESDAY, "en").day == d(30)
    assert parse_when("next Monday", TUESDAY, "en").day == d(30)
    assert parse_when("Tuesday", TUESDAY, "en").day == d(1, 12)  # today is excluded
    assert parse_when("this Monday", TUESDAY, "en").day == d(30)  # passed this week: the next one
    assert parse_when("last Monday", TUESDAY, "en").day == d(23)
    assert parse_when("diese Woche", TUESDAY, "de").first_day == d(24)


def test_on_a_thursday_next_friday_is_in_next_week():
    assert parse_when("this Friday", THURSDAY, "en").day == d(27)
    assert parse_when("next Friday", THURSDAY, "en").day == d(4, 12)
    assert parse_when("Friday", THURSDAY, "en").day == d(27)
    assert parse_when("end of the week", THURSDAY, "en").first_day == d(26)


def test_on_a_saturday_next_monday_is_the_day_after_tomorrow():
    assert parse_when("next Monday", SATURDAY, "en").day == d(30)
    assert parse_when("Monday", SATURDAY, "en").day == d(30)
    w = parse_when("next week", SATURDAY, "en")
    assert (w.first_day, w.last_day) == (d(30), d(4, 12))
    w = parse_when("am Wochenende", SATURDAY, "de")
    assert (w.first_day, w.last_day) == (d(28), d(29))


def test_dates_across_the_new_year():
    assert parse_when("January 4th at 10", NEW_YEARS_EVE, "en").day == d(4, 1, 2027)
    assert parse_when("on the 2nd", NEW_YEARS_EVE, "en").day == d(2, 1, 2027)
    assert parse_when("am 31.12.", NEW_YEARS_EVE, "de").day == d(31, 12)
    assert parse_when("tomorrow", NEW_YEARS_EVE, "en").day == d(1, 1, 2027)
    assert parse_when("am 30. Februar", NEW_YEARS_EVE, "de") is None  # no such day


def test_the_original_phrase_is_kept():
    assert (
        parse_when("Next Monday at half past ten would be free", MONDAY).text
        == "Next Monday at half past ten"
    )
    assert parse_when("Am Mittwoch um 15 Uhr, wenn das geht.", MONDAY, "de").text == "Am Mittwoch um 15 Uhr"


# ------------------------------------------------------------------------------------------ helpers


def test_combine_takes_the_later_parts():
    first = parse_when("Wednesday", MONDAY, "en")
    both = first.combine(parse_when("at 3", MONDAY, "en"))
    assert (both.day, both.time) == (d(25), t(15))
    moved = both.combine(parse_when("Thursday", MONDAY, "en"))
    assert (moved.day, moved.time) == (d(26), t(15))
    assert both.combine(None) is both


def test_candidates_follow_day_window_and_clock():
    w = parse_when("next week, Monday 10-12", MONDAY, "en")
    got = list(w.candidates(MONDAY))
    assert [c.strftime("%Y-%m-%d %H:%M") for c in got] == [
        "2026-11-30 10:00",
        "2026-11-30 10:30",
        "2026-11-30 11:00",
        "2026-11-30 11:30",
    ]
    assert all(c.tzinfo is BERLIN for c in got)
    today = list(parse_when("this afternoon", MONDAY, "en").candidates(MONDAY))
    assert today[0].strftime("%H:%M") == "12:00" and today[-1].strftime("%H:%M") == "17:30"
    weekdays = {c.weekday() for c in parse_when("next week", MONDAY).candidates(MONDAY)}
    assert weekdays == {0, 1, 2, 3, 4}
    past = parse_when("this morning", datetime(2026, 11, 23, 11, 20, tzinfo=BERLIN), "en")
    assert [c.strftime("%H:%M") for c in past.candidates(datetime(2026, 11, 23, 11, 20, tzinfo=BERLIN))] == [
        "11:30"
    ]
    assert w.matches(datetime(2026, 11, 30, 10, 30, tzinfo=BERLIN))
    assert not w.matches(datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN))


# ------------------------------------------------------------------------------------------ saying it


@pytest.mark.parametrize(
    ("day", "language", "said"),
    [
        (d(30), "en", "Monday, November 30"),
        (d(30), "de", "Montag, 30. November"),
        (d(2, 12), "en", "Wednesday, December 2"),
        (d(2, 12), "de", "Mittwoch, 2. Dezember"),
        (d(4, 3, 2027), "de", "Donnerstag, 4. März"),
    ],
)
def test_say_day(day, language, said):
    assert say_day(day, language) == said


def test_say_day_names_another_year():
    assert say_day(d(4, 1, 2027), "en", MONDAY) == "Monday, January 4, 2027"
    assert say_day(d(4, 1, 2027), "de", MONDAY) == "Montag, 4. Januar 2027"
    assert say_day(d(30), "en", MONDAY) == "Monday, November 30"


@pytest.mark.parametrize(
    ("when", "language", "said"),
    [
        (t(10, 30), "en", "10:30"),
        (t(10, 30), "de", "10:30 Uhr"),
        (t(9, 5), "de", "9:05 Uhr"),
        (t(15), "de", "15 Uhr"),
        (t(15), "en", "3 pm"),
        (t(15, 30), "en", "3:30 pm"),
        (t(9), "en", "9 am"),
        (t(12), "en", "12 noon"),
        (t(12, 30), "en", "12:30 pm"),
    ],
)
def test_say_time(when, language, said):
    assert say_time(when, language) == said


def test_say_datetime_and_back():
    moment = datetime(2026, 11, 30, 10, 30, tzinfo=BERLIN)
    assert say_datetime(moment, "en") == "Monday, November 30 at 10:30"
    assert say_datetime(moment, "de") == "Montag, 30. November um 10:30 Uhr"
    for language in ("en", "de"):  # what Lisa says, she understands
        w = parse_when(say_datetime(moment, language), MONDAY, language)
        assert (w.day, w.time) == (moment.date(), moment.time())
    for hour in range(8, 18):
        for minute in (0, 15, 30, 45):
            m = datetime(2026, 12, 2, hour, minute, tzinfo=BERLIN)
            for language in ("en", "de"):
                w = parse_when(say_datetime(m, language), MONDAY, language)
                assert (w.day, w.time) == (m.date(), m.time()), (language, say_datetime(m, language))


# ------------------------------------------------------------------------------------------ more phrasing

MORE = [
    # (language, text, day, exact time, window, span) on MONDAY
    ("en", "Monday to Wednesday", None, None, None, (d(23), d(25))),
    ("en", "between Tuesday and Thursday", None, None, None, (d(24), d(26))),
    ("en", "next week Tuesday to Thursday", None, None, None, (d(1, 12), d(3, 12))),
    ("de", "Mo-Fr", None, None, None, (d(23), d(27))),
    ("de", "Di bis Do vormittags", None, None, (t(8), t(12)), (d(24), d(26))),
    ("en", "Monday and Wednesday", d(25), None, None, None),  # two days: the earlier (and or_days)
    ("en", "in an hour", d(23), t(10, 15), None, None),
    ("en", "in 20 minutes", d(23), t(9, 35), None, None),
    ("de", "in einer halben Stunde", d(23), t(9, 45), None, None),
    ("de", "in zwei Stunden", d(23), t(11, 15), None, None),
    ("en", "Monday, November 30 at 10:30", d(30), t(10, 30), None, None),
    ("de", "Montag, den 30. November um 10:30 Uhr", d(30), t(10, 30), None, None),
    ("en", "Monday the 30th", d(30), None, None, None),
    ("en", "December the 2nd", d(2, 12), None, None, None),
    ("en", "2nd December", d(2, 12), None, None, None),
    ("en", "on the second", d(2, 12), None, None, None),
    ("en", "How about Thursday at 2?", d(26), t(14), None, None),
    ("en", "Tuesday at 9.", d(24), t(9), None, None),
    ("en", "At 11.15 on Wednesday.", d(25), t(11, 15), None, None),
    ("en", "Tomorrow at 10.30 a.m.", d(24), t(10, 30), None, None),
    ("en", "tomorrow at nine thirty", d(24), t(9, 30), None, None),
    ("en", "Wednesday at three o'clock in the afternoon", d(25), t(15), None, None),
    ("en", "Friday morning at 7", d(27), t(7), None, None),
    ("en", "late afternoon", None, None, (t(15), t(18)), None),
    ("en", "early morning", None, None, (t(8), t(10)), None),
    ("en", "no later than 4", None, None, (None, t(16)), None),
    ("en", "in a week", d(30), None, None, None),
    ("en", "in two weeks", d(7, 12), None, None, None),
    ("en", "this weekend", None, None, None, (d(28), d(29))),
    ("en", "2026-12-02 at 14:00", d(2, 12), t(14), None, None),
    ("en", "Noon on Friday", d(27), t(12), None, None),
    ("de", "Donnerstag gegen 14 Uhr", d(26), t(14), None, None),
    ("de", "Freitag so um halb drei", d(27), t(14, 30), None, None),
    ("de", "am Freitag Viertel nach 10", d(27), t(10, 15), None, None),
    ("de", "zehn vor zwölf", None, t(11, 50), None, None),
    ("de", "zwanzig nach vier", None, t(16, 20), None, None),
    ("de", "um halb acht morgens", None, t(7, 30), None, None),
    ("de", "morgen Vormittag", d(24), None, (t(8), t(12)), None),
    ("de", "morgen Abend um 7", d(24), t(19), None, None),
    ("de", "heute", d(23), None, None, None),
    ("de", "Montag nächster Woche um 11", d(30), t(11), None, None),
    ("de", "kommende Woche", None, None, None, (d(30), d(4, 12))),
    ("de", "Anfang nächster Woche", None, None, None, (d(30), d(1, 12))),
    ("de", "Ende der Woche", None, None, None, (d(26), d(27))),
    ("de", "am 24.12.", d(24, 12), None, None, None),
    ("de", "am ersten Dezember um 8", d(1, 12), t(8), None, None),
    ("de", "am fünfundzwanzigsten", d(25), None, None, None),
    ("de", "nicht vor 10 Uhr", None, None, (t(10), None), None),
    ("de", "spätestens um 16 Uhr", None, None, (None, t(16)), None),
    ("de", "um 14 Uhr 15", None, t(14, 15), None, None),
    ("de", "Mittwoch 14.30", d(25), t(14, 30), None, None),
    ("de", "Uebermorgen um zwoelf", d(25), t(12), None, None),
]


@pytest.mark.parametrize(
    ("language", "text", "day", "exact", "window", "span"), MORE, ids=[c[1] for c in MORE]
)
def test_more_phrasing(language, text, day, exact, window, span):
    check(parse_when(text, MONDAY, language), day, exact, window, span)


MORE_NOTHING = [
    ("en", "How can I help you today?"),
    ("en", "Good afternoon, this is Salon Schmidt."),
    ("en", "Have a nice day!"),
    ("en", "The first thing I need is your name."),
    ("en", "Look at one of the options"),
    ("en", "May I have your name, please?"),
    ("en", "Call me at 0301234567"),
    ("en", "I'm 30 years old."),
    ("en", "It costs about 45 euros."),
    ("en", "We have 2-3 people waiting."),
    ("de", "Guten Morgen, wie kann ich Ihnen heute helfen?"),
    ("de", "Schönen Abend noch!"),
    ("de", "Ich komme mit 2 Personen."),
    ("de", "Das kostet um 5 Euro."),
    ("de", "Darauf müssen wir achten."),
    ("de", "Vielen Dank, bis dann."),
]


@pytest.mark.parametrize(("language", "text"), MORE_NOTHING)
def test_more_texts_without_a_date(language, text):
    assert parse_when(text, MONDAY, language) is None


def test_german_am_is_not_a_m_but_english_am_is():
    assert parse_when("um 10 am Montag", MONDAY, "de").time == t(10)
    assert parse_when("at 5 am", MONDAY, "en").time == t(5)
    assert parse_when("at 5", MONDAY, "en").time == t(17)


def test_garbage_and_huge_input_never_raise():
    import random

    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüß0123456789 .:,-/'!?"
    words = [w for row in EN_MONDAY + DE_MONDAY for w in row[0].split()] + ["at", "um", "bis", "halb", "the"]
    for _ in range(400):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        phrase = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        for text in (noise, phrase, f"{phrase} {noise}"):
            for language in ("en", "de"):
                w = parse_when(text, MONDAY, language)
                assert w is None or (not w.is_empty and w.text)
    assert parse_when("next Monday at 10 " * 5000, MONDAY, "en").day == d(30)


# ------------------------------------------------------------------------------------------ as Whisper hears it

HEARD = [  # what a party says on the phone -> what the day/time must come out as
    ("Next Monday at half past ten would be free.", d(30), t(10, 30), None),
    ("Tomorrow at 4 pm.", d(24), t(16), None),
    ("December 2nd at 9:30.", d(2, 12), t(9, 30), None),  # Whisper writes "at 930"
    ("Monday at ten thirty.", d(30), t(10, 30), None),  # "at 1030" / "at 10 30"
    ("Quarter to three.", None, t(14, 45), None),
    ("Monday, between 10 and 12.", d(30), None, (t(10), t(12))),
    ("Next week, Tuesday at noon.", d(1, 12), t(12), None),
    ("Friday at twenty to five.", d(27), t(16, 40), None),
]

WHISPER_WRITES = [  # transcripts seen from faster-whisper tiny.en on Piper speech over 8 kHz mu-law
    ("December 2nd at 930.", d(2, 12), t(9, 30)),
    ("December 2nd at 930. December 2nd, 930. This December 2nd is 930.", d(2, 12), t(9, 30)),
    ("Monday at 1030. Monday at 10 30. Monday at", d(30), t(10, 30)),
    ("Wednesday at 11.15, Wednesday at 11 15, Wednesday at 1.15,", d(25), t(11, 15)),
    ("Wednesday at 1115, when stay at 1115.", d(25), t(11, 15)),
    ("on the third at 2 p. m, on the third it to p. m.", d(3, 12), t(14)),
    ("tomorrow at 4pm.", d(24), t(16)),
    ("Friday at 20 to 5. Friday at 20", d(27), t(16, 40)),
    ("Next Monday at half past 10 would be free. Next Monday at 1,5 past 10 would", d(30), t(10, 30)),
    ("Next Monday at half pass, 10 would be free.", d(30), t(10, 30)),
    ("Friday at 20 to 5. Friday at 20-5. Friday at 25-5.", d(27), t(16, 40)),
]


@pytest.mark.parametrize(("text", "day", "exact"), WHISPER_WRITES, ids=[c[0][:30] for c in WHISPER_WRITES])
def test_whisper_transcripts(text, day, exact):
    w = parse_when(text, MONDAY, "en")
    assert (w.day, w.time) == (day, exact)


@pytest.mark.voice
@pytest.mark.parametrize(("said", "day", "exact", "window"), HEARD, ids=[c[0] for c in HEARD])
def test_spoken_over_the_phone_and_transcribed(said, day, exact, window):
    """Piper speaks the phrase, it goes through 8 kHz mu-law like a call, Whisper transcribes, we parse.

    The party's voice without Piper's random noise, so the audio (and the test) is the same on every run.
    """
    from dataclasses import replace

    from pipelines.audio import pcm16_to_float
    from pipelines.local_models import PARTY_STYLE, synthesize, transcribe_short
    from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

    pcm, rate = synthesize(said, replace(PARTY_STYLE, noise_scale=0.0, noise_w_scale=0.0))
    line = ulaw_to_pcm16(pcm16_to_ulaw(resample_pcm16(pcm, rate, 8000)))
    heard = transcribe_short(pcm16_to_float(resample_pcm16(line, 8000, 16000)))
    w = parse_when(heard, MONDAY, "en")
    assert w is not None, heard
    assert (w.day, w.time, (w.earliest, w.latest)) == (day, exact, window or (None, None)), heard


# ------------------------------------------------------------------------------------------ several mentions

SEVERAL = [
    ("en", "I'm sorry, Monday is fully booked. How about Tuesday at 10?", d(24), t(10)),
    ("en", "Monday at 10 is taken, sorry. But Monday at 11 is free.", d(30), t(11)),
    ("en", "Monday at 10 is taken but Monday at 11 is free", d(30), t(11)),
    ("de", "Leider ist Mittwoch um 15 Uhr schon belegt. Donnerstag um 16 Uhr wäre frei.", d(26), t(16)),
    ("de", "Mittwoch um 15 Uhr geht leider nicht, aber Freitag um 9 Uhr", d(27), t(9)),
    ("en", "Wednesday. At 3 pm.", d(25), t(15)),  # no clause has both: the whole text
    ("de", "am 2. Dezember. Um 9:30 Uhr.", d(2, 12), t(9, 30)),
    ("en", "Tomorrow at 10 a.m. works. Thanks!", d(24), t(10)),
    ("en", "No, Monday at 10 is fine.", d(30), t(10)),  # the only offer, even with a "no"
    ("en", "around 3ish on Friday", d(27), t(15)),
]


@pytest.mark.parametrize(("language", "text", "day", "exact"), SEVERAL, ids=[c[1][:40] for c in SEVERAL])
def test_the_offer_among_several_mentions(language, text, day, exact):
    w = parse_when(text, MONDAY, language)
    assert (w.day, w.time) == (day, exact)


GERMAN_SPEECH = [
    ("um zwo Uhr", None, t(14), None),
    ("zwoundzwanzig nach zehn", None, t(10, 22), None),
    ("Montagvormittag", d(30), None, (t(8), t(12))),
    ("Dienstagnachmittag um 3", d(24), t(15), None),
    ("Montag Morgen um 9", d(30), t(9), None),  # Monday morning, not "tomorrow"
    ("heute Morgen", d(23), None, (t(8), t(12))),
    ("Freitagabend", d(27), None, (t(17), t(21))),
    ("morgen Nachmittag", d(24), None, (t(12), t(18))),
]


@pytest.mark.parametrize(("text", "day", "exact", "window"), GERMAN_SPEECH, ids=[c[0] for c in GERMAN_SPEECH])
def test_german_compounds_and_phone_words(text, day, exact, window):
    check(parse_when(text, MONDAY, "de"), day, exact, window, None)


def test_ten_oh_five():
    assert parse_when("at ten oh five", MONDAY, "en").time == t(10, 5)


MONTHS = [
    ("en", "in December", (d(1, 12), d(31, 12))),
    ("de", "Anfang Dezember", (d(1, 12), d(10, 12))),
    ("en", "mid-December", (d(11, 12), d(20, 12))),
    ("de", "Ende November", (d(23), d(30))),  # from today on
    ("en", "early January", (d(1, 1, 2027), d(10, 1, 2027))),
    ("en", "next month", (d(1, 12), d(31, 12))),
    ("de", "nächsten Monat", (d(1, 12), d(31, 12))),
    ("en", "this month", (d(23), d(30))),
    ("en", "in May", (d(1, 5, 2027), d(31, 5, 2027))),
]


@pytest.mark.parametrize(("language", "text", "span"), MONTHS, ids=[c[1] for c in MONTHS])
def test_month_spans(language, text, span):
    check(parse_when(text, MONDAY, language), None, None, None, span)


def test_a_bare_month_word_is_no_date():
    assert parse_when("May I have your name?", MONDAY, "en") is None
    assert parse_when("March", MONDAY, "en") is None


def test_counting_is_not_a_window():
    assert parse_when("Be brief: one to three short sentences per turn.", MONDAY, "en") is None
    assert parse_when("Fasse dich kurz: ein bis drei kurze Sätze pro Antwort.", MONDAY, "de") is None
    w = parse_when("from one to three", MONDAY, "en")
    assert (w.earliest, w.latest) == (t(13), t(15))
    w = parse_when("zehn bis zwölf Uhr", MONDAY, "de")
    assert (w.earliest, w.latest) == (t(10), t(12))
    assert parse_when("bis drei Uhr", MONDAY, "de").latest == t(15)


def test_language_enum_and_other_timezones():
    from agent.conversation import Language

    assert parse_when("am Mittwoch um 15 Uhr", MONDAY, Language.DE).time == t(15)
    assert say_time(t(15), Language.DE) == "15 Uhr"
    # the result is local to ``now``: late on Monday in New York is already Tuesday in Berlin
    new_york = datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert parse_when("tomorrow", new_york, "en").day == d(24)
    assert parse_when("tomorrow", new_york.astimezone(BERLIN), "en").day == d(25)


OFFERS = [  # what a business says when Lisa calls
    ("en", "We have something on Thursday at 2:30 or Friday at 11.", d(26), t(14, 30), None),
    ("en", "The earliest I can offer is December 3rd at 8 am.", d(3, 12), t(8), None),
    ("en", "How about the 1st at 9?", d(1, 12), t(9), None),
    ("en", "Would 3 o'clock on Wednesday work?", d(25), t(15), None),
    ("en", "Sorry, nothing until next Wednesday, then at 4:15.", d(2, 12), t(16, 15), None),
    ("en", "Could you call back after lunch?", None, None, (t(13), t(18))),
    ("de", "Wir hätten am Donnerstag um halb drei was frei.", d(26), t(14, 30), None),
    ("de", "Geht auch Freitag um elf?", d(27), t(11), None),
    ("de", "Erst wieder am Montag, den 7. Dezember, um 10:45 Uhr.", d(7, 12), t(10, 45), None),
    ("de", "Rufen Sie bitte nach 14 Uhr nochmal an.", None, None, (t(14), None)),
    ("de", "Dienstag vor der Mittagspause", d(24), None, (t(8), t(12))),
]


@pytest.mark.parametrize(
    ("language", "text", "day", "exact", "window"), OFFERS, ids=[c[1][:40] for c in OFFERS]
)
def test_what_businesses_say(language, text, day, exact, window):
    check(parse_when(text, MONDAY, language), day, exact, window, None)


# --------------------------------------------------------------------------------------------- every offer


def _slots(offers):
    return [(w.day, w.time) for w in offers]


OFFER_LISTS = [
    ("en", "Monday at eight or Wednesday at four in the afternoon", [(d(30), t(8)), (d(25), t(16))]),
    ("en", "I have Tuesday at 9, or Thursday at 2:30", [(d(24), t(9)), (d(26), t(14, 30))]),
    (
        "en",
        "We could do Monday at 8, Tuesday at 11 or Wednesday at 3.",
        [(d(30), t(8)), (d(24), t(11)), (d(25), t(15))],
    ),
    ("en", "Monday is full. I have Tuesday at 9, or Thursday at 2:30.", [(d(24), t(9)), (d(26), t(14, 30))]),
    ("en", "Monday at 10 is taken but Monday at 11 is free", [(d(30), t(11))]),
    ("en", "Monday at 8 or 10", [(d(30), t(8)), (d(30), t(10))]),
    ("en", "There's Thursday at two thirty and Friday at eleven.", [(d(26), t(14, 30)), (d(27), t(11))]),
    (
        "en",
        "Let me see... Tuesday at 9 would work, or Thursday at 2:30, which do you prefer?",
        [(d(24), t(9)), (d(26), t(14, 30))],
    ),
    ("en", "Monday, November 30 at 10", [(d(30), t(10))]),
    ("en", "Sorry, nothing until next Wednesday, then at 4:15.", [(d(2, 12), t(16, 15))]),
    ("en", "No, Monday at 10 is fine.", [(d(30), t(10))]),
    ("en", "Monday at 10 is taken.", []),
    ("de", "Montag um acht oder Mittwoch um vier Uhr nachmittags", [(d(30), t(8)), (d(25), t(16))]),
    ("de", "Ich hätte Dienstag um 9 oder Donnerstag um halb drei", [(d(24), t(9)), (d(26), t(14, 30))]),
    ("de", "Leider ist Mittwoch um 15 Uhr schon belegt. Donnerstag um 16 Uhr wäre frei.", [(d(26), t(16))]),
    ("de", "Erst wieder am Montag, den 7. Dezember, um 10:45 Uhr.", [(d(7, 12), t(10, 45))]),
    ("de", "Dienstag um neun, sonst Freitag um elf", [(d(24), t(9)), (d(27), t(11))]),
    ("en", "I can offer you 9:30 or 11 on Tuesday", [(d(24), t(9, 30)), (d(24), t(11))]),
    ("en", "We're closed on Friday, but Thursday at 4 would work.", [(d(26), t(16))]),
    ("de", "um halb zehn oder um elf am Dienstag", [(d(24), t(9, 30)), (d(24), t(11))]),
    ("en", "Tuesday at 9 or Wednesday", [(d(24), t(9)), (d(25), None)]),
]


@pytest.mark.parametrize(("language", "text", "slots"), OFFER_LISTS, ids=[c[1][:40] for c in OFFER_LISTS])
def test_every_offer_keeps_its_own_day_and_time(language, text, slots):
    assert _slots(parse_offers(text, MONDAY, language)) == slots


CORRECTIONS = [
    ("en", "Thursday at ten — no, sorry, Friday at ten", d(27), t(10)),
    ("en", "Thursday at ten. No, sorry, Friday at ten.", d(27), t(10)),
    ("en", "Thursday at ten, or rather eleven", d(26), t(11)),
    ("en", "Thursday at ten, sorry, I mean Friday", d(27), t(10)),
    ("en", "Tuesday at nine, make that ten", d(24), t(10)),
    ("en", "Wednesday at 3, no wait, at 4", d(25), t(16)),
    ("de", "Donnerstag um zehn, ach nein, lieber Freitag um zehn", d(27), t(10)),
    ("de", "Donnerstag um zehn, ach nein, um elf", d(26), t(11)),
    ("de", "Dienstag um neun, ich meine Mittwoch um neun", d(25), t(9)),
    ("de", "Freitag um 14 Uhr, nein Verzeihung, um 15 Uhr", d(27), t(15)),
]


@pytest.mark.parametrize(
    ("language", "text", "day", "exact"), CORRECTIONS, ids=[c[1][:40] for c in CORRECTIONS]
)
def test_a_self_correction_replaces_what_it_corrects(language, text, day, exact):
    w = parse_when(text, MONDAY, language)
    assert (w.day, w.time) == (day, exact)
    assert _slots(parse_offers(text, MONDAY, language)) == [(day, exact)]


@pytest.mark.parametrize(
    ("language", "text", "day", "exact"),
    [
        ("en", "Wednesday at nine. Oh wait, that one's gone. Half past nine.", d(25), t(9, 30)),
        ("en", "Wednesday at 9, oh wait that once gone half past 9.", d(25), t(9, 30)),  # as Whisper heard it
        ("en", "Wednesday at 9, oh wait, half past 9.", d(25), t(9, 30)),
        ("en", "Tuesday at ten, that one's just been taken, eleven.", d(24), t(11)),
        ("de", "Mittwoch um neun, ach nee, der ist schon weg, halb zehn.", d(25), t(9, 30)),
    ],
)
def test_cues_in_a_row_and_a_slot_gone_are_one_correction(language, text, day, exact):
    assert _slots(parse_offers(text, MONDAY, language)) == [(day, exact)]


@pytest.mark.parametrize(
    ("language", "text", "taken_back"),
    [
        ("en", "Thursday at 10, no. Sorry.", True),
        ("en", "Thursday at 10, no sorry, wait.", True),
        ("de", "Donnerstag um zehn, nein, Entschuldigung.", True),
        ("en", "Monday at ten, no?", False),  # a question
        ("en", "No, Thursday at 10.", False),
        ("en", "Thursday at ten, no, sorry, Friday at ten.", False),
    ],
)
def test_a_slot_taken_back_with_nothing_after_it_is_no_offer(language, text, taken_back):
    assert offer_taken_back(text, MONDAY, language) is taken_back
    assert (parse_offers(text, MONDAY, language) == []) is taken_back


def test_a_correction_replaces_only_the_offer_before_it():
    offers = parse_offers("Monday at 8 or Wednesday at 3 — sorry, I mean Wednesday at 4", MONDAY, "en")
    assert _slots(offers) == [(d(30), t(8)), (d(25), t(16))]


@pytest.mark.parametrize(
    "text", ["Monday at 10, no problem", "No, sorry, Monday is full.", "The first one.", "Den ersten, bitte."]
)
def test_no_is_not_always_a_correction_and_a_pick_is_no_date(text):
    offers = parse_offers(text, MONDAY, "de" if "ersten" in text else "en")
    assert _slots(offers) in ([(d(30), t(10))], [])
    if "Monday at 10" in text:
        assert parse_when(text, MONDAY, "en").time == t(10)


@pytest.mark.parametrize(
    ("said", "language", "slot"),
    [("We're booked solid for the next few weeks, the earliest I have is December fourteenth at ten.", "en",
      "2026-12-14T10:00"),
     ("We are fully booked, Wednesday at 3?", "en", "2026-11-25T15:00"),
     ("Wir sind komplett voll, Mittwoch um drei ginge.", "de", "2026-11-25T15:00")],
)  # fmt: skip
def test_a_slot_after_a_refusal_in_the_same_sentence_is_offered(said, language, slot):
    offers = parse_offers(said, MONDAY, language)
    assert [f"{w.day.isoformat()}T{w.time.strftime('%H:%M')}" for w in offers] == [slot]
