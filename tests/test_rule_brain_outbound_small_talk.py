"""The rule brain on an outbound call: small talk of the business with a day in it ("Busy day today, isn't it?",
"Heute ist viel los.") is no offer, en + de; real offers still are."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from test_rule_brain_outbound import Call, in_the_wished_week

from agent.phrases import phrase
from agent.when import parse_offers

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # Monday


# ---------------------------------------------------------------- small talk of a business is no offer
SMALL_TALK = {
    "en": [
        "Oh, it's all go today.",
        "Busy day today, isn't it?",
        "What a Monday!",
        "Mondays are always crazy here.",
        "Phew, what a day today.",
        "The weather is lovely today, isn't it?",
    ],
    "de": [
        "Heute ist viel los.",
        "Was für ein Montag!",
        "Montags ist es immer stressig.",
        "Puh, heute ist echt die Hölle los.",
        "Heute ist wirklich Chaos hier, oder?",
        "Was für ein Wetter heute!",
    ],
}
SMALL_TALK_CASES = [(lang, s) for lang, lines in SMALL_TALK.items() for s in lines]
OFFERS = {
    "en": [
        ("We could do today at 3.", date(2026, 11, 23), time(15)),
        ("Today is possible.", date(2026, 11, 23), None),
        ("How about Tuesday?", date(2026, 11, 24), None),
        ("I have Thursday, if that helps.", date(2026, 11, 26), None),
        ("Maybe Wednesday.", date(2026, 11, 25), None),
        ("Busy day today, but Friday at 10 is free.", date(2026, 11, 27), time(10)),
    ],
    "de": [
        ("Heute um 15 Uhr ginge.", date(2026, 11, 23), time(15)),
        ("Heute ginge auch.", date(2026, 11, 23), None),
        ("Wie wäre es mit Dienstag?", date(2026, 11, 24), None),
        ("Am Donnerstag hätte ich noch was frei.", date(2026, 11, 26), None),
        ("Vielleicht Mittwoch.", date(2026, 11, 25), None),
        ("Heute ist viel los, aber Freitag um 10 ist frei.", date(2026, 11, 27), time(10)),
    ],
}
OFFER_CASES = [(lang, s, day, at) for lang, lines in OFFERS.items() for s, day, at in lines]


@pytest.mark.parametrize(("lang", "said"), SMALL_TALK_CASES)
def test_small_talk_with_a_day_offers_nothing(lang, said):
    assert parse_offers(said, NOW, lang) == []


@pytest.mark.parametrize(("lang", "said", "day", "at"), OFFER_CASES)
def test_an_offer_is_still_an_offer(lang, said, day, at):
    offers = parse_offers(said, NOW, lang)
    assert [(w.day, w.time) for w in offers] == [(day, at)]


@pytest.mark.parametrize(("lang", "said"), SMALL_TALK_CASES)
async def test_lisa_answers_small_talk_kindly_and_asks_again_without_taking_a_slot(lang, said):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    reply = await call(said)
    preferred = (
        "nächste Woche, Montag zwischen 10 und 12 Uhr"
        if lang == "de"
        else "next week, Monday between 10 and 12"
    )
    assert reply == phrase(lang, "outbound.small_talk", preferred=preferred)
    assert not call.conv.state.get("agreement", {}).get("offered")
    # an offer after it is taken as before
    reply = await call(
        "Nächsten Montag um halb elf ginge." if lang == "de" else "Next Monday at half past ten works."
    )
    assert "30" in reply and ("10:30" in reply)


@pytest.mark.parametrize(("lang", "said", "day", "at"), OFFER_CASES)
async def test_a_real_offer_on_the_call_is_answered_as_an_offer(lang, said, day, at):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    reply = await call(said)
    day = in_the_wished_week(day)
    assert str(day.day) in reply and not reply.startswith(("Oh, I can imagine", "Oh, das glaube ich"))


# ---------------------------------------------------------------- "etwas" / "a bit": how things go, no offer
HOW_IT_GOES = {
    "en": [
        "We're a bit slow today.",
        "The system is a little slow today.",
        "Sorry, I'm a bit under the weather today.",
        "Today the computer takes something like forever.",
        "The system has been slow since 9 this morning.",
        "We're short-staffed today.",
    ],
    "de": [
        "Das System ist heute etwas langsam.",
        "Ich bin heute etwas erkältet, entschuldigen Sie.",
        "Der Computer braucht heute etwas länger.",
        "Morgen wird es etwas ruhiger.",
        "Das System ist seit 9 Uhr etwas langsam.",
        "Heute sind wir etwas unterbesetzt.",
    ],
}
HOW_IT_GOES_CASES = [(lang, s) for lang, lines in HOW_IT_GOES.items() for s in lines]
SOMETHING_OFFERED = [
    ("en", "I have something on Thursday at 10.", date(2026, 11, 26), time(10)),
    ("en", "I've got something on Thursday.", date(2026, 11, 26), None),
    ("en", "Thursday at 10 would work.", date(2026, 11, 26), time(10)),
    ("en", "We're a bit slow today, but Thursday at 10 works.", date(2026, 11, 26), time(10)),
    ("en", "Anything on Thursday? Yes, Thursday works.", date(2026, 11, 26), None),
    ("de", "Ich hätte etwas am Donnerstag um 10.", date(2026, 11, 26), time(10)),
    ("de", "Donnerstag um 10 ginge.", date(2026, 11, 26), time(10)),
    ("de", "Am Donnerstag hätte ich etwas.", date(2026, 11, 26), None),
    ("de", "Etwas am Donnerstag?", date(2026, 11, 26), None),
    ("de", "Ich habe am Donnerstag etwas.", date(2026, 11, 26), None),
    ("de", "Heute sind wir etwas langsam, aber Donnerstag um 10 ginge.", date(2026, 11, 26), time(10)),
]


@pytest.mark.parametrize(("lang", "said"), HOW_IT_GOES_CASES)
def test_a_bit_slow_today_offers_nothing(lang, said):
    assert parse_offers(said, NOW, lang) == []


@pytest.mark.parametrize(("lang", "said", "day", "at"), SOMETHING_OFFERED)
def test_something_on_a_day_is_still_an_offer(lang, said, day, at):
    offers = parse_offers(said, NOW, lang)
    assert [(w.day, w.time) for w in offers] == [(day, at)]


@pytest.mark.parametrize(("lang", "said"), HOW_IT_GOES_CASES)
async def test_lisa_takes_no_slot_from_how_the_day_goes_and_books_the_real_offer(lang, said):
    call = Call(lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    reply = await call(said)
    assert not call.conv.state.get("agreement", {}).get("offered"), reply
    assert "November" not in reply and "wäre prima" not in reply and "would be great" not in reply
    reply = await call(
        "Ich hätte etwas am Montag um 11." if lang == "de" else "I have something next Monday at 11."
    )
    assert "30" in reply and ("11 Uhr" in reply or "11 am" in reply), reply
    reply = await call("Gut, dann ist das eingetragen." if lang == "de" else "Great, you're booked in.")
    assert call.status.value == "booked", reply
    assert call.outcome["appointment"] == "2026-11-30T11:00"
