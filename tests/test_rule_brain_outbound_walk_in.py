"""The rule brain on an outbound call: a business that gives no appointments at all ("We don't do
appointments for men's haircuts, it's walk-in only.", "Termine machen wir nicht, einfach vorbeikommen.")
is understood, en + de: nothing is booked, the request ends with a summary telling the user to just come by,
and Lisa thanks the business and says goodbye instead of asking for a time again."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_closed import HELLO, haircut

from agent import outbound_nlu as onlu
from agent.conversation import Status

WALK_IN = {
    "en": [
        "We don't do appointments for men's haircuts, it's walk-in only.",
        "It's walk-ins only, I'm afraid.",
        "No appointment needed, just come by whenever you like.",
        "We don't take bookings, first come, first served.",
        "He doesn't need an appointment, he can just drop in.",
        "Oh, you can come without an appointment.",
        "You don't have to book, just come in.",
        "We work on a walk-in basis.",
    ],
    "de": [
        "Termine machen wir nicht, einfach vorbeikommen.",
        "Wir vergeben keine Termine, kommen Sie einfach vorbei.",
        "Bei uns geht das ohne Termin.",
        "Er braucht keinen Termin, einfach reinkommen.",
        "Einen Termin brauchen Sie nicht, wer zuerst kommt, mahlt zuerst.",
        "Für Herrenhaarschnitte ist kein Termin nötig.",
        "Wir arbeiten ohne Termine.",
        "Da brauchen Sie keinen Termin, kommen Sie einfach vorbei.",
    ],
}
WALK_IN_CASES = [(lang, s) for lang, lines in WALK_IN.items() for s in lines]
SAID = {"en": "no appointment is needed", "de": "keinen Termin"}
THANKS = {"en": "Thank you very much", "de": "Vielen Dank"}
SUMMARY = {"en": "walk-in only", "de": "ohne Termin"}


@pytest.mark.parametrize(("lang", "said"), WALK_IN_CASES)
async def test_walk_in_only_ends_the_request_with_thanks(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    reply = await call(said)
    assert SAID[lang] in reply and THANKS[lang] in reply
    assert "?" not in reply  # no time asked for again
    assert call.conv.end_requested
    assert call.status is Status.FAILED and call.conv.outcome.appointment is None
    assert SUMMARY[lang] in call.conv.outcome.summary


@pytest.mark.parametrize(("lang", "said"), WALK_IN_CASES)
async def test_walk_in_after_lisas_yes_takes_it_back(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call({"en": "Friday at three is free.", "de": "Freitag um drei ist frei."}[lang])
    await call(said)
    assert call.conv.end_requested and call.status is Status.FAILED
    assert call.conv.state["agreement"].get("accepted") is None


NOT_WALK_IN = {
    "en": [
        "We don't have appointments on Friday.",
        "Do I need an appointment?",
        "Just come by at three on Friday.",
        "We can't see him without an appointment.",
        "Walk-ins are full today, but Friday at three is free.",
        "You don't need to book a consultation first.",
    ],
    "de": [
        "Termine haben wir keine mehr.",
        "Wir vergeben keine Termine mehr für dieses Jahr.",
        "Ohne Termin geht leider nichts.",
        "Brauchen Sie einen Termin?",
        "Freitag um drei ist frei.",
    ],
}
NOT_CASES = [(lang, s) for lang, lines in NOT_WALK_IN.items() for s in lines]


@pytest.mark.parametrize(("lang", "said"), NOT_CASES)
def test_what_is_no_walk_in(lang, said):
    assert not onlu.walk_in(said)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "We don't need appointments for cuts, but I can put him down for Friday at three."),
        (
            "de",
            "Für Herrenhaarschnitte ist kein Termin nötig, aber Freitag um drei könnte ich ihn eintragen.",
        ),
    ],
)
async def test_walk_in_with_an_offer_is_an_offer(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(said)
    assert call.conv.state["agreement"]["accepted"] == "2026-11-27T15:00" and not call.conv.end_requested


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Fine. Just come by the reception ten minutes early."),
        ("en", "Okay. He can just pop in to the front desk when he arrives."),
        ("de", "Gut. Einfach vorbeikommen und an der Kasse melden."),
        ("de", "In Ordnung, kommen Sie einfach rein, wenn er da ist."),
    ],
)
async def test_come_by_with_a_slot_agreed_is_no_walk_in(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call({"en": "Friday at three is free.", "de": "Freitag um drei ist frei."}[lang])
    await call(said)
    assert not call.conv.end_requested and call.status is not Status.FAILED
    assert call.conv.state["agreement"]["accepted"] == "2026-11-27T15:00"
