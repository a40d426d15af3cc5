"""The rule brain on answers real callers type or say (inbound and chat, en + de): picking one of the offered
times ("10 sounds good", "half ten", "die erste", "den späteren"), a name given while a time is still open, the
fullest name in an utterance ("Auf Schneider bitte, Lukas Schneider"), a message about an existing
appointment given before Lisa asks for it, a callback request with name and number in one line, and price
questions."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.business import DEFAULT_PROFILE, business_from_dict
from agent.calendar import InMemoryCalendar
from agent.engine import Engine
from agent.rule_brain import RuleBrain
from agent.slot_choice import pick_offered, said_times

MONDAY_9 = "2026-11-23T09:00:00+01:00"
THU = [datetime(2026, 11, 26, 8), datetime(2026, 11, 26, 10), datetime(2026, 11, 26, 11, 30)]
TUE = [datetime(2026, 11, 24, 8), datetime(2026, 11, 24, 13), datetime(2026, 11, 24, 17, 30)]


@pytest.fixture
def engine():
    return rule_engine(ManualClock(MONDAY_9), InMemoryCalendar())


# ---------------------------------------------------------------- picking one of the offered times
@pytest.mark.parametrize(
    ("text", "options", "index"),
    [
        ("10 sounds good", THU, 1), ("8 is great", THU, 0), ("ten works for me", THU, 1),
        ("10 o'clock please", THU, 1), ("the 11:30 one", THU, 2), ("half eleven", THU, 2),
        ("I'll take 1", TUE, 1), ("5:30 pm please", TUE, 2), ("half five would be ideal", TUE, 2),
        ("the first one", THU, 0), ("the second one please", THU, 1), ("the later one please", TUE, -1),
        ("the earlier one", TUE, 0), ("the last one, thanks", THU, -1), ("the afternoon one", TUE, 1),
        ("um zehn", THU, 1), ("zehn passt", THU, 1), ("halb zwölf", THU, 2), ("10 Uhr bitte", THU, 1),
        ("acht wäre gut", THU, 0), ("die erste", THU, 0), ("den späteren", TUE, -1), ("die mittlere", TUE, 1),
        ("lieber den frühen", TUE, 0), ("Die um halb sechs", TUE, 2), ("um eins", TUE, 1),
        ("the noon one", [datetime(2026, 11, 26, 12), datetime(2026, 11, 26, 15)], 0),
    ],
)  # fmt: skip
def test_a_time_or_an_ordinal_picks_one_of_the_offered_times(text, options, index):
    assert pick_offered(text, options) == index


@pytest.mark.parametrize(
    "text",
    ["9 would be better", "half ten", "it's for Tom Becker", "0176 5550123", "the first time I came",
     "later in the week", "Name's Chloe Martin", "ein Termin um neun", "halb neun"],
)  # fmt: skip
def test_a_time_not_offered_or_no_time_picks_none(text):
    assert pick_offered(text, THU) is None


def test_said_times_reads_british_and_german_half_hours():
    assert said_times("half five would be ideal") == [(5, 30, None)]
    assert said_times("halb elf") == [(10, 30, None)]
    assert said_times("quarter to ten in the morning") == [(9, 45, "am")]
    assert said_times("the first one") == []


@pytest.mark.parametrize(
    ("lang", "ask", "pick", "name", "slot"),
    [
        ("en", "hi there! could I get a massage sometime thursday morning?", "10 sounds good", "it's for Tom Becker", "2026-11-26T10:00"),
        ("en", "Could I book a massage for Thursday?", "the later one please", "Name's Chloe Martin", "2026-11-26T17:30"),
        ("en", "Anything on Thursday morning?", "ten o'clock", "Sam Ortiz", "2026-11-26T10:00"),
        ("de", "Haben Sie Donnerstag vormittag etwas frei?", "um zehn passt", "Auf Schneider bitte, Lukas Schneider", "2026-11-26T10:00"),
        ("de", "Ich hätte gern eine Massage am Donnerstag", "den späteren bitte", "Müller, Anna Müller", "2026-11-26T17:30"),
        ("de", "Geht Donnerstag Vormittag?", "halb zwölf wäre super", "Jonas Weber", "2026-11-26T11:30"),
    ],
)  # fmt: skip
async def test_a_pick_among_the_offered_times_books_it(engine, lang, ask, pick, name, slot):
    t = await talk(engine, "chat", lang)
    offer = await t(ask)
    assert ("could offer" in offer) or ("hätte ich" in offer)
    reply = await t(pick)
    assert "name" in reply.lower() and reply.count(":") <= 1  # the choice is confirmed, not offered again
    reply = await t(name)
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == slot
    full = nlu.extract_name(name, expecting=True)
    assert full is not None and len(full.split()) == 2 and full in reply


@pytest.mark.parametrize(
    ("lang", "ask", "name", "pick", "slot"),
    [
        ("en", "Do you have anything Monday next week, early morning?", "sorry, it's Daniel Kowalski", "8 is great", "2026-11-30T08:00"),
        ("en", "Could I book a massage for Thursday?", "Name's Chloe Martin", "the first one", "2026-11-26T08:00"),
        ("de", "Ich hätte gern eine Massage am Donnerstag", "Anna Müller", "die erste", "2026-11-26T08:00"),
        ("de", "Haben Sie Donnerstag etwas frei?", "Auf den Namen Becker, Tom Becker", "um eins", "2026-11-26T13:00"),
    ],
)  # fmt: skip
async def test_a_name_given_while_the_time_is_open_is_kept(engine, lang, ask, name, pick, slot):
    t = await talk(engine, "chat", lang)
    await t(ask)
    reply = await t(name)
    full = nlu.extract_name(name, expecting=True)
    assert full in reply  # acknowledged …
    assert ("could offer" in reply) or ("hätte ich" in reply)  # … and the choice asked again, not one offer
    reply = await t(pick)
    assert t.outcome["status"] == "booked" and t.outcome["appointment"] == slot and full in reply


# ---------------------------------------------------------------- the fullest name in an utterance
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Auf Schneider bitte, Lukas Schneider", "Lukas Schneider"), ("Müller, Anna Müller", "Anna Müller"),
        ("it's for Tom Becker", "Tom Becker"), ("For Tom Becker please", "Tom Becker"),
        ("Under Smith. John Smith.", "John Smith"), ("Unter Weber bitte – Jonas Weber", "Jonas Weber"),
        ("Auf den Namen Becker, Tom Becker", "Tom Becker"), ("Ja gern, auf Meier", "Meier"),
        ("It's Anna - Anna Schmidt", "Anna Schmidt"), ("Put it under Maria Lopez", "Maria Lopez"),
        ("Ich bin Petra, Petra Wagner", "Petra Wagner"), ("Weber mein Name", "Weber"),
        ("Rachel Green is my name", "Rachel Green"), ("sorry, it's Daniel Kowalski", "Daniel Kowalski"),
        ("für Frau Schmidt, Anna Schmidt", "Anna Schmidt"), ("Mrs Jones - Sarah Jones", "Sarah Jones"),
        ("Mein Name ist Lang, Peter Lang", "Peter Lang"), ("For my wife, Julia Roberts", "Julia Roberts"),
    ],
)  # fmt: skip
def test_the_fullest_name_wins_and_lead_words_are_no_names(text, name):
    assert nlu.extract_name(text, expecting=True) == name


def test_names_said_unasked_keep_working():
    assert nlu.extract_name("Hallo, hier ist Klaus Fischer, ich bräuchte einen Termin") == "Klaus Fischer"
    assert nlu.extract_name("Could you call me back on 0171 2345678? This is Rachel Green.") == "Rachel Green"
    assert nlu.extract_name("I am calling about my knee") is None
    assert nlu.bare_full_name("Sam Ortiz") == "Sam Ortiz"
    assert nlu.bare_full_name("Schulz, Karin Schulz") == "Karin Schulz"
    assert nlu.bare_full_name("oh, it's for my son actually - Leo Brandt") == "Leo Brandt"
    assert nlu.bare_full_name("Sounds Good") is None and nlu.bare_full_name("Thank You") is None


# ---------------------------------------------------------------- a message given before Lisa asks for it
@pytest.mark.parametrize(
    ("lang", "first", "body"),
    [
        ("de", "Guten Tag, ich schaffe meinen Termin morgen um 9 leider nicht. Können Sie das Frau Lang ausrichten?", "ich schaffe meinen Termin morgen um 9 leider nicht"),
        ("de", "Hallo, ich komme am Freitag zehn Minuten später. Könnten Sie das bitte Herrn Kraus ausrichten?", "ich komme am Freitag zehn Minuten später"),
        ("en", "Hello, I can't make my appointment tomorrow at 9, can you leave a message for Ms Lang?", "I can't make my appointment tomorrow at 9"),
        ("en", "Hi, I'll be 15 minutes late on Friday. Could you take a message for Dr. Park?", "I'll be 15 minutes late on Friday"),
    ],
)  # fmt: skip
async def test_a_message_said_before_the_request_to_pass_it_on_is_the_message(engine, lang, first, body):
    t = await talk(engine, "chat", lang)
    reply = await t(first)
    assert "?" in reply and ("name" in reply.lower())  # not "What would you like me to pass on?"
    await t("Jonas Weber")
    await t("0176 5550123")
    assert t.outcome["status"] == "message_taken"
    assert body in t.outcome["summary"] and "Jonas Weber" in t.outcome["summary"]
    assert "0176 5550123" in t.outcome["summary"]


def test_message_body_keeps_what_follows_a_message_request():
    assert nlu.message_body("I'd like to leave a message for Dr. Park: I'll be 20 minutes late") == (
        "I'll be 20 minutes late"
    )
    assert nlu.message_body("Ich möchte eine Nachricht für Frau Lang hinterlassen: ich komme später") == (
        "ich komme später"
    )
    assert nlu.message_body("Ich möchte eine Nachricht hinterlassen") == ""
    assert nlu.message_body("Can I leave a message?") == ""


# ---------------------------------------------------------------- a callback: name and number in one line
@pytest.mark.parametrize(
    ("lang", "first", "answer", "name", "phone"),
    [
        ("en", "Can someone call me back about my treatment plan? I'm at work right now.", "Rachel Green, 07700 900123", "Rachel Green", "07700 900123"),
        ("en", "Could you ring me back later?", "07700 900123, it's Rachel", "Rachel", "07700 900123"),
        ("de", "Können Sie mich bitte zurückrufen? Es geht um meine Rechnung.", "Jonas Weber, 0176 5550123", "Jonas Weber", "0176 5550123"),
        ("de", "Rückruf bitte", "Unter 0176 5550123, Weber mein Name", "Weber", "0176 5550123"),
    ],
)  # fmt: skip
async def test_a_callback_answer_with_name_and_number_keeps_both(engine, lang, first, answer, name, phone):
    t = await talk(engine, "chat", lang)
    await t(first)
    reply = await t(answer)
    assert name in reply and phone in reply
    assert t.outcome["status"] == "callback_requested" and name in t.outcome["summary"]


# ---------------------------------------------------------------- prices
@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("en", "How much is a massage with you guys?"), ("en", "What does the sports therapy cost?"),
        ("de", "Was kostet bei Ihnen eine Massage?"), ("de", "Wie teuer ist eine Massage?"),
    ],
)  # fmt: skip
async def test_a_price_question_about_a_service_gets_the_price_answer(engine, lang, question):
    t = await talk(engine, "chat", lang)
    reply = await t(question)
    assert ("euros" in reply) or ("Euro" in reply)


def test_how_much_time_is_no_price_question():
    business = rule_engine(ManualClock(MONDAY_9)).business
    assert business.faq_answer("How much time do you have on Monday for a massage?") is None
    assert business.faq_answer("Do you do massages?") is None


@pytest.mark.parametrize(
    ("lang", "question", "then", "status"),
    [
        ("en", "How much is a massage with you guys?", "A message, please.", "message"),
        ("de", "Was kostet eine Massage?", "Dann buchen Sie mich für Freitag um neun", "booking"),
    ],
)  # fmt: skip
async def test_without_prices_in_the_profile_lisa_says_so_and_offers_what_she_can(
    lang, question, then, status
):
    data = yaml.safe_load(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    data["faq"] = [entry for entry in data["faq"] if entry["key"] != "prices"]
    engine = Engine(RuleBrain(), business_from_dict(data), ManualClock(MONDAY_9), InMemoryCalendar())
    t = await talk(engine, "chat", lang)
    reply = await t(question)
    assert ("prices here" in reply) or ("Preise habe ich hier" in reply)
    assert "put you through" not in reply and "verbinde" not in reply
    reply = await t(then)
    assert ("name" in reply.lower()) if status == "booking" else ("?" in reply)
    assert t.conv.state["rule"]["pending"] in ("message", "booking")


# ---------------------------------------------------------------- "after work", and a session that would end after closing
def test_after_work_is_the_evening_window():
    from agent.when import parse_when

    now = datetime.fromisoformat(MONDAY_9)
    for lang, text in [("en", "ideally Wednesday after work"), ("de", "Mittwoch nach Feierabend")]:
        when = parse_when(text, now, lang)
        assert when is not None and when.day is not None and when.day.day == 25
        assert when.earliest is not None and when.earliest.hour == 17


@pytest.mark.parametrize(
    ("lang", "ask", "closing"),
    [
        ("en", "Can I book a sports therapy session on Wednesday at half five?", "45 minutes"),
        ("de", "Ich hätte gern eine Erstuntersuchung am Donnerstag um 17:30", "60 Minuten"),
    ],
)
async def test_a_time_whose_session_ends_after_closing_says_why_and_offers_one_that_fits(
    engine, lang, ask, closing
):
    t = await talk(engine, "chat", lang)
    reply = await t(ask)
    assert closing in reply and ("6 pm" in reply or "18 Uhr" in reply)
    assert ("5 pm" in reply) or ("17 Uhr" in reply)  # the latest start that still fits


@pytest.mark.parametrize(
    ("lang", "turns", "summary", "not_in"),
    [
        ("de", ["Hallo, hier ist Frau Berger. Ich bin morgen leider krank und kann nicht zur Behandlung kommen. Bitte sagen Sie das Frau Lang.", "0170 1112223"],
         ["Frau Berger", "Ich bin morgen leider krank"], ["Hallo", "für Frau Berger"]),
        ("en", ["Hi, this is Paul Young, I have to cancel my massage on Friday, can you let them know?", "07700 900111"],
         ["Paul Young", "I have to cancel my massage on Friday"], ["Hi,"]),
        ("en", ["I need to leave a message for the therapist.", "Tell her my back is much better and I will skip next week.", "Nora Fox"],
         ["Nora Fox", "my back is much better"], ["I need to"]),
    ],
)  # fmt: skip
async def test_the_caller_is_not_the_recipient_and_greetings_are_no_part_of_a_message(
    engine, lang, turns, summary, not_in
):
    t = await talk(engine, "chat", lang)
    for line in turns:
        await t(line)
    assert t.outcome["status"] == "message_taken"
    assert all(s in t.outcome["summary"] for s in summary), t.outcome["summary"]
    assert not any(s in t.outcome["summary"] for s in not_in), t.outcome["summary"]
