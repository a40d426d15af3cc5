"""The week a caller names ("an appointment next week", "übernächste Woche", "in two weeks", "the week of the
7th") holds for a bare weekday said in a later turn ("Tuesday at ten then", "lieber Mittwoch"), whatever Lisa
offered meanwhile, until the caller names another day or week ("this Friday", "tomorrow", "diese Woche").
The clock stands on Tuesday, November 24, 2026: this week runs Nov 23-29, next week Nov 30-Dec 6, the week
after Dec 7-13."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.calendar import Booking, InMemoryCalendar
from agent.when import parse_when

TUESDAY_9 = "2026-11-24T09:00:00+01:00"
NOW = datetime(2026, 11, 24, 9, tzinfo=ZoneInfo("Europe/Berlin"))
PICK = {"en": "the first one", "de": "die erste"}
NAME = "Klara Vogt"


@pytest.fixture
def engine():
    return rule_engine(ManualClock(TUESDAY_9), InMemoryCalendar())


async def _book(t, lang: str, *lines: str) -> str:
    """Say ``lines``; when Lisa then offers times of a day, take the first; give the name; the booked start."""
    reply = ""
    for line in lines:
        reply = await t(line)
    if "could offer" in reply or "hätte ich" in reply:
        await t(PICK[lang])
    await t(NAME)
    assert t.outcome["status"] == "booked", t.said
    return t.outcome["appointment"]


@pytest.mark.parametrize(
    ("mode", "lang", "wish", "day", "slot"),
    [
        ("chat", "en", "I'd like an appointment next week", "Tuesday at ten then", "2026-12-01T10:00"),
        ("inbound", "en", "I'd like an appointment next week", "how about Wednesday afternoon", "2026-12-02T12:00"),
        ("chat", "en", "Can I come in the week after next?", "Tuesday at ten then", "2026-12-08T10:00"),
        ("inbound", "en", "Do you have anything in two weeks?", "Thursday at 11 would be better", "2026-12-10T11:00"),
        ("chat", "en", "Could I book a massage for the week of the 7th?", "Friday morning then", "2026-12-11T08:00"),
        ("chat", "en", "Anything early next week?", "Actually, Thursday at 3 works better", "2026-12-03T15:00"),
        ("inbound", "en", "Is there a slot sometime the week after next?", "Monday at 9 please", "2026-12-07T09:00"),
        ("chat", "de", "Ich hätte gern einen Termin nächste Woche", "Dienstag um 10 dann", "2026-12-01T10:00"),
        ("inbound", "de", "Ich hätte gern einen Termin nächste Woche", "lieber Mittwoch", "2026-12-02T08:00"),
        ("chat", "de", "Geht es übernächste Woche?", "Dann Donnerstag um 14 Uhr", "2026-12-10T14:00"),
        ("inbound", "de", "Haben Sie in zwei Wochen etwas frei?", "Mittwoch um halb zehn wäre gut", "2026-12-09T09:30"),
        ("chat", "de", "Ich bräuchte einen Termin in der Woche vom 7.", "Freitag vormittags", "2026-12-11T08:00"),
        ("chat", "de", "Haben Sie kommende Woche etwas?", "Wie wäre es mit Mittwoch um elf?", "2026-12-02T11:00"),
        ("inbound", "de", "Ende nächster Woche wäre mir recht", "Donnerstag um 9 bitte", "2026-12-03T09:00"),
    ],
)  # fmt: skip
async def test_a_bare_weekday_later_is_in_the_week_named_before(engine, mode, lang, wish, day, slot):
    t = await talk(engine, mode, lang)
    await t(wish)
    assert await _book(t, lang, day) == slot


@pytest.mark.parametrize(
    ("lang", "wish", "day", "slot"),
    [
        ("en", "I'd like an appointment next week", "Tuesday at ten then", "2026-12-01T10:00"),
        ("en", "Could I come in sometime next week?", "OK, Tuesday at 10 works", "2026-12-01T10:00"),
        ("en", "Any chance next week?", "how about Wednesday at two", "2026-12-02T14:00"),
        ("de", "Ich brauche nächste Woche einen Termin", "Dienstag um 10 dann", "2026-12-01T10:00"),
        ("de", "Haben Sie nächste Woche noch was frei?", "Geht Dienstag um zehn?", "2026-12-01T10:00"),
        ("de", "Nächste Woche wäre gut", "dann lieber Mittwoch um 14 Uhr", "2026-12-02T14:00"),
    ],
)  # fmt: skip
async def test_on_a_monday_next_week_is_not_tomorrow(lang, wish, day, slot):
    """Said on Monday, November 23: "next week", then "Tuesday at ten" is December 1, not tomorrow."""
    t = await talk(rule_engine(ManualClock("2026-11-23T09:00:00+01:00"), InMemoryCalendar()), "chat", lang)
    await t(wish)
    assert await _book(t, lang, day) == slot


@pytest.mark.parametrize(
    ("lang", "lines", "slot"),
    [
        # Lisa offered Monday of next week; declined; then a weekday
        ("en", ["I'd like an appointment next week", "No, none of those", "Wednesday at ten then"], "2026-12-02T10:00"),
        ("de", ["Ich hätte gern einen Termin übernächste Woche", "Nein, das passt alles nicht", "Dann Mittwoch um zehn"], "2026-12-09T10:00"),
        # a weekday and time among the offered ones picks it
        ("en", ["Can I come in the week after next?", "Monday at 1 then"], "2026-12-07T13:00"),
        ("de", ["Geht es übernächste Woche?", "Montag um 13 Uhr dann"], "2026-12-07T13:00"),
        # another weekday's offers first, then one more weekday: still that week
        ("en", ["Do you have anything in two weeks?", "how about Wednesday afternoon", "hmm, Thursday at ten rather"], "2026-12-10T10:00"),
        ("de", ["Haben Sie in zwei Wochen etwas frei?", "lieber Mittwoch", "doch lieber Donnerstag um zehn"], "2026-12-10T10:00"),
        # the name first, the day after it
        ("en", ["I'd like an appointment the week after next", "It's for Klara Vogt", "Tuesday at ten then"], "2026-12-08T10:00"),
    ],
)  # fmt: skip
async def test_the_week_holds_through_lisas_offers(engine, lang, lines, slot):
    t = await talk(engine, "chat", lang)
    assert await _book(t, lang, *lines) == slot


async def test_a_taken_time_and_lisas_alternative_keep_the_week():
    """Next week's Wednesday at ten is taken: Lisa offers another time; "Thursday at ten then" is next week's."""
    tz = ZoneInfo("Europe/Berlin")
    calendar = InMemoryCalendar()
    start = datetime(2026, 12, 2, 10, tzinfo=tz)
    await calendar.add(Booking(start, start + timedelta(hours=2), "Someone", "massage"))
    t = await talk(rule_engine(ManualClock(TUESDAY_9), calendar), "chat", "en")
    await t("I'd like an appointment next week")
    reply = await t("Wednesday at ten then")
    assert "December 2 at 10" in reply and "Wednesday, December 2 at 10 am is free" not in reply
    assert await _book(t, "en", "No, Thursday at ten then") == "2026-12-03T10:00"


@pytest.mark.parametrize(
    ("lang", "wish", "explicit", "slot"),
    [
        ("en", "I'd like an appointment next week", "this Friday at 10", "2026-11-27T10:00"),
        ("en", "Can I come in the week after next?", "Actually, Friday this week at ten", "2026-11-27T10:00"),
        ("en", "Do you have anything in two weeks?", "tomorrow at 10 then", "2026-11-25T10:00"),
        ("de", "Ich hätte gern einen Termin nächste Woche", "diese Woche Freitag um 10", "2026-11-27T10:00"),
        ("de", "Geht es übernächste Woche?", "doch lieber diesen Freitag um zehn", "2026-11-27T10:00"),
        ("de", "Haben Sie in zwei Wochen etwas frei?", "morgen um 10", "2026-11-25T10:00"),
    ],
)  # fmt: skip
async def test_an_explicit_day_or_week_afterwards_means_it(engine, lang, wish, explicit, slot):
    t = await talk(engine, "chat", lang)
    await t(wish)
    assert await _book(t, lang, explicit) == slot


@pytest.mark.parametrize(
    ("lang", "wish", "explicit", "bare", "slot"),
    [
        ("en", "I'd like an appointment next week", "this Friday at 10", "Thursday at ten instead", "2026-11-26T10:00"),
        ("en", "Can I come in the week after next?", "tomorrow at 10", "or Thursday at ten?", "2026-11-26T10:00"),
        ("de", "Ich hätte gern einen Termin nächste Woche", "diese Woche Freitag um 10", "lieber Donnerstag um zehn", "2026-11-26T10:00"),
        ("de", "Geht es übernächste Woche?", "morgen um 10", "oder Donnerstag um zehn", "2026-11-26T10:00"),
        # another later week named: that one holds now
        ("en", "I'd like an appointment next week", "hmm, rather the week after next", "Thursday at ten then", "2026-12-10T10:00"),
        ("de", "Ich hätte gern einen Termin übernächste Woche", "doch lieber nächste Woche", "Donnerstag um zehn dann", "2026-12-03T10:00"),
    ],
)  # fmt: skip
async def test_another_day_or_week_said_ends_the_week(engine, lang, wish, explicit, bare, slot):
    t = await talk(engine, "chat", lang)
    assert await _book(t, lang, wish, explicit, bare) == slot


@pytest.mark.parametrize(
    ("lang", "text", "monday"),
    [
        ("en", "an appointment next week", date(2026, 11, 30)),
        ("en", "the week after next", date(2026, 12, 7)),
        ("en", "in two weeks", date(2026, 12, 7)),
        ("en", "the week of the 9th", date(2026, 12, 7)),
        ("en", "next Thursday", date(2026, 11, 30)),
        ("de", "übernächste Woche", date(2026, 12, 7)),
        ("de", "nächsten Mittwoch", date(2026, 11, 30)),
        ("de", "in 14 Tagen", date(2026, 12, 7)),
        ("en", "this Friday", None),
        ("en", "tomorrow", None),
        ("en", "December 3rd", None),
        ("de", "diese Woche Freitag", None),
        ("de", "nächsten Monat", None),
    ],
)
def test_named_week(lang, text, monday):
    when = parse_when(text, NOW, lang)
    assert when is not None
    assert nlu.named_week(text, when, NOW) == monday


@pytest.mark.parametrize(
    ("lang", "text", "first", "last"),
    [
        ("en", "Tuesday at ten then", date(2026, 12, 8), date(2026, 12, 8)),
        ("en", "Monday to Wednesday", date(2026, 12, 7), date(2026, 12, 9)),
        ("de", "lieber Sonntag", date(2026, 12, 13), date(2026, 12, 13)),
        ("de", "Montag bis Mittwoch", date(2026, 12, 7), date(2026, 12, 9)),
    ],
)
def test_weekday_in_week(lang, text, first, last):
    moved = nlu.weekday_in_week(text, date(2026, 12, 7), NOW, lang)
    assert moved is not None and moved.days()[0] == first and moved.days()[-1] == last
