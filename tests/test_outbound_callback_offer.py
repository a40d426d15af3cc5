"""The business offers to have someone call the user back instead of booking (agent/outbound_nlu.py): said of
"your client", him or her as well as of "you", in en and de; an offered free time still wins."""

from __future__ import annotations

import pytest

from agent.outbound_nlu import offers_message

OFFERS = [
    "The person who does the bookings isn't in today. Can he call your client back tomorrow?",
    "Our receptionist is off sick today. Can she ring your client back on Monday?",
    "I'm only covering the phones. Dr. Adams will give him a call this afternoon.",
    "She'll get back to her as soon as she can.",
    "Can I call you back?",
    "Die Kollegin kann Herrn Wagner morgen zurückrufen.",
    "Ich kann es ihr ausrichten.",
]
NOT_OFFERS = [
    "Friday at three is free, or I can call you back.",
    "Thursday at ten would be free.",
    "Did your client call us before?",
]


@pytest.mark.parametrize("text", OFFERS)
def test_a_callback_for_the_user_is_a_message_offer(text: str) -> None:
    assert offers_message(text)


@pytest.mark.parametrize("text", NOT_OFFERS)
def test_a_free_time_or_a_plain_question_is_not(text: str) -> None:
    assert not offers_message(text)
