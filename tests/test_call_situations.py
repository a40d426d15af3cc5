"""Phone menus, mailboxes, screeners, queues and hold on outbound calls (agent/call_situations.py), en + de,
through the real engine and rule brain."""

from __future__ import annotations

import pytest

from agent import call_situations as cs
from agent.conversation import BookingRequest, Mode, Status
from agent.factory import build_engine
from agent.settings import AgentSettings

CLOCK = "2026-11-23T09:15:00+01:00"


def _request(lang: str = "en", share: bool = False) -> BookingRequest:
    profile = {"username": "Max Mustermann"}
    if share:
        profile["share_callback_number"] = True
    return BookingRequest(
        request_id="r1",
        user_id="u1",
        title="Book a dental cleaning" if lang == "en" else "Zahnreinigung buchen",
        description="I need an appointment for a dental cleaning"
        if lang == "en"
        else "Ich brauche einen Termin für eine Zahnreinigung",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 7654321",
        preferred_time="next week, Monday 10-12" if lang == "en" else "nächste Woche, Montag 10-12 Uhr",
        user_profile=profile,
    )


def _engine(**settings: object):
    return build_engine(AgentSettings(lisa_clock=CLOCK, **settings))


async def _turn(engine, conv, text: str) -> str:
    return " ".join([s async for s in engine.respond(conv, text)])


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("Thank you for calling Miller Dental. For appointments, press 1. For billing, press 2.", "1"),
        ("Press 1 for prescriptions, press 2 to make an appointment, press 3 for opening hours.", "2"),
        ("For billing press one for cancellations press two for all other questions press three", "3"),
        ("To reschedule press 1. For prescription refills press 2.", "0"),
        ("Für Rezepte drücken Sie die 1, für Termine drücken Sie die 2.", "2"),
        (
            "Drücken Sie die 1 für Rechnungen, die Taste 2 für Befunde. Für alle anderen Anliegen drücken Sie die 9.",
            "9",
        ),
        ("If you would like to book a dental cleaning, press 4. For emergencies, press 5.", "4"),
        (
            "Thank you for calling for appointments. Press 1, for billing. Press 2.",
            "1",
        ),  # as Whisper heard it
        ("Für Rechnungen. Drücken Sie die 1. Für Terminvereinbarungen. Drücken Sie die 2.", "2"),
        (
            "Welcome to Parkside Vets. Press 1 for the pharmacy. Press 2 to make an appointment. Press 3 for hours.",
            "2",
        ),
        ("Welcome to Parkside Vets, press 1 for the pharmacy, press 2 to make an appointment.", "2"),
    ],
)
def test_menu_choice(text: str, digits: str) -> None:
    assert cs.classify(text) is cs.Situation.MENU
    choice = cs.choose_option(cs.menu_options(text), _request(), text)
    assert choice.digits == digits


def test_menu_without_fit_that_says_stay_on_the_line_waits() -> None:
    text = (
        "For billing press 1, for prescriptions press 2, or stay on the line for the next available person."
    )
    assert cs.choose_option(cs.menu_options(text), _request(), text).digits is None


@pytest.mark.parametrize(
    ("text", "situation"),
    [
        (
            "Hi, you've reached Miller Dental. We can't take your call right now, please leave a message after the tone.",
            "voicemail",
        ),
        (
            "The person you are calling is not available. Please record your message after the beep.",
            "voicemail",
        ),
        (
            "Sie sind verbunden mit der Mailbox von Praxis Weber. Bitte hinterlassen Sie eine Nachricht nach dem Signalton.",
            "voicemail",
        ),
        ("Would you like to leave a message for her?", "none"),
        (
            "Hi, the person you're calling is using a screening service. Please say your name and why you're calling.",
            "screener",
        ),
        ("Please state your name and the reason for your call.", "screener"),
        ("Hi, the person you're calling is using a screening service.", "screener_notice"),
        ("Bitte nennen Sie Ihren Namen und den Grund Ihres Anrufs.", "screener"),
        (
            "All of our staff are currently busy. Your call is important to us, please stay on the line.",
            "queue",
        ),
        ("Alle Mitarbeiter sind zur Zeit im Gespräch. Bitte legen Sie nicht auf.", "queue"),
        ("One moment please, I'll put you on hold.", "hold"),
        ("Einen Moment bitte, ich verbinde Sie.", "hold"),
        ("One moment, Monday at ten is free.", "none"),
        ("Good morning, Miller dental practice, how can I help you?", "none"),
    ],
)
def test_classify(text: str, situation: str) -> None:
    assert cs.classify(text) == cs.Situation(situation)


@pytest.mark.parametrize("text", ["[Music]", "(upbeat music)", "♪ ♪", "Thanks for watching!"])
def test_non_speech(text: str) -> None:
    assert cs.is_non_speech(text)
    assert not cs.is_non_speech("Hello, are you still there?")


async def test_menu_presses_key_then_person_gets_the_introduction() -> None:
    engine = _engine()
    conv = engine.new_conversation(Mode.OUTBOUND, "en", request=_request())
    said = await _turn(
        engine, conv, "Welcome to Miller Dental. For appointments press 1, for billing press 2."
    )
    assert said == "" and conv.send_digits == "1"
    assert any(e.type == "phone_menu" and "pressed 1" in e.message for e in conv.events)
    assert cs.on_hold(conv)
    said = await _turn(engine, conv, "Good morning, reception, how can I help you?")
    assert "Max Mustermann" in said and not cs.on_hold(conv)


async def test_same_menu_again_asks_for_a_person_then_gives_up() -> None:
    engine = _engine()
    conv = engine.new_conversation(Mode.OUTBOUND, "en", request=_request())
    menu = "For appointments press 1, for billing press 2."
    await _turn(engine, conv, menu)
    assert conv.send_digits == "1"
    conv.send_digits = None
    await _turn(engine, conv, menu)
    assert conv.send_digits == "0"
    conv.send_digits = None
    await _turn(engine, conv, menu)
    assert conv.send_digits is None and conv.end_requested
    assert conv.outcome.status is Status.WAITING_FOR_CALLBACK
    assert any(e.type == "phone_menu_failed" for e in conv.events)


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_voicemail_message_without_number_unless_allowed(lang: str) -> None:
    engine = _engine()
    greeting = (
        "Hi, you've reached Miller Dental, please leave a message after the tone."
        if lang == "en"
        else "Hallo, Sie sind mit dem Anrufbeantworter verbunden. Sprechen Sie nach dem Signalton."
    )
    conv = engine.new_conversation(Mode.OUTBOUND, lang, request=_request(lang))
    said = await _turn(engine, conv, greeting)
    assert "Lisa" in said and "Max Mustermann" in said and "1234567" not in said
    assert conv.end_requested and conv.outcome.status is Status.WAITING_FOR_CALLBACK
    assert [e.type for e in conv.events] == ["message_left"]
    assert cs.voicemail_greeting(conv)
    conv = engine.new_conversation(Mode.OUTBOUND, lang, request=_request(lang, share=True))
    said = await _turn(engine, conv, greeting)
    assert "+49 30 1234567" in said


async def test_never_leave_messages() -> None:
    engine = _engine(lisa_leave_voicemail=False)
    conv = engine.new_conversation(Mode.OUTBOUND, "en", request=_request())
    said = [s async for s in engine.machine_answered(conv)]
    assert said == [] and conv.end_requested
    assert conv.outcome.status is Status.WAITING_FOR_CALLBACK
    assert [e.type for e in conv.events] == ["voicemail_reached"]


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_screener_gets_who_and_why_then_person_the_introduction(lang: str) -> None:
    engine = _engine()
    conv = engine.new_conversation(Mode.OUTBOUND, lang, request=_request(lang))
    prompt = (
        "Please say your name and why you're calling."
        if lang == "en"
        else "Bitte nennen Sie Ihren Namen und den Grund Ihres Anrufs."
    )
    said = await _turn(engine, conv, prompt)
    assert "Lisa" in said and "Max Mustermann" in said and not conv.end_requested
    assert "?" not in said  # she answers and waits
    said = await _turn(engine, conv, "Hello?" if lang == "en" else "Hallo?")
    assert "Max Mustermann" in said and "?" in said  # the introduction with the wish


async def test_queue_message_is_silent_and_hold_gives_up_politely() -> None:
    engine = _engine()
    conv = engine.new_conversation(Mode.OUTBOUND, "en", request=_request())
    assert await _turn(engine, conv, "Miller Dental, please hold.") == "Sure, I'll wait."
    assert cs.on_hold(conv)
    assert await _turn(engine, conv, "Your call is important to us. Please stay on the line.") == ""
    assert await _turn(engine, conv, "[Music]") == ""
    said = " ".join([s async for s in engine.hold_expired(conv, 300)])
    assert "call back" in said and conv.end_requested
    assert conv.outcome.status is Status.WAITING_FOR_CALLBACK
    assert "5 minutes" in conv.outcome.summary


@pytest.mark.parametrize(
    ("text", "farewell"),
    [
        ("Goodbye.", True),
        ("Bye bye!", True),
        ("Bye-bye.", True),
        ("Byebye", True),
        ("Good bye", True),
        ("Tschüss.", True),
        ("Auf Wiederhören!", True),
        ("Ciao.", True),
        ("By the way, no.", False),  # Whisper writes "by" for "bye" too, but not at the start of a sentence
        ("Byron Street.", False),
        ("Okay.", False),
        ("Mhm.", False),
    ],
)
def test_a_farewell_is_told_from_a_backchannel(text: str, farewell: bool) -> None:
    assert cs.is_farewell(text) is farewell
