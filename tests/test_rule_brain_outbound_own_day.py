"""The rule brain on an outbound call: what a business tells of its own day — when it closes, that someone has to
leave early, a team meeting — is no offer, a day or a time in it or not ("I have to leave early on Friday", "we
close at 6 today", "wir haben am Montag Teamsitzung"), en + de; real offers still are ("we have Friday at 10",
"heute um 18 Uhr hätte ich was")."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from test_rule_brain_outbound import Call, dentist, in_the_wished_week

from agent.phrases import phrase
from agent.when import parse_offers

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # Monday
GREETING = {"en": "Miller dental, hello?", "de": "Praxis Müller, guten Tag."}
PREFERRED = {
    "en": "next week, Monday between 10 and 12",
    "de": "nächste Woche, Montag zwischen 10 und 12 Uhr",
}

OWN_DAY = {
    "en": [
        "I have to leave early on Friday.",
        "We have a team meeting on Monday.",
        "We close at 6 today.",
        "We're only here until noon on Friday.",
        "The doctor is away on Thursday.",
        "I need to pick up my son at 3 on Wednesday.",
        "We're closing early tomorrow, just so you know.",
    ],
    "de": [
        "Wir haben am Montag Teamsitzung.",
        "Heute schließen wir um 18 Uhr.",
        "Ich muss am Freitag früher weg.",
        "Am Freitag sind wir nur bis 12 Uhr da.",
        "Die Ärztin ist am Donnerstag auf einer Fortbildung.",
        "Morgen machen wir schon um 16 Uhr zu.",
        "Mittwoch haben wir Betriebsausflug.",
    ],
}
OWN_DAY_CASES = [(lang, s) for lang, lines in OWN_DAY.items() for s in lines]
OFFERS = {
    "en": [
        ("We have Friday at 10.", date(2026, 11, 27), time(10)),
        ("I have something on Wednesday at 3.", date(2026, 11, 25), time(15)),
        ("We could do 6 today.", date(2026, 11, 23), time(18)),
        ("I've got a slot on Thursday at 2 pm.", date(2026, 11, 26), time(14)),
        ("He'd have to come at 8 on Thursday.", date(2026, 11, 26), time(8)),
        ("Friday at 10 is free, but we close early that day.", date(2026, 11, 27), time(10)),
        ("We have a team meeting on Monday, but Tuesday at 10 is free.", date(2026, 11, 24), time(10)),
    ],
    "de": [
        ("Heute um 18 Uhr hätte ich was.", date(2026, 11, 23), time(18)),
        ("Freitag um zehn ginge.", date(2026, 11, 27), time(10)),
        ("Wir haben Freitag um 10 frei.", date(2026, 11, 27), time(10)),
        ("Am Mittwoch um 14 Uhr hätten wir noch einen Termin.", date(2026, 11, 25), time(14)),
        ("Donnerstag um acht könnte ich anbieten.", date(2026, 11, 26), time(8)),
        ("Wir haben am Montag Teamsitzung, aber Dienstag um 10 ist frei.", date(2026, 11, 24), time(10)),
        ("Freitag um 10 ist frei, wir schließen an dem Tag aber früher.", date(2026, 11, 27), time(10)),
    ],
}
OFFER_CASES = [(lang, s, day, at) for lang, lines in OFFERS.items() for s, day, at in lines]


@pytest.mark.parametrize(("lang", "said"), OWN_DAY_CASES)
def test_the_business_s_own_day_offers_nothing(lang, said):
    assert parse_offers(said, NOW, lang) == []


@pytest.mark.parametrize(("lang", "said", "day", "at"), OFFER_CASES)
def test_a_real_offer_with_have_is_still_an_offer(lang, said, day, at):
    assert [(w.day, w.time) for w in parse_offers(said, NOW, lang)] == [(day, at)]


@pytest.mark.parametrize(("lang", "said"), OWN_DAY_CASES)
async def test_lisa_takes_the_business_s_day_in_and_asks_again_without_taking_a_slot(lang, said):
    call = Call(lang)
    await call(GREETING[lang])
    reply = await call(said)
    assert reply == phrase(lang, "outbound.noted", preferred=PREFERRED[lang])
    agreement = call.conv.state.get("agreement", {})
    assert not agreement.get("offered") and not agreement.get("accepted")
    # an offer after it is taken as before
    reply = await call(
        "Nächsten Montag um halb elf ginge." if lang == "de" else "Next Monday at half past ten works."
    )
    assert "10:30" in reply and ("wäre prima" if lang == "de" else "would be great") in reply


@pytest.mark.parametrize(("lang", "said"), OWN_DAY_CASES)
async def test_without_a_preferred_time_lisa_asks_what_they_can_offer(lang, said):
    request = dentist(lang)
    request.preferred_time = ""
    call = Call(lang, request)
    await call(GREETING[lang])
    assert await call(said) == phrase(lang, "outbound.noted_no_time")
    assert not call.conv.state.get("agreement", {}).get("accepted")


@pytest.mark.parametrize(("lang", "said", "day", "at"), OFFER_CASES)
async def test_a_real_offer_on_the_call_is_answered_as_an_offer(lang, said, day, at):
    call = Call(lang)
    await call(GREETING[lang])
    reply = await call(said)
    day = in_the_wished_week(day)
    assert str(day.day) in reply and not reply.startswith(("I see, thank you", "Verstehe, danke"))
    agreement = call.conv.state.get("agreement", {})
    slot = f"{day.isoformat()}T{at.strftime('%H:%M')}"
    assert slot in (agreement.get("offered") or []) or agreement.get("accepted") == slot
    assert not agreement.get("confirmed")  # an offer is never taken as booked ("I've got a slot …")
