"""The rule brain on an outbound call: a slot the business holds only until it has made sure of it itself
("Friday at four I can pencil him in, but I have to confirm with my colleague first, I'll call you back",
"Freitag um vier könnte ich eintragen, muss aber erst mit meiner Kollegin sprechen") is never accepted nor
booked, en + de: the request waits for the business's call, and the summary names the tentative slot."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_closed import HELLO, haircut

from agent.conversation import Status
from agent.outcome_check import ACCEPTING

TENTATIVE = {
    "en": [
        "Friday at four I can pencil him in, but I have to confirm with my colleague first, I'll call you back.",
        "I've pencilled him in for Friday at four, but it's not confirmed yet.",
        "Friday at four might work, let me double-check and ring you back.",
        "I can hold Friday at four for now, but I need to check with the owner first.",
        "Friday at four, tentatively. I'll call you back to confirm.",
        "Friday at four could work, but I can't promise, I'll get back to you.",
    ],
    "de": [
        "Freitag um vier könnte ich eintragen, muss aber erst mit meiner Kollegin sprechen, ich rufe zurück.",
        "Freitag um vier ginge vielleicht, da muss ich aber erst nachfragen.",
        "Ich trage ihn mal vorläufig für Freitag um vier ein, ich melde mich dann.",
        "Freitag um 16 Uhr unter Vorbehalt, ich muss das noch mit der Chefin klären.",
        "Freitag um vier könnte klappen, ich muss nur erst Rücksprache halten und rufe Sie dann zurück.",
        "Freitag um vier ist noch nicht ganz fest, ich gebe Ihnen Bescheid.",
    ],
}
TENTATIVE_CASES = [(lang, s) for lang, lines in TENTATIVE.items() for s in lines]
SLOT = {"en": "Friday, November 27 at 4 pm", "de": "Freitag, 27. November um 16 Uhr"}
SUMMARY_SLOT = {"en": "Friday, November 27 at 16:00", "de": "Freitag, 27.11., 16:00 Uhr"}
THEY_CALL = {"en": "Yes, we'll call back.", "de": "Ja, wir melden uns."}
BYE = {"en": "Bye.", "de": "Tschüss."}


def _waits_for_the_business(call: Call, lang: str) -> None:
    assert call.status is Status.WAITING_FOR_CALLBACK
    assert call.conv.outcome.appointment is None
    assert SUMMARY_SLOT[lang] in call.conv.outcome.summary
    assert call.conv.state["agreement"].get("accepted") is None


@pytest.mark.parametrize(("lang", "said"), TENTATIVE_CASES)
async def test_a_tentative_offer_is_not_booked(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    reply = await call(said)
    assert SLOT[lang] in reply and "+49 30 1234567" in reply
    assert not ACCEPTING.search(reply)  # no yes to the business either
    _waits_for_the_business(call, lang)
    assert not ACCEPTING.search(await call(THEY_CALL[lang]))
    await call(BYE[lang])
    assert call.conv.end_requested
    _waits_for_the_business(call, lang)


PENDING_AFTER_THE_YES = {
    "en": [
        "I need to check with my colleague first whether she can do it, I'll ring you back.",
        "Hmm, I'll have to confirm that with the manager first.",
        "Actually, it's only tentative, I'll call you back to confirm.",
        "I can't confirm it yet, I have to double-check with the stylist.",
        "Let me double-check with my boss and then I'll call you back.",
    ],
    "de": [
        "Moment, das muss ich erst mit der Chefin abklären, ich rufe Sie zurück.",
        "Ich trage das mal unter Vorbehalt ein, ich muss noch Rücksprache halten.",
        "Das ist aber erst vorläufig, ich melde mich dann.",
        "Das muss ich erst noch nachfragen, ich gebe Ihnen dann Bescheid.",
        "Das ist noch nicht fest, ich muss erst meine Kollegin fragen.",
    ],
}
AFTER_CASES = [(lang, s) for lang, lines in PENDING_AFTER_THE_YES.items() for s in lines]
FREE = {"en": "Friday at four is free.", "de": "Freitag um vier wäre frei."}


@pytest.mark.parametrize(("lang", "said"), AFTER_CASES)
async def test_a_slot_held_back_after_lisas_yes_is_not_booked(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FREE[lang])
    assert call.conv.state["agreement"]["accepted"] == "2026-11-27T16:00"
    await call(said)
    _waits_for_the_business(call, lang)
    await call(BYE[lang])
    _waits_for_the_business(call, lang)


BOOKED_ALL_THE_SAME = {
    "en": [
        "Great, Friday at four, I'll call you back if anything changes. Bye.",
        "Perfect, booked. I'll get back to you if she's ill. Bye.",
        "Lovely, he's booked in for Friday at four, see you then. Bye.",
        "Okay, I've put him down for Friday at four, we'll let you know if anything changes. Bye.",
        "Perfect, Friday at four is confirmed. Bye.",
    ],
    "de": [
        "Gut, ist eingetragen. Falls was ist, melde ich mich. Tschüss.",
        "Prima, Freitag um vier ist gebucht. Wenn etwas dazwischenkommt, rufe ich zurück. Tschüss.",
        "Alles klar, Freitag um vier, bis dann. Tschüss.",
        "Gut, ich habe ihn für Freitag um vier eingetragen. Tschüss.",
        "Okay, Freitag um vier ist fest. Auf Wiederhören.",
    ],
}
BOOKED_CASES = [(lang, s) for lang, lines in BOOKED_ALL_THE_SAME.items() for s in lines]


@pytest.mark.parametrize(("lang", "said"), BOOKED_CASES)
async def test_a_firm_booking_with_a_callback_if_needed_is_booked(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FREE[lang])
    await call(said)
    assert call.status is Status.BOOKED
    assert call.conv.outcome.as_dict()["appointment"] == "2026-11-27T16:00"


THEY_WILL_CALL = {
    "en": [
        "Yes, we'll call back.",
        "Sure, she'll ring you back.",
        "Okay, I'll call him back later.",
        "We'll get back to you.",
        "Yes, someone will call you back tomorrow.",
    ],
    "de": [
        "Ja, wir melden uns.",
        "Ja, wir rufen zurück.",
        "Gut, ich rufe Sie morgen zurück.",
        "Wir melden uns dann bei Ihnen.",
        "Ich gebe Ihnen Bescheid.",
    ],
}
WILL_CALL_CASES = [(lang, s) for lang, lines in THEY_WILL_CALL.items() for s in lines]
PASS_ON = {
    "en": "I have to check with my colleague, I'll pass on a message and she'll call you back.",
    "de": "Da muss ich meine Kollegin fragen, ich kann es ihr ausrichten.",
}


@pytest.mark.parametrize(("lang", "said"), WILL_CALL_CASES)
async def test_after_a_message_left_their_callback_is_no_call_back_of_lisas(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(PASS_ON[lang])
    summary = call.conv.outcome.summary
    assert call.status is Status.WAITING_FOR_CALLBACK and summary
    reply = await call(said)
    assert "I'll call back" not in reply and "ich rufe" not in reply.lower()
    assert call.status is Status.WAITING_FOR_CALLBACK and call.conv.outcome.summary == summary
