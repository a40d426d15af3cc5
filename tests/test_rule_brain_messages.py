"""Messages on inbound calls and chats, in en and de: a recipient with a title's dot ("Frau Dr. Berg") keeps
the whole name."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.when import parse_when

MONDAY_9 = "2026-11-23T09:00:00+01:00"


# ---------------------------------------------------------------- a title's dot ends no recipient's name
TITLED = [
    ("en", "Please tell Frau Dr. Berg that I'm running late", "Frau Dr. Berg"),
    ("en", "Could you let Prof. Meyer know that I can't make it tomorrow?", "Prof. Meyer"),
    ("en", "Can you pass a message to Mrs. Dr. Novak: I'll be ten minutes late", "Mrs. Dr. Novak"),
    ("en", "I'd like to leave a message for Dr. St. John, I need to cancel my appointment on Friday", "Dr. St. John"),
    ("en", "Please tell Mr. Prof. Lang I'll be late for my session", "Mr. Prof. Lang"),
    ("en", "Please tell Ms. O'Brien that my X-ray results are ready", "Ms. O'Brien"),
    ("de", "Ich habe eine Nachricht für Frau Dr. Berg: ich komme heute später", "Frau Dr. Berg"),
    ("de", "Können Sie Herrn Prof. Dr. Weiß ausrichten, dass ich morgen nicht kommen kann?", "Herrn Prof. Dr. Weiß"),
    ("de", "Bitte sagen Sie Fr. Dr. Berg, dass ich mich verspäte", "Fr. Dr. Berg"),
    ("de", "Richten Sie bitte Hr. Dr. Schulz aus, dass ich meinen Termin absagen muss", "Hr. Dr. Schulz"),
    ("de", "Eine Nachricht für Frau Prof. Lang: ich verspäte mich um zehn Minuten", "Frau Prof. Lang"),
    ("de", "Sagen Sie bitte Fr. Dr. Berg, dass die Überweisung da ist", "Fr. Dr. Berg"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text", "recipient"), TITLED)
def test_a_title_with_a_dot_is_part_of_the_recipient(lang, text, recipient):
    assert nlu.message_recipient(text) == recipient


@pytest.mark.parametrize(("lang", "text", "recipient"), TITLED)
async def test_a_message_for_a_titled_recipient_is_passed_on_to_the_whole_name(lang, text, recipient):
    t = await talk(rule_engine(ManualClock(MONDAY_9)), "chat", lang)
    reply = await t(text)
    assert f"{recipient}." in reply or f"{recipient} weiter" in reply, reply
    assert "name" in reply.lower(), reply
    reply = await t("Anna Roth")
    assert recipient in reply, reply
    await t("0176 5550123")
    assert t.outcome["status"] == "message_taken", t.outcome
    summary = t.outcome["summary"]
    assert "Anna Roth" in summary and "0176 5550123" in summary
    # nothing of the name is left at the start of the message ("Berg: ich komme …", "Novak: I'll be …")
    body = summary.split(": ", 1)[1]
    assert not body.startswith(recipient.split()[-1]), summary


@pytest.mark.parametrize(
    "text",
    [
        "Please tell Ms. Lang I'll be late",
        "Können Sie Frau Lang Bescheid sagen?",
        "Please tell Dr. Park Friday is off for me",
        "Sagen Sie Frau Lang Danke von mir",
    ],
)
def test_words_after_the_recipient_are_no_part_of_the_name(text):
    assert nlu.message_recipient(text) in ("Ms. Lang", "Frau Lang", "Dr. Park")


@pytest.mark.parametrize(
    "text",
    [
        "Ich hätte gern einen Termin bei Fr. Dr. Berg",
        "Sagen Sie bitte Fr. Dr. Berg, dass die Überweisung da ist",
        "Eine Nachricht für Fr. Prof. Lang bitte",
        "Ist heute bei Fr. Berg noch etwas frei?",
        "Ich war mit Fr. Dr. Novak verabredet",
    ],
)
def test_fr_before_a_title_or_after_bei_is_frau_not_friday(text):
    when = parse_when(text, datetime.fromisoformat(MONDAY_9), "de")
    assert when is None or when.day is None or when.day.weekday() != 4, when


@pytest.mark.parametrize(
    "text", ["Fr. 10 Uhr", "am Fr. um 10", "Fr 10 Uhr", "Mo. bis Fr.", "am Fr. bei Fr. Berg"]
)
def test_fr_as_friday_still_works(text):
    when = parse_when(text, datetime.fromisoformat(MONDAY_9), "de")
    assert when is not None and (when.day or when.last_day).weekday() == 4, when
