"""The rule brain on an outbound call: once a slot is agreed, a see-off of the business ("Perfect, see you
then.", "Alles klar, bis dann.", "wir sehen uns am Freitag") closes the call as a goodbye does, en + de;
Lisa says goodbye and ends instead of thanking again and again. A see-off that asks something more does not
end the call."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_closed import HELLO, haircut

from agent import outbound_nlu as onlu
from agent.conversation import Status

SEE_OFF = {
    "en": [
        "Perfect, see you then.",
        "Great, see you Friday.",
        "Lovely, see you soon!",
        "Okay, until then.",
        "Right, till then, cheers.",
        "Brilliant, we'll see him on Friday at three.",
        "Thanks, we look forward to seeing him.",
        "Perfect, catch you Friday.",
        "Okay, see you then, take care.",
    ],
    "de": [
        "Alles klar, bis dann.",
        "Gut, bis Freitag!",
        "Prima, bis bald.",
        "Super, wir sehen uns am Freitag.",
        "Danke, bis Freitag um drei.",
        "Okay, dann bis dann.",
        "Schön, wir freuen uns auf ihn.",
        "Prima, dann sehen wir uns Freitag.",
        "Bis Freitag dann!",
    ],
}
SEE_OFF_CASES = [(lang, s) for lang, lines in SEE_OFF.items() for s in lines]
FREE = {"en": "Friday at three is free.", "de": "Freitag um drei ist frei."}
BOOKED_NAME = {"en": "Great, booked. What's the name?", "de": "Gut, ist eingetragen. Wie ist der Name?"}
SLOT = {"en": "Friday, November 27 at 3 pm", "de": "Freitag, 27. November um 15 Uhr"}
GOODBYE = {"en": "Goodbye!", "de": "Auf Wiederhören!"}


@pytest.mark.parametrize(("lang", "said"), SEE_OFF_CASES)
async def test_a_see_off_after_the_booking_ends_the_call(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FREE[lang])
    await call(BOOKED_NAME[lang])
    assert call.status is Status.BOOKED and not call.conv.end_requested
    reply = await call(said)
    assert reply.endswith(GOODBYE[lang]) and SLOT[lang] in reply
    assert call.conv.end_requested
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-27T15:00"


@pytest.mark.parametrize(("lang", "said"), SEE_OFF_CASES)
async def test_a_see_off_right_after_lisas_yes_confirms_and_ends(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FREE[lang])
    reply = await call(said)
    assert reply.endswith(GOODBYE[lang]) and SLOT[lang] in reply
    assert call.conv.end_requested and call.status is Status.BOOKED


NO_SEE_OFF = {
    "en": [
        "Perfect, see you then. What's his phone number?",
        "See you then? Oh wait, what's his name?",
        "We can see him Friday at four or Saturday at ten.",
        "I'm on holiday until Friday.",
        "Let me see... Friday at three is free.",
    ],
    "de": [
        "Bis Freitag ist leider alles voll.",
        "Wir haben bis Freitag geschlossen.",
        "Alles klar, bis dann. Wie ist die Telefonnummer?",
        "Bis wann bräuchten Sie den Termin?",
        "Wir sehen uns die Termine mal an.",
    ],
}
NO_CASES = [(lang, s) for lang, lines in NO_SEE_OFF.items() for s in lines]


@pytest.mark.parametrize(("lang", "said"), NO_CASES)
def test_what_is_no_see_off(lang, said):
    assert not onlu.sees_off(said)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Perfect, see you then. What's his phone number?"),
        ("en", "See you Friday. Oh, and is he a new client?"),
        ("de", "Alles klar, bis dann. Wie ist die Telefonnummer?"),
        ("de", "Bis Freitag. War er schon mal bei uns?"),
    ],
)
async def test_a_see_off_with_a_question_does_not_end_the_call(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(FREE[lang])
    await call(BOOKED_NAME[lang])
    await call(said)
    assert not call.conv.end_requested and call.status is Status.BOOKED
