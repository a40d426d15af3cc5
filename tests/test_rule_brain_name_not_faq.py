"""The rule brain inbound and in chats, en + de, through the Engine: a surname that is also a word of an FAQ
question or a price ("Park" → parking, "Price", "Preis", "Bank") is a name where Lisa asks for the name — for a
booking or a message — and never answered as a question; a real question asked there still is ("Is there
parking?"), and the name is asked for again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.conversation import Status
from agent.phrases import phrase

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # Monday
BOOK = {
    "en": "I'd like to book an appointment on Tuesday at ten",
    "de": "Ich hätte gern einen Termin am Dienstag um zehn",
}
MESSAGE = {"en": "I'd like to leave a message", "de": "Ich möchte eine Nachricht hinterlassen"}
BODY = {
    "en": "Please tell Dr. Berg that my knee is much better",
    "de": "Bitte sagen Sie Frau Dr. Berg, dass es meinem Knie viel besser geht",
}
# what an FAQ or price answer would start with: never in the reply to a name
FAQ_WORDS = ("Parkstraße", "park", "Park ", "price", "Preis", "cost", "kost", "€", "EUR")

NAMES = {
    "en": [
        ("Park", "Park"),
        ("Joe Park", "Joe Park"),
        ("It's Sarah Price", "Sarah Price"),
        ("Price", "Price"),
        ("Park, Joe Park", "Joe Park"),
        ("Tom Bank", "Tom Bank"),
        ("My name is Joe Park", "Joe Park"),
    ],
    "de": [
        ("Park", "Park"),
        ("Jana Park", "Jana Park"),
        ("Preis", "Preis"),
        ("Anna Preis", "Anna Preis"),
        ("Preis, Karl Preis", "Karl Preis"),
        ("Ich bin Jana Park", "Jana Park"),
        ("Mein Name ist Tom Bank", "Tom Bank"),
    ],
}
NAME_CASES = [(lang, said, name) for lang, names in NAMES.items() for said, name in names]
QUESTIONS = {
    "en": [
        ("Is there parking?", "parking"),
        ("Where can I park my car?", "parking"),
        ("is there a car park nearby", "parking"),
        ("What's your address?", "address"),
        ("Is the practice wheelchair accessible?", "accessible"),
    ],
    "de": [
        ("Gibt es Parkplätze?", "parking"),
        ("Wo kann ich parken?", "parking"),
        ("gibt es eine Parkmöglichkeit in der Nähe", "parking"),
        ("Wie ist Ihre Adresse?", "address"),
        ("Ist die Praxis barrierefrei?", "accessible"),
    ],
}
QUESTION_CASES = [(lang, said, key) for lang, questions in QUESTIONS.items() for said, key in questions]


@pytest.fixture
def engine():
    return rule_engine(ManualClock(NOW.isoformat()))


async def at_the_booking_name(engine, mode: str, lang: str):
    t = await talk(engine, mode, lang)
    reply = await t(BOOK[lang])
    assert reply.endswith(phrase(lang, "inbound.ask_name")), reply
    return t


async def at_the_message_name(engine, mode: str, lang: str):
    t = await talk(engine, mode, lang)
    await t(MESSAGE[lang])
    reply = await t(BODY[lang])
    assert reply.endswith(phrase(lang, "inbound.ask_message_name")) or "?" in reply, reply
    return t


@pytest.mark.parametrize(("lang", "said", "name"), NAME_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_surname_like_an_faq_word_books_under_that_name(engine, mode, lang, said, name):
    t = await at_the_booking_name(engine, mode, lang)
    reply = await t(said)
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == "2026-11-24T10:00", reply
    assert name in reply and name in t.outcome["summary"]
    assert not any(word in reply.replace(name, "") for word in FAQ_WORDS), reply


@pytest.mark.parametrize(("lang", "said", "name"), NAME_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_surname_like_an_faq_word_takes_the_message_under_that_name(engine, mode, lang, said, name):
    t = await at_the_message_name(engine, mode, lang)
    reply = await t(said)
    assert t.status is Status.MESSAGE_TAKEN, reply
    assert name in reply and t.conv.slots["message"]["name"] == name
    assert not any(word in reply.replace(name, "") for word in FAQ_WORDS), reply


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_the_surname_again_at_the_number_is_no_question(engine, lang):
    t = await at_the_message_name(engine, "inbound", lang)
    await t("Joe Park")
    reply = await t("Park")
    assert reply == phrase(lang, "inbound.ask_phone") and t.status is Status.MESSAGE_TAKEN
    reply = await t("0171 2345678")
    assert "0171 2345678" in reply


@pytest.mark.parametrize(("lang", "said", "key"), QUESTION_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_real_question_at_the_booking_name_is_answered_and_the_name_asked_again(
    engine, mode, lang, said, key
):
    t = await at_the_booking_name(engine, mode, lang)
    reply = await t(said)
    assert reply.endswith(phrase(lang, "inbound.ask_name")) and len(reply) > len(
        phrase(lang, "inbound.ask_name")
    )
    assert t.outcome["status"] != "booked"
    reply = await t("Joe Park")
    assert t.outcome["status"] == "booked" and "Joe Park" in t.outcome["summary"]


@pytest.mark.parametrize(("lang", "said", "key"), QUESTION_CASES)
@pytest.mark.parametrize("mode", ["inbound", "chat"])
async def test_a_real_question_at_the_message_name_is_answered_and_the_name_asked_again(
    engine, mode, lang, said, key
):
    t = await at_the_message_name(engine, mode, lang)
    reply = await t(said)
    assert reply.endswith(phrase(lang, "inbound.ask_message_name")), reply
    assert len(reply) > len(phrase(lang, "inbound.ask_message_name"))
    assert t.status is not Status.MESSAGE_TAKEN
    reply = await t("Joe Park")
    assert t.status is Status.MESSAGE_TAKEN and t.conv.slots["message"]["name"] == "Joe Park"


@pytest.mark.parametrize(
    ("said", "name"),
    [("Park", "Park"), ("Joe Park", "Joe Park"), ("It's Sarah Price", "Sarah Price"), ("Preis", "Preis")],
)
def test_a_name_answer_is_a_name(said, name):
    assert nlu.name_answer(said) == name


@pytest.mark.parametrize(
    "said",
    ["Is there parking?", "is there parking", "Where can I park", "Gibt es Parkplätze", "Wo kann ich parken",
     "What does it cost", "Was kostet das"],
)  # fmt: skip
def test_a_question_is_never_a_name_answer(said):
    assert nlu.name_answer(said) is None
