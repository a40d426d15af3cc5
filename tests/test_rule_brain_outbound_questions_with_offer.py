"""The rule brain on an outbound call: a question the business asks in the same breath as its offer ("Friday
at three works. Can I have a phone number for him?") or as its confirmation of Lisa's yes is answered, en + de:
Lisa takes the slot and then answers what the request tells (the callback number, the name, what it is for,
how long it takes); what it does not tell (date of birth, insurance, an email it has not) she does not invent."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_closed import HELLO, haircut

from agent.conversation import Status

NUMBER = "+49 30 1234567"
ACCEPT = {
    "en": "Friday, November 27 at 3 pm would be great",
    "de": "Freitag, 27. November um 15 Uhr wäre prima",
}


def cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(lang, s) for lang, lines in table.items() for s in lines]


async def offered(lang: str, said: str) -> tuple[Call, str]:
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    return call, await call(said)


def accepted(call: Call, reply: str, lang: str) -> None:
    assert reply.startswith(ACCEPT[lang]), reply
    assert call.conv.state["agreement"].get("accepted") == "2026-11-27T15:00"


PHONE = {
    "en": [
        "Friday at three works. Can I have a phone number for him?",
        "Friday at three is free. What's the best number to reach him?",
        "I could do Friday at three, and what's his phone number?",
        "Friday at 3 pm is available. Could I get a contact number, please?",
        "We have Friday at three. Is there a number we can call him on?",
    ],
    "de": [
        "Freitag um drei geht. Haben Sie eine Telefonnummer für ihn?",
        "Freitag um 15 Uhr ist frei. Unter welcher Nummer ist er erreichbar?",
        "Freitag um drei hätte ich, wie ist seine Telefonnummer?",
        "Am Freitag um drei ginge es. Können Sie mir eine Rückrufnummer geben?",
        "Freitag 15 Uhr wäre frei. Wie können wir ihn telefonisch erreichen?",
    ],
}


@pytest.mark.parametrize(("lang", "said"), cases(PHONE))
async def test_offer_with_a_phone_question_is_taken_and_the_number_given(lang, said):
    call, reply = await offered(lang, said)
    accepted(call, reply, lang)
    assert NUMBER in reply
    await call({"en": "Great, thanks, bye.", "de": "Danke, tschüss."}[lang])
    assert call.status is Status.BOOKED


CONFIRM_AND_ASK = {
    "en": [
        "Great, I've put him down for Friday at three. Can I get a number to reach him?",
        "Okay, Friday at three is booked. And a phone number for him?",
        "Alright, he's in for Friday at three. What's his phone number?",
        "Perfect, Friday at three then. Could you give me a contact number?",
        "Done, Friday at three. Is there a number where we can reach him?",
    ],
    "de": [
        "Gut, ich habe ihn für Freitag um drei eingetragen. Haben Sie eine Telefonnummer?",
        "Okay, Freitag um drei ist gebucht. Wie ist seine Nummer?",
        "Alles klar, Freitag um drei. Unter welcher Nummer erreichen wir ihn?",
        "Prima, dann Freitag um drei. Können Sie mir noch eine Rückrufnummer geben?",
        "Erledigt, Freitag um drei. Wie ist er telefonisch erreichbar?",
    ],
}


@pytest.mark.parametrize(("lang", "said"), cases(CONFIRM_AND_ASK))
async def test_confirmation_with_a_phone_question_after_lisas_yes(lang, said):
    call, reply = await offered(lang, {"en": "Friday at three works.", "de": "Freitag um drei geht."}[lang])
    accepted(call, reply, lang)
    reply = await call(said)
    assert call.status is Status.BOOKED
    assert NUMBER in reply


NAME = {
    "en": [
        "Friday at three works. What name should I put it under?",
        "Friday at three is free. And who is the appointment for?",
        "I have Friday at three. What's his name?",
        "Friday at 3 pm works, can I get the name, please?",
        "Friday at three then. Who am I booking in?",
    ],
    "de": [
        "Freitag um drei geht. Auf welchen Namen soll ich das eintragen?",
        "Freitag um drei ist frei. Für wen ist der Termin?",
        "Freitag um 15 Uhr hätte ich. Wie ist der Name?",
        "Freitag um drei geht, wie heißt er denn?",
        "Dann Freitag um drei. Wen darf ich eintragen?",
    ],
}


@pytest.mark.parametrize(("lang", "said"), cases(NAME))
async def test_offer_with_a_name_question_gives_the_name(lang, said):
    call, reply = await offered(lang, said)
    assert ACCEPT[lang] in reply and "Max Mustermann" in reply
    assert call.conv.state["agreement"].get("accepted") == "2026-11-27T15:00"


ABOUT = {
    "en": [
        ("Friday at three is free. What is it for exactly?", "men's haircut"),
        ("Friday at three works. What does he need done?", "men's haircut"),
        ("Friday at three works. How long will it take?", "about 30 minutes"),
        ("I have Friday at three. How much time should I block?", "about 30 minutes"),
        ("Friday at three is free, how long does it take?", "about 30 minutes"),
    ],
    "de": [
        ("Freitag um drei ist frei. Worum geht es denn?", "Herrenhaarschnitt"),
        ("Freitag um drei geht. Was für eine Behandlung braucht er?", "Herrenhaarschnitt"),
        ("Freitag um drei geht, wie lange dauert das denn?", "etwa 30 Minuten"),
        ("Freitag um drei hätte ich. Wie viel Zeit brauchen Sie?", "etwa 30 Minuten"),
        ("Freitag um 15 Uhr ist frei. Wie lange wird das dauern?", "etwa 30 Minuten"),
    ],
}


@pytest.mark.parametrize(
    ("lang", "said", "answer"), [(lang, s, a) for lang, rows in ABOUT.items() for s, a in rows]
)
async def test_offer_with_a_question_about_the_appointment(lang, said, answer):
    call, reply = await offered(lang, said)
    accepted(call, reply, lang)
    assert answer in reply


UNKNOWN = {
    "en": [
        "Friday at three works. What's his date of birth?",
        "Friday at three is free. Is he privately insured?",
        "Friday at three works, and his insurance number?",
        "I have Friday at three. What's his email address?",
        "Friday at three works. And his home address?",
    ],
    "de": [
        "Freitag um drei geht. Wie ist sein Geburtsdatum?",
        "Freitag um drei ist frei. Ist er privat versichert?",
        "Freitag um drei geht, wie ist seine Versicherungsnummer?",
        "Freitag um drei hätte ich. Haben Sie eine E-Mail-Adresse?",
        "Freitag um drei geht. Wie ist seine Anschrift?",
    ],
}
NOT_GIVEN = {  # what Lisa says instead: Max Mustermann gives it himself at the appointment
    "en": ("Max Mustermann will bring", "Max Mustermann can tell you"),
    "de": (
        "Max Mustermann bringt es zum Termin mit",
        "bringt Max Mustermann zum Termin mit",
        "Max Mustermann kann",
    ),
}


@pytest.mark.parametrize(("lang", "said"), cases(UNKNOWN))
async def test_offer_with_a_question_the_request_cannot_answer_invents_nothing(lang, said):
    call, reply = await offered(lang, said)
    accepted(call, reply, lang)
    assert any(p in reply for p in NOT_GIVEN[lang]), reply
    assert "@" not in reply and NUMBER not in reply


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Friday at three works. What's his email address?"),
        ("de", "Freitag um drei geht. Wie ist seine E-Mail?"),
    ],
)
async def test_an_email_in_the_request_is_given(lang, said):
    request = haircut(lang)
    request.user_profile["email"] = "max@example.org"
    call = Call(lang, request)
    await call(HELLO[lang])
    reply = await call(said)
    accepted(call, reply, lang)
    assert "max@example.org" in reply


NO_QUESTION = {
    "en": ["Friday at three works. Does that suit him?", "Friday at three is free, is that okay?"],
    "de": ["Freitag um drei geht. Passt ihm das?", "Freitag um drei ist frei, ginge das?"],
}


@pytest.mark.parametrize(("lang", "said"), cases(NO_QUESTION))
async def test_an_offer_asked_as_a_question_only_gets_the_yes(lang, said):
    call, reply = await offered(lang, said)
    accepted(call, reply, lang)
    assert reply.count(".") <= 2 and NUMBER not in reply and "Max Mustermann" not in reply


CHOICE = {
    "en": [
        "I have Friday at two or at four, which one?",
        "Friday at three or four, which would he prefer?",
        "Friday at two or at four, which one would suit him better?",
        "Friday at three or at four, what time suits him?",
        "I could do Friday at two or four. Which do you want?",
    ],
    "de": [
        "Ich hätte Freitag um zwei oder um vier, was ist Ihnen lieber?",
        "Freitag um zwei oder um vier, welcher ist ihm lieber?",
        "Freitag um drei oder um vier, was passt ihm besser?",
        "Ich hätte Freitag um zwei oder um vier. Welche Uhrzeit möchten Sie?",
        "Freitag um drei oder vier, wann würde es ihm passen?",
    ],
}


@pytest.mark.parametrize(("lang", "said"), cases(CHOICE))
async def test_a_choice_among_the_offers_is_answered_by_the_pick_alone(lang, said):
    call, reply = await offered(lang, said)
    day = {"en": "Friday, November 27 at ", "de": "Freitag, 27. November um "}[lang]
    thanks = {"en": "would be great, thank you.", "de": "wäre prima, vielen Dank."}[lang]
    assert reply.startswith(day) and reply.endswith(thanks), reply  # the pick, nothing more


TOO_EARLY_AND_ASK = {
    "en": [
        "Friday at ten works. Can I have a phone number for him?",
        "Friday at 10 am is free. What's the best number to reach him?",
        "I have Friday at ten, and what's his phone number?",
        "Friday at ten is available. Could I get a contact number?",
        "We could do Friday at ten. Is there a number we can call him on?",
    ],
    "de": [
        "Freitag um zehn geht. Haben Sie eine Telefonnummer für ihn?",
        "Freitag um 10 Uhr ist frei. Unter welcher Nummer ist er erreichbar?",
        "Freitag um zehn hätte ich, wie ist seine Telefonnummer?",
        "Freitag um zehn ginge. Können Sie mir eine Rückrufnummer geben?",
        "Freitag 10 Uhr wäre frei. Wie können wir ihn telefonisch erreichen?",
    ],
}


@pytest.mark.parametrize(("lang", "said"), cases(TOO_EARLY_AND_ASK))
async def test_an_offer_that_does_not_fit_still_gets_its_question_answered(lang, said):
    call, reply = await offered(lang, said)
    assert NUMBER in reply and reply.rstrip().endswith("?"), reply  # the number, then Lisa asks for better
    assert call.conv.state["agreement"].get("accepted") is None
