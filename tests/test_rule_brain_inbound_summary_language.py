"""The rule brain on an inbound call or chat: a conversation that ends without a result gives its reason in
the summary in the conversation's language, en + de ("Gespräch ohne Ergebnis beendet. Der Anrufer hat sich
verabschiedet.", never "… caller said goodbye")."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine

from agent.conversation import Status

CLOCK = "2026-11-23T09:15:00+01:00"
GOODBYES = {
    "en": ["Bye.", "Goodbye.", "Bye bye then.", "Thanks, goodbye.", "See you, bye."],
    "de": ["Tschüss.", "Auf Wiedersehen.", "Na dann, tschüss.", "Danke, auf Wiederhören.", "Ciao, tschüss."],
}
CASES = [(lang, s) for lang, lines in GOODBYES.items() for s in lines]
HELLO = {"en": "Hi", "de": "Hallo"}
BOOK = {"en": "I'd like to book an appointment", "de": "Ich möchte einen Termin"}
SAID_BYE = {
    "en": "Ended without a result. The caller said goodbye.",
    "de": "Gespräch ohne Ergebnis beendet. Der Anrufer hat sich verabschiedet.",
}
LEFT = {
    "en": "Ended without a result. The caller left during the booking.",
    "de": "Gespräch ohne Ergebnis beendet. Der Anrufer hat sich während der Buchung verabschiedet.",
}


async def talk(lang: str, first: str, bye: str, mode: str) -> Talk:
    t = Talk(rule_engine(ManualClock(CLOCK)), mode, lang)
    await t.open()
    await t(first)
    await t(bye)
    return t


def in_mode(summary: str, mode: str) -> str:
    """A chat has a visitor, no caller."""
    if mode != "chat":
        return summary
    return summary.replace("The caller", "The visitor").replace("Der Anrufer", "Der Besucher")


@pytest.mark.parametrize("mode", ["inbound", "chat"])
@pytest.mark.parametrize(("lang", "bye"), CASES)
async def test_goodbye_without_a_request(lang, bye, mode):
    t = await talk(lang, HELLO[lang], bye, mode)
    assert t.status is Status.ABANDONED
    assert t.conv.outcome.summary == in_mode(SAID_BYE[lang], mode)


@pytest.mark.parametrize("mode", ["inbound", "chat"])
@pytest.mark.parametrize(("lang", "bye"), CASES)
async def test_goodbye_during_the_booking(lang, bye, mode):
    t = await talk(lang, BOOK[lang], bye, mode)
    assert t.status is Status.ABANDONED
    assert t.conv.outcome.summary == in_mode(LEFT[lang], mode)
