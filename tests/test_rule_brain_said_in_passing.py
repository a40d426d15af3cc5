"""The rule brain inbound and in chats on what is said in passing, en + de, through the Engine: a day in a
story is no wish ("The bus is painted green on Sunday"), and a name given instead of the day is kept."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.phrases import phrase

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # Monday
BOOK = {"en": "I'd like to book an appointment", "de": "Ich hätte gern einen Termin"}


@pytest.fixture
def engine():
    return rule_engine(ManualClock(NOW.isoformat()))


# ---------------------------------------------------------------- class 1: a day in a story is no wish
STORIES = {
    "en": [
        "The bus is painted green on Sunday",
        "The bus is painted green on Sundays.",
        "My daughter starts school on Monday",
        "Last Friday I was here",
        "We went to the lake on Sunday",
        "My husband works on Saturdays",
        "I hurt my back on Thursday",
        "It rained all day on Tuesday.",
    ],
    "de": [
        "Am Sonntag war ich wandern",
        "Meine Tochter hat am Montag Schulanfang",
        "Wir waren am Sonntag am See.",
        "Letzten Freitag war ich schon hier",
        "Der Bus ist sonntags grün",
        "Mein Mann arbeitet am Samstag",
        "Am Donnerstag hat es den ganzen Tag geregnet.",
    ],
}
STORY_CASES = [(lang, s) for lang, stories in STORIES.items() for s in stories]
WISHES = {
    "en": [
        ("Monday", date(2026, 11, 30)),
        ("on Sunday maybe", date(2026, 11, 29)),
        ("Sunday would be great", date(2026, 11, 29)),
        ("Tuesday at ten please", date(2026, 11, 24)),
        ("Maybe Friday morning", date(2026, 11, 27)),
        ("I was hoping for Thursday", date(2026, 11, 26)),
        ("Do you have anything on Wednesday?", date(2026, 11, 25)),
        ("Tuesday for a massage", date(2026, 11, 24)),
    ],
    "de": [
        ("Montag", date(2026, 11, 30)),
        ("Am Sonntag vielleicht", date(2026, 11, 29)),
        ("Sonntag wäre super", date(2026, 11, 29)),
        ("Dienstag um zehn bitte", date(2026, 11, 24)),
        ("Vielleicht Freitag vormittag", date(2026, 11, 27)),
        ("Hätten Sie am Donnerstag Zeit?", date(2026, 11, 26)),
        ("Geht Mittwoch?", date(2026, 11, 25)),
        ("Dienstag für die Massage", date(2026, 11, 24)),
    ],
}
WISH_CASES = [(lang, s, day) for lang, wishes in WISHES.items() for s, day in wishes]


@pytest.mark.parametrize(("lang", "story"), STORY_CASES)
def test_a_day_in_a_story_is_no_wish(lang, story):
    assert nlu.parse_when_corrected(story, NOW, lang) is not None  # a day is in it
    assert nlu.wished_when(story, NOW, lang) is None


@pytest.mark.parametrize(("lang", "said", "day"), WISH_CASES)
def test_a_bare_day_a_question_or_a_wish_is_a_wish(lang, said, day):
    when = nlu.wished_when(said, NOW, lang)
    assert when is not None and when.day == day


@pytest.mark.parametrize(
    ("lang", "said", "day", "at"),
    [
        ("en", "My daughter starts school on Monday, so Tuesday at ten would be best", date(2026, 11, 24), time(10)),
        ("en", "I hurt my back on Thursday, can I come in tomorrow?", date(2026, 11, 24), None),
        ("en", "We went to the lake on Sunday. Friday at 9 then.", date(2026, 11, 27), time(9)),
        ("de", "Am Sonntag war ich wandern, aber Dienstag um zehn ginge", date(2026, 11, 24), time(10)),
        ("de", "Meine Tochter hat am Montag Schulanfang, deshalb lieber Mittwoch um 15 Uhr", date(2026, 11, 25), time(15)),
    ],
)  # fmt: skip
def test_the_wish_beside_a_story_is_the_wish(lang, said, day, at):
    when = nlu.wished_when(said, NOW, lang)
    assert when is not None and when.day == day and when.time == at


@pytest.mark.parametrize(("lang", "story"), STORY_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_story_with_a_day_is_not_taken_for_the_requested_day(engine, mode, lang, story):
    """The real call: small talk "The bus is painted green on Sunday" got "we are closed on Sunday, how about
    Monday" — no day was asked for."""
    t = await talk(engine, mode, lang)
    reply = await t(story)
    assert not (t.conv.state.get("rule", {}).get("booking") or {}).get("when")
    for word in ("closed", "geschlossen", "How about", "Wie wäre", "free", "frei", "2026", "November"):
        assert word not in reply
    # asked for the day, a story is no answer: the question stands, and the next real answer books
    t = await talk(engine, mode, lang)
    await t(BOOK[lang])
    reply = await t(story)
    assert reply == phrase(lang, "inbound.ask_when")
    reply = await t("Dienstag um zehn" if lang == "de" else "Tuesday at ten")
    assert "24" in reply and ("10 am" in reply or "10 Uhr" in reply)


@pytest.mark.parametrize(("lang", "said", "day"), WISH_CASES)
async def test_a_direct_answer_to_which_day_still_counts(engine, lang, said, day):
    t = await talk(engine, "chat", lang)
    await t(BOOK[lang])
    reply = await t(said)
    month = "November" if day.month == 11 else "December"
    assert f"{day.day}. {month}" in reply if lang == "de" else f"{month} {day.day}" in reply


# ---------------------------------------------------------------- a "no" before a story corrects nothing
NO_STORIES = [
    ("en", "No, my daughter starts school on Monday"),
    ("en", "No my daughter starts school on Monday"),
    ("en", "No. My daughter starts school on Monday."),
    ("en", "Nope, my husband is away on Thursday"),
    ("en", "No, sorry, my car is in the garage on Friday"),
    ("en", "Actually my son has football on Wednesday at 5"),
    ("de", "Nein, meine Tochter kommt am Montag in die Schule"),
    ("de", "Nein meine Tochter hat am Montag Schulanfang"),
    ("de", "Nee, mein Mann ist am Donnerstag verreist"),
    ("de", "Nein, am Freitag ist mein Auto in der Werkstatt"),
    ("de", "Leider nein, mein Sohn hat am Mittwoch um 5 Fußball"),
]
CORRECTIONS = [
    ("en", "No, Monday please", date(2026, 11, 30)),
    ("en", "No Monday please", date(2026, 11, 30)),
    ("en", "No, rather Tuesday", date(2026, 11, 24)),
    ("en", "no, I said Monday", date(2026, 11, 30)),
    ("en", "No, I meant Wednesday", date(2026, 11, 25)),
    ("en", "No, I'll take Monday at 10", date(2026, 11, 30)),
    ("en", "Friday at ten, no, Monday at ten", date(2026, 11, 30)),
    ("de", "Nein, lieber Montag", date(2026, 11, 30)),
    ("de", "Nein Montag bitte", date(2026, 11, 30)),
    ("de", "Nein, ich meinte Montag", date(2026, 11, 30)),
    ("de", "nein ich komme am Montag", date(2026, 11, 30)),
    ("de", "Nein, ich nehme Montag um 10", date(2026, 11, 30)),
    ("de", "Freitag um zehn, ach nein, lieber Mittwoch", date(2026, 11, 25)),
]


@pytest.mark.parametrize(("lang", "story"), NO_STORIES)
def test_a_no_before_a_story_makes_no_wish(lang, story):
    assert nlu.parse_when_corrected(story, NOW, lang) is not None  # a day is in it
    assert nlu.wished_when(story, NOW, lang) is None


@pytest.mark.parametrize(("lang", "said", "day"), CORRECTIONS)
def test_a_real_correction_is_still_a_wish(lang, said, day):
    when = nlu.wished_when(said, NOW, lang)
    assert when is not None and when.day == day


@pytest.mark.parametrize(
    ("lang", "story"), [(lang, s) for lang, s in NO_STORIES if not s.startswith("Actually")]
)
async def test_a_no_and_a_story_to_an_offer_asks_for_another_day(engine, lang, story):
    """Offered Monday's times, "No, my daughter starts school on Monday" declines them: Lisa asks for another
    day and offers no Monday again."""
    t = await talk(engine, "chat", lang)
    reply = await t(
        "Ich hätte gern einen Termin nächste Woche" if lang == "de" else "I'd like an appointment next week"
    )
    assert "30" in reply  # Monday, November 30's times
    reply = await t(story)
    assert reply == phrase(lang, "inbound.other_time"), reply
    assert t.outcome["status"] != "booked"


@pytest.mark.parametrize(
    ("lang", "said", "slot"),
    [
        ("en", "No, Monday please", "2026-11-30T10:00"),
        ("en", "No, rather Wednesday", "2026-11-25T10:00"),
        ("en", "No, I meant Monday", "2026-11-30T10:00"),
        ("de", "Nein, lieber Montag", "2026-11-30T10:00"),
        ("de", "Nein, ich meinte Mittwoch", "2026-11-25T10:00"),
        ("de", "Nein, Montag bitte", "2026-11-30T10:00"),
    ],
)
async def test_a_corrected_day_moves_the_booking(engine, lang, said, slot):
    t = await talk(engine, "chat", lang)
    await t(
        "Ich hätte gern einen Termin am Dienstag um 10"
        if lang == "de"
        else "I'd like an appointment on Tuesday at 10"
    )
    await t(said)
    await t("Anna Weber")
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == slot, t.outcome


# ---------------------------------------------------------------- class 2: the name instead of the day
NAMES = {
    "en": [
        ("Joe Park", "Joe Park"),
        ("Joe Park here.", "Joe Park"),
        ("It's Joe Park, I have a bad back", "Joe Park"),
        ("My name is Joe Park and I'm not sure about the day yet", "Joe Park"),
        ("Sorry — Joe Park. I don't know yet.", "Joe Park"),
        ("This is Sue Hill", "Sue Hill"),
        ("Park, Joe Park", "Joe Park"),
    ],
    "de": [
        ("Anna Weber", "Anna Weber"),
        ("Anna Weber hier", "Anna Weber"),
        ("Weber, Anna Weber", "Anna Weber"),
        ("Ich bin Anna Weber und habe Rückenschmerzen", "Anna Weber"),
        ("Mein Name ist Karl Huber, den Tag weiß ich noch nicht", "Karl Huber"),
        ("Hier spricht Karl Huber.", "Karl Huber"),
    ],
}
NAME_CASES = [(lang, said, name) for lang, names in NAMES.items() for said, name in names]


@pytest.mark.parametrize(("lang", "said", "name"), NAME_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_name_instead_of_the_day_is_kept_and_the_day_asked_once_more(engine, mode, lang, said, name):
    t = await talk(engine, mode, lang)
    assert await t(BOOK[lang]) == phrase(lang, "inbound.ask_when")
    reply = await t(said)
    assert reply == phrase(lang, "inbound.ask_when_named", name=name)
    # the name is not asked for again: the day and time book
    reply = await t("Dienstag um zehn" if lang == "de" else "Tuesday at ten")
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == "2026-11-24T10:00"
    assert name in reply and name in t.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "said", "name", "slot"),
    [
        ("en", "Joe Park, Tuesday at ten", "Joe Park", "2026-11-24T10:00"),
        ("en", "Sue Hill. Friday at 9 please", "Sue Hill", "2026-11-27T09:00"),
        ("de", "Anna Weber, Dienstag um zehn", "Anna Weber", "2026-11-24T10:00"),
        ("de", "Karl Huber. Freitag um 9 bitte", "Karl Huber", "2026-11-27T09:00"),
    ],
)
async def test_a_name_with_the_day_books_at_once(engine, lang, said, name, slot):
    t = await talk(engine, "chat", lang)
    await t(BOOK[lang])
    reply = await t(said)
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == slot and name in reply


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Next Tuesday"),
        ("en", "Monday Morning"),
        ("de", "Nächsten Dienstag"),
        ("de", "Montag Vormittag"),
    ],
)
def test_words_of_a_day_are_never_a_name(lang, said):
    assert nlu.name_instead(said) is None


async def test_the_name_is_thanked_for_once(engine):
    t = await talk(engine, "chat", "en")
    await t(BOOK["en"])
    assert "Joe Park" in await t("Joe Park")
    assert await t("Joe Park") == phrase("en", "inbound.ask_when")
