"""How long a service takes is answered from the business profile's services (their minutes), in en and de,
by the FAQ path every channel uses; questions about opening hours are left to the hours answer."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine

from agent.business import load_business

CLOCK = "2026-11-23T11:00:00+01:00"


@pytest.mark.parametrize(
    ("lang", "question", "minutes"),
    [
        ("en", "How long does a first appointment take?", "60"),
        ("en", "How long is a massage?", "30"),
        ("en", "Roughly how much time should I plan for a sports therapy session?", "45"),
        ("de", "Wie lange dauert eine Erstuntersuchung?", "60"),
        ("de", "Wie viel Zeit muss ich für die Massage einplanen?", "30"),
    ],
)
async def test_a_duration_question_gets_the_service_minutes(lang: str, question: str, minutes: str) -> None:
    assert minutes in (load_business().faq_answer(question, lang) or "")
    talk = Talk(rule_engine(ManualClock(CLOCK)), "inbound", lang)
    await talk.engine.reply(talk.conv, None)
    reply = await talk(question)
    assert minutes in reply, reply


def test_a_duration_and_another_question_get_both_answers() -> None:
    answer = load_business().faq_answer("How long does a session take, and is there parking?", "en") or ""
    assert "30 minutes" in answer and "parking" in answer


@pytest.mark.parametrize(
    ("lang", "question"), [("en", "How long are you open today?"), ("de", "Wie lange haben Sie heute auf?")]
)
def test_how_long_you_are_open_is_no_duration_question(lang: str, question: str) -> None:
    assert "minutes" not in (load_business().faq_answer(question, lang) or "").lower()
    assert "minuten" not in (load_business().faq_answer(question, lang) or "").lower()


@pytest.mark.parametrize(
    ("lang", "question", "expected"),
    [
        ("en", "Where are you located, and is there parking?", ("Parkstraße", "parking")),
        ("de", "Wo sind Sie und gibt es Parkplätze?", ("Parkstraße", "Parkplätze")),
    ],
)
def test_two_questions_joined_by_and_get_both_answers(
    lang: str, question: str, expected: tuple[str, str]
) -> None:
    answer = load_business().faq_answer(question, lang) or ""
    assert all(word in answer for word in expected), answer
