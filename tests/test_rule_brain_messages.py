"""Messages on inbound calls and chats, in en and de: a recipient with a title's dot ("Frau Dr. Berg") keeps
the whole name; after a transfer that cannot be made, the answer to "What's your name?" is the name, and the
message is asked for next."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.business import DEFAULT_PROFILE, business_from_dict
from agent.calendar import InMemoryCalendar
from agent.conversation import Status
from agent.engine import Engine
from agent.rule_brain import RuleBrain
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


# ---------------------------------------------------------------- no one to put through: name first, then the message
def _no_transfer_engine() -> Engine:
    data = yaml.safe_load(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    data["transfer_number"] = ""
    data.pop("phone", None)  # the business's own number is the transfer number unless one is given
    return Engine(RuleBrain(), business_from_dict(data), ManualClock(MONDAY_9), InMemoryCalendar())


NAME_THEN_MESSAGE = [
    ("en", "Can I speak to a real person please?", "Anna Roth", "Anna Roth", "Tell Dr. Park I'll be ten minutes late today"),
    ("en", "I want to talk to the manager", "It's Tom Becker", "Tom Becker", "Please ask him to call me about the invoice"),
    ("en", "Put me through to reception, please", "This is Sue Hill.", "Sue Hill", "I left my scarf in the waiting room"),
    ("en", "Could you connect me with someone?", "my name is Leo Brandt", "Leo Brandt", "My knee is much better, I will skip next week"),
    ("en", "I'd like to speak to a human", "Rachel Green, please", "Rachel Green", "Could someone send me the invoice by email"),
    ("de", "Kann ich bitte mit einem Mitarbeiter sprechen?", "Jonas Weber", "Jonas Weber", "Ich komme morgen eine Viertelstunde später"),
    ("de", "Verbinden Sie mich bitte mit der Chefin", "Weber, Karin Weber", "Karin Weber", "Bitte um Rückruf wegen der Rechnung"),
    ("de", "Ich möchte mit einem Menschen sprechen", "Mein Name ist Lukas Schneider", "Lukas Schneider", "Ich habe meinen Schal im Wartezimmer vergessen"),
    ("de", "Können Sie mich mit jemandem verbinden?", "Hier ist Frau Berger", "Frau Berger", "Die Überweisung vom Hausarzt bringe ich am Freitag mit"),
    ("de", "Bitte durchstellen zu einem Kollegen", "Schneider", "Schneider", "Das Rezept liegt jetzt vor, ich bringe es mit"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "ask", "answer", "name", "message"), NAME_THEN_MESSAGE)
async def test_after_a_failed_transfer_the_name_is_the_name_and_the_message_is_asked_for(
    lang, ask, answer, name, message
):
    t = await talk(_no_transfer_engine(), "inbound", lang)
    reply = await t(ask)
    assert "What's your name?" in reply or "Wie ist Ihr Name?" in reply, reply
    reply = await t(answer)
    assert name in reply and ("pass on?" in reply or "ausrichten?" in reply), reply
    assert t.status is not Status.MESSAGE_TAKEN  # the name is no message
    reply = await t(message)
    assert name in reply and ("number" in reply or "Nummer" in reply), reply
    await t("0176 5550123")
    assert t.outcome["status"] == "message_taken", t.outcome
    summary = t.outcome["summary"]
    assert summary.startswith(
        (f"Message from {name} (0176 5550123): ", f"Nachricht von {name} (0176 5550123): ")
    )
    assert summary.endswith(message), summary


NAME_AND_MESSAGE = [
    ("en", "My name is Sue Hill, I need to cancel my massage on Friday", "Sue Hill", "I need to cancel my massage on Friday"),
    ("en", "This is Anna Roth, tell Dr. Park I'll be ten minutes late", "Anna Roth", "tell Dr. Park I'll be ten minutes late"),
    ("en", "Please tell Dr. Park I'll be ten minutes late today", None, "Please tell Dr. Park I'll be ten minutes late today"),
    ("en", "Yes, I'm running late for my appointment", None, "I'm running late for my appointment"),
    ("de", "Hier ist Jonas Weber, ich komme morgen eine Viertelstunde später", "Jonas Weber", "ich komme morgen eine Viertelstunde später"),
    ("de", "Mein Name ist Karin Vogt, ich muss meinen Termin am Donnerstag absagen", "Karin Vogt", "ich muss meinen Termin am Donnerstag absagen"),
    ("de", "Sagen Sie Frau Lang bitte, dass ich später komme", None, "Sagen Sie Frau Lang bitte, dass ich später komme"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "answer", "name", "message"), NAME_AND_MESSAGE)
async def test_after_a_failed_transfer_a_message_said_with_or_instead_of_the_name_is_kept(
    lang, answer, name, message
):
    t = await talk(_no_transfer_engine(), "inbound", lang)
    await t("Kann ich mit jemandem sprechen?" if lang == "de" else "Can I speak to someone?")
    reply = await t(answer)
    if name is None:  # the message first: the name is asked for again, never taken from the message
        assert "name" in reply.lower(), reply
        name = "Anna Roth"
        reply = await t(name)
    assert name in reply and ("number" in reply or "Nummer" in reply), reply
    await t("0176 5550123")
    summary = t.outcome["summary"]
    assert t.outcome["status"] == "message_taken" and f" {name} (0176 5550123): " in summary, summary
    assert message in summary, summary
