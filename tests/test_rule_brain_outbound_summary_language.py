"""The rule brain on an outbound call: the summary a request ends with (what the user reads in the app) gives
its reason in the conversation's language, en + de — a goodbye before anything was agreed, a time that was
never confirmed (said as other summaries say times, not ISO), a slot taken back with a goodbye, a business
Lisa could not understand, and the business's own "nothing free"."""

from __future__ import annotations

import re

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_closed import HELLO, haircut

from agent.conversation import Status

ENGLISH = re.compile(r"\b(the|business|said|goodbye|time|was|not|could|understand|confirmed)\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d")


def german(summary: str) -> None:
    assert summary.startswith("Kein Termin"), summary
    assert not ENGLISH.search(summary), summary
    assert not ISO.search(summary), summary


def english(summary: str) -> None:
    assert summary.startswith("No appointment"), summary
    assert not ISO.search(summary), summary


CHECK = {"de": german, "en": english}

GOODBYES = {
    "en": ["Bye.", "Okay, goodbye.", "Thanks, bye bye.", "Alright, have a nice day, bye.", "Goodbye then."],
    "de": ["Tschüss.", "Auf Wiederhören.", "Okay, tschüss.", "Danke, auf Wiederhören.", "Ja, dann tschüss."],
}
SAID_GOODBYE = {"en": "said goodbye before a time was agreed", "de": "hat sich verabschiedet, bevor"}


@pytest.mark.parametrize(("lang", "bye"), [(lang, s) for lang, lines in GOODBYES.items() for s in lines])
async def test_goodbye_before_anything_was_agreed(lang, bye):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(bye)
    assert call.conv.end_requested and call.status is Status.FAILED
    summary = call.conv.outcome.summary
    CHECK[lang](summary)
    assert SAID_GOODBYE[lang] in summary


OFFER = {"en": "Friday at three is free.", "de": "Freitag um drei ist frei."}
OTHER_TIME = {
    "en": [
        "Okay, so I've put him down for Friday at three thirty. Bye.",
        "Great, Friday at half past three then. Bye.",
        "Alright, he's booked for Friday at 3:30. Goodbye.",
        "So that's Friday at three thirty. See you, bye.",
        "Fine, I've written him in for Friday at half three. Bye.",
    ],
    "de": [
        "Gut, ich hab ihn für Freitag halb vier eingetragen. Tschüss.",
        "Also Freitag um halb vier. Tschüss.",
        "Alles klar, Freitag 15:30 Uhr ist eingetragen. Auf Wiederhören.",
        "Gut, dann Freitag um 15.30 Uhr. Tschüss.",
        "Prima, ich trage ihn Freitag um halb vier ein. Auf Wiederhören.",
    ],
}
UNSURE = {
    "en": "the time was not confirmed (Friday, November 27 at 15:00 or Friday, November 27 at 15:30)",
    "de": "die Uhrzeit wurde nicht bestätigt (Freitag, 27.11., 15:00 Uhr oder Freitag, 27.11., 15:30 Uhr)",
}


@pytest.mark.parametrize(("lang", "said"), [(lang, s) for lang, lines in OTHER_TIME.items() for s in lines])
async def test_a_time_never_confirmed_is_said_in_the_language_with_written_times(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(OFFER[lang])
    await call(said)
    if not call.conv.end_requested:  # Lisa asked which of the two; the business leaves
        await call({"en": "Bye.", "de": "Tschüss."}[lang])
    assert call.conv.end_requested and call.status is Status.FAILED
    summary = call.conv.outcome.summary
    CHECK[lang](summary)
    assert UNSURE[lang] in summary


TAKEN_BACK = {
    "en": [
        "Oh no, Friday at three is already gone, sorry. Bye.",
        "Sorry, Friday at three was just taken. Goodbye.",
    ],
    "de": [
        "Ach nein, Freitag um drei ist doch schon weg. Tschüss.",
        "Oh, Freitag um drei ist leider gerade vergeben worden. Auf Wiederhören.",
    ],
}
WITHDRAWN = {"en": "took back the time and said goodbye", "de": "hat die Zeit zurückgenommen"}


@pytest.mark.parametrize(("lang", "said"), [(lang, s) for lang, lines in TAKEN_BACK.items() for s in lines])
async def test_slot_taken_back_with_a_goodbye(lang, said):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(OFFER[lang])
    await call(said)
    assert call.conv.end_requested and call.status is Status.FAILED
    summary = call.conv.outcome.summary
    CHECK[lang](summary)
    assert WITHDRAWN[lang] in summary


NOT_UNDERSTOOD = {"en": "could not understand the business", "de": "konnte den Betrieb nicht verstehen"}


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_business_lisa_could_not_understand(lang):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    for noise in ("Blorp.", "Flurp.", "Gnarf."):
        await call(noise)
    assert call.conv.end_requested and call.status is Status.FAILED
    summary = call.conv.outcome.summary
    CHECK[lang](summary)
    assert NOT_UNDERSTOOD[lang] in summary


NOTHING_FREE = {
    "en": "Sorry, we have nothing free on Friday.",
    "de": "Freitag haben wir leider nichts mehr frei.",
}


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_nothing_free_gives_the_business_words(lang):
    call = Call(lang, haircut(lang))
    await call(HELLO[lang])
    await call(NOTHING_FREE[lang])
    summary = call.conv.outcome.summary
    assert call.status is Status.FAILED
    CHECK[lang](summary)
    assert NOTHING_FREE[lang].rstrip(".") in summary
