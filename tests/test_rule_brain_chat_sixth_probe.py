"""Failure classes found by a sixth round of chats and inbound calls from outside the suite, en + de:
- an appointment booked and then cancelled in the same conversation ("actually cancel it", "stornieren Sie das
  bitte wieder") stayed booked, and Lisa asked for a name to pass it on;
- the slot offered taken without a plain yes ("den nehme ich", "I'll take it") was offered again;
- "Sie heißt Mia Schulz" was no name; "That's all, bye." was the name "All";
- a surname corrected alone lost the given name; "Nein, Entschuldigung, Schmidt mit dt" ended the call;
- a message announced first ("Ich möchte Frau Berger etwas ausrichten lassen") was taken as the message; a first
  name the message was for was lost; a caller leaving while asked for the name lost the message;
- a day wish told within a story holding an FAQ word ("he gave me a prescription … anything Thursday?") got the
  FAQ answer; a day with a bare hour ("morgen 10?") offered other times;
- "Bin ich hier mit einem Menschen verbunden?" was not answered with what Lisa is."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.conversations import rule_engine, talk

from agent import rule_nlu as nlu
from agent.calendar import InMemoryCalendar
from agent.conversation import Status

CLOCK = "2026-11-23T09:15:00+01:00"  # Monday


async def chat(lang: str, mode: str = "chat", calendar: InMemoryCalendar | None = None):
    return await talk(rule_engine(ManualClock(CLOCK), calendar), mode, lang)


def starts(calendar: InMemoryCalendar) -> list[str]:
    return sorted(b.start.strftime("%Y-%m-%dT%H:%M") for b in calendar._bookings)


# ------------------------------------------------------------------ 1. a booking cancelled in the same conversation

CANCELS = [
    ("en", "Could I get a massage Tuesday at 2pm?", "actually cancel it, sorry, my plans changed", "cancelled"),
    ("en", "Wednesday at 10 please", "Oh no, I just remembered I'm away. Please cancel that appointment.", "cancelled"),
    ("en", "tomorrow at 9", "can you scrap that booking? sorry", "cancelled"),
    ("de", "Ich hätte gern eine Massage am Donnerstag um 11.",
     "Ach nee, stornieren Sie das bitte wieder, mir fällt gerade ein, dass ich da nicht kann.", "storniert"),
    ("de", "morgen um 10", "Können Sie den Termin bitte wieder absagen? Ich habe mich vertan.", "storniert"),
]  # fmt: skip


@pytest.mark.parametrize("mode", ["chat", "inbound"])
@pytest.mark.parametrize(("lang", "wish", "cancel", "said"), CANCELS)
async def test_an_appointment_cancelled_in_the_same_conversation_is_released(lang, wish, cancel, said, mode):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, mode, calendar)
    await talk_(wish)
    await talk_("Nina Park")
    assert talk_.status is Status.BOOKED and starts(calendar)
    reply = await talk_(cancel)
    assert said in reply and starts(calendar) == []
    assert talk_.status is Status.ANSWERED and talk_.outcome["appointment"] is None
    assert "name" not in reply.lower()
    reply = await talk_("no, that's all" if lang == "en" else "Nein danke, das war alles.")
    assert talk_.conv.end_requested and starts(calendar) == []


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("en", "How do I cancel an appointment if something comes up?"),
        ("de", "Wie kann ich einen Termin absagen?"),
    ],
)
async def test_asking_how_to_cancel_after_booking_keeps_the_booking(lang, question):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, "chat", calendar)
    await talk_("Wednesday at 10" if lang == "en" else "Mittwoch um 10")
    await talk_("Nina Park")
    reply = await talk_(question)
    assert "twenty four hours" in reply or "vierundzwanzig Stunden" in reply  # the policy
    assert "name" not in reply.lower()
    assert talk_.status is Status.BOOKED and starts(calendar) == ["2026-11-25T10:00"]


# ------------------------------------------------------------------ 2. the slot offered taken without a yes


@pytest.mark.parametrize(
    ("lang", "take"),
    [("de", "den nehme ich"), ("de", "Ok, ich nehme ihn."), ("de", "Nehme ich!"), ("en", "I'll take it"),
     ("en", "great, I'll take that one"), ("en", "that one please")],
)  # fmt: skip
async def test_the_next_free_slot_taken_without_a_yes_is_booked(lang, take):
    talk_ = await chat(lang)
    reply = await talk_(
        "Wann ist der nächste freie Termin?" if lang == "de" else "When is your next free slot?"
    )
    assert "9:30" in reply
    reply = await talk_(take)
    assert "9:30" not in reply or "?" in reply
    reply = await talk_("Jonas Brandt")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == "2026-11-23T09:30"


@pytest.mark.parametrize(
    ("lang", "ask", "take"),
    [
        ("de", "Was ist der späteste Termin am Donnerstag?", "Den nehme ich."),
        ("en", "What's your latest appointment on Thursday?", "I'll take it."),
        ("de", "Wann ist am Donnerstag Ihr letzter Termin?", "ja, gern"),
    ],
)
async def test_the_latest_slot_of_a_day_asked_for_is_the_one_taken(lang, ask, take):
    talk_ = await chat(lang, "inbound")
    await talk_(ask)
    await talk_(take)
    await talk_("Olga Petrov")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == "2026-11-26T17:30"


# ------------------------------------------------------------------ 3. names


@pytest.mark.parametrize(
    ("text", "name"),
    [("Sie heißt Mia Schulz", "Mia Schulz"), ("Er heißt Leon Wagner.", "Leon Wagner"),
     ("Ihr Name ist Emma Roth", "Emma Roth"), ("His name is Jonas Weber", "Jonas Weber"),
     ("That's all, bye.", None), ("Nein, das ist alles.", None), ("Wie heißt sie?", None)],
)  # fmt: skip
def test_names_said_of_someone_else_and_no_names(text, name):
    assert nlu.extract_name(text, expecting=True) == name


async def test_a_daughter_named_in_german_is_booked_under_her_name():
    talk_ = await chat("de")
    await talk_("Hallo, ich möchte meine Tochter für Physio anmelden, geht Freitag um 14 Uhr?")
    reply = await talk_("Sie heißt Mia Schulz")
    assert talk_.status is Status.BOOKED and "Mia Schulz" in reply


@pytest.mark.parametrize(
    ("text", "booked", "fixed"),
    [
        ("No sorry, it's Maier, M A I E R.", "Katrin Meyer", "Katrin Maier"),
        ("Nein, Entschuldigung, Schmidt mit d t, nicht mit zwei t.", "Jürgen Schmitt", "Jürgen Schmidt"),
        ("sorry, Smith with an i", "John Smyth", "John Smith"),
        ("sorry typo, it's John Smith", "Jon Smyth", "John Smith"),
        ("nein, Schneider ist richtig", "Anna Schneider", None),
        ("Nein danke", "Anna Schneider", None),
        ("no that's all, thanks", "Anna Schneider", None),
    ],
)
def test_a_surname_corrected_alone_keeps_the_given_name(text, booked, fixed):
    assert nlu.name_correction(text, booked) == fixed


@pytest.mark.parametrize(
    ("lang", "mode", "wish", "name", "fix", "fixed"),
    [
        ("de", "inbound", "Einen Termin am Montag um 14 Uhr bitte.", "Jürgen Schmitt",
         "Nein, Entschuldigung, Schmidt mit d t, nicht mit zwei t.", "Jürgen Schmidt"),
        ("en", "inbound", "Hi, can I book a session on Friday at nine?", "Katrin Meyer",
         "No sorry, it's Maier, M A I E R.", "Katrin Maier"),
    ],
)  # fmt: skip
async def test_a_corrected_surname_is_noted_and_the_call_goes_on(lang, mode, wish, name, fix, fixed):
    talk_ = await chat(lang, mode)
    await talk_(wish)
    await talk_(name)
    reply = await talk_(fix)
    assert fixed in reply and not talk_.conv.end_requested
    assert fixed in talk_.outcome["summary"] and talk_.status is Status.BOOKED


# ------------------------------------------------------------------ 4. messages


@pytest.mark.parametrize(
    ("text", "to"),
    [("Hi, I'd like to leave a message for Markus, please.", "Markus"),
     ("Could you pass a message to Anna? Tell her I'll be late.", "Anna"),
     ("Ich hätte eine Nachricht für Jonas.", "Jonas"),
     ("Können Sie Frau Lang ausrichten, dass ich später komme?", "Frau Lang"),
     ("Can I leave a message for the team?", None)],
)  # fmt: skip
def test_whom_a_message_is_for(text, to):
    assert nlu.message_recipient(text) == to


@pytest.mark.parametrize(
    "text",
    ["Ich möchte Frau Berger etwas ausrichten lassen.", "I'd like to leave a message for Markus, please.",
     "Ich wollte Herrn Krause etwas ausrichten."],
)  # fmt: skip
def test_a_message_announced_is_no_message_yet(text):
    assert nlu.message_body(text) == ""


async def test_a_message_announced_in_german_is_asked_for_and_kept_when_the_caller_leaves():
    talk_ = await chat("de", "inbound")
    reply = await talk_("Ich möchte Frau Berger etwas ausrichten lassen.")
    assert "Was darf ich ausrichten" in reply or "ausrichten?" in reply
    await talk_("Sagen Sie ihr bitte, dass Herr Vogel den Termin am Donnerstag nicht schafft.")
    await talk_("Danke, tschüss.")
    assert talk_.conv.end_requested and talk_.status is Status.MESSAGE_TAKEN
    summary = talk_.outcome["summary"]
    assert "Herr Vogel den Termin am Donnerstag nicht schafft" in summary and "Frau Berger" in summary


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_message_for_a_first_name_keeps_the_name_said_in_it(lang):
    talk_ = await chat(lang, "inbound")
    if lang == "en":
        await talk_("Hi, I'd like to leave a message for Markus, please.")
        reply = await talk_(
            "Tell him Sarah Klein called, my knee is much better, could he call me on 0171 2345678."
        )
    else:
        await talk_("Ich hätte eine Nachricht für Markus.")
        reply = await talk_(
            "Sagen Sie ihm, Sarah Klein hat angerufen, dem Knie geht es besser. 0171 2345678."
        )
    assert "Sarah Klein" in reply and "Markus" in reply
    await talk_("That's all, bye." if lang == "en" else "Das war alles, tschüss.")
    assert talk_.conv.end_requested and talk_.status is Status.MESSAGE_TAKEN
    assert "Sarah Klein" in talk_.outcome["summary"] and " All" not in talk_.outcome["summary"]


# ------------------------------------------------------------------ 5. wishes told with a story, bare hours


@pytest.mark.parametrize(
    ("lang", "text", "day"),
    [
        ("en", "Yeah hi, so I hurt my back last week lifting boxes, my doctor gave me a prescription, and I was "
               "wondering if you have anything maybe Thursday, ideally late morning.", "Thursday"),
        ("de", "Guten Tag, mein Orthopäde hat mir ein Rezept für sechs Behandlungen gegeben, und ich wollte "
               "schauen, ob Sie am Mittwoch vormittags etwas frei haben.", "Mittwoch"),
    ],
)  # fmt: skip
async def test_a_day_wish_told_with_a_story_is_a_booking_not_an_faq(lang, text, day):
    talk_ = await chat(lang, "inbound")
    reply = await talk_(text)
    assert day in reply and "insurance" not in reply and "Kassen" not in reply


@pytest.mark.parametrize(
    ("lang", "text", "start"),
    [("de", "morgen 10?", "2026-11-24T10:00"), ("en", "tomorrow 9?", "2026-11-24T09:00"),
     ("de", "Freitag um 11", "2026-11-27T11:00"), ("en", "wed 4", "2026-11-25T16:00")],
)  # fmt: skip
async def test_a_day_with_a_bare_hour_is_that_hour(lang, text, start):
    talk_ = await chat(lang)
    await talk_(text)
    await talk_("Ali Demir")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == start


# ------------------------------------------------------------------ 6. what Lisa is, asked in other words


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [("de", "Bin ich hier mit einem Menschen verbunden?", "KI"), ("de", "Rede ich gerade mit einem Bot?", "KI"),
     ("en", "Am I really talking to a human?", "AI")],
)  # fmt: skip
async def test_asked_whether_a_human_answers_lisa_says_what_she_is(lang, text, said):
    talk_ = await chat(lang)
    reply = await talk_(text)
    assert said in reply


# ------------------------------------------------------------------ 7. a bad line checked


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [("en", "Hello? Can you hear me?", "I'm here"), ("en", "hello? hello? are you there?", "I'm here"),
     ("de", "Hallo? Hören Sie mich?", "ich bin da"), ("de", "Sind Sie noch da?", "ich bin da")],
)  # fmt: skip
async def test_a_bad_line_checked_is_answered_and_the_question_kept(lang, text, said):
    talk_ = await chat(lang, "inbound")
    reply = await talk_(text)
    assert said in reply and "didn't quite get" not in reply and "nicht ganz verstanden" not in reply
    await talk_("Tuesday at 10" if lang == "en" else "Dienstag um 10")
    reply = await talk_(text)
    assert said in reply and ("May I have your name" in reply or "Auf welchen Namen" in reply)
    await talk_("Chris Evans")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == "2026-11-24T10:00"


# ------------------------------------------------------------------ 8. an hours question with a time wish


@pytest.mark.parametrize(
    ("lang", "text", "start", "hours"),
    [("en", "Are you open on Friday? Could I get a massage at 10 that day?", "2026-11-27T10:00", "8 am to 6 pm"),
     ("de", "Haben Sie am Freitag offen? Ginge da 10 Uhr?", "2026-11-27T10:00", "von 8 bis 18 Uhr"),
     ("en", "What are your hours on Thursday? Can I come at 4pm?", "2026-11-26T16:00", "8 am to 6 pm")],
)  # fmt: skip
async def test_an_hours_question_with_a_time_wish_is_answered_and_booked(lang, text, start, hours):
    talk_ = await chat(lang)
    reply = await talk_(text)
    assert hours in reply
    await talk_("Sam Lee")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == start


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "What time do you close on Friday? I work until 5."),
        ("en", "Hi, what are your opening hours on Friday?"),
        ("de", "Wie lange haben Sie am Freitag offen?"),
        ("de", "Hallo! Haben Sie am Montag geöffnet?"),
    ],
)
async def test_an_hours_question_alone_books_nothing(lang, text):
    talk_ = await chat(lang)
    reply = await talk_(text)
    assert "name" not in reply.lower() and "Which time" not in reply and "Was passt" not in reply


# ------------------------------------------------------------------ 9. two appointments asked for at once


@pytest.mark.parametrize(
    ("lang", "mode", "text", "second"),
    [("en", "chat", "I need two sessions please: Tuesday at 9 and Thursday at 9.", "Thursday, November 26 at 9"),
     ("en", "inbound", "Can I book two massages, Wednesday at 10 and Friday at 11?", "Friday, November 27 at 11"),
     ("de", "chat", "Ich bräuchte zwei Termine, einmal Dienstag um 9 und einmal Donnerstag um 9.",
      "Donnerstag, 26. November um 9"),
     ("de", "inbound", "Ich hätte gern zwei Behandlungen: Montag um 14 Uhr und Mittwoch um 14 Uhr.",
      "Mittwoch, 2. Dezember um 14")],
)  # fmt: skip
async def test_two_appointments_asked_at_once_are_both_booked(lang, mode, text, second):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, mode, calendar)
    await talk_(text)
    reply = await talk_("Paul Schmidt")  # the second under the same name at once, not asked for again
    assert talk_.status is Status.BOOKED and second in reply
    assert "second appointment is booked too" in reply or "zweiter Termin ist auch eingetragen" in reply
    assert "name" not in reply.split(second)[-1].lower(), reply
    assert len(starts(calendar)) == 2 and talk_.outcome["appointment"] == starts(calendar)[0]
    assert talk_.outcome["summary"].count("Paul Schmidt") == 2


@pytest.mark.parametrize(
    ("lang", "text", "second"),
    [("en", "Two sessions please, Tuesday at 9 and Thursday at 9, one for me and one for my wife",
      "Thursday, November 26 at 9"),
     ("de", "Zwei Termine bitte, Dienstag um 9 und Donnerstag um 9, einen für mich und einen für meine Frau",
      "Donnerstag, 26. November um 9")],
)  # fmt: skip
async def test_two_appointments_for_two_people_ask_the_second_name(lang, text, second):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, "chat", calendar)
    await talk_(text)
    reply = await talk_("Paul Schmidt")
    assert second in reply and ("name" in reply.lower() or "Namen" in reply), reply
    await talk_("Anna Schmidt")
    assert len(starts(calendar)) == 2 and "Anna Schmidt" in talk_.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Can I come Tuesday at 9 and bring my prescription?"),
        ("de", "Dienstag um 9 und Donnerstag um 9?"),
    ],
)
async def test_one_appointment_with_an_and_stays_one(lang, text):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, "chat", calendar)
    await talk_(text)
    reply = await talk_("Paul Schmidt")
    assert "second appointment" not in reply and "zweiten Termin" not in reply
    assert len(starts(calendar)) <= 1


@pytest.mark.parametrize(
    ("lang", "ask"),
    [("en", "Both booked then?"), ("en", "is everything booked now?"), ("de", "Sind beide eingetragen?"),
     ("de", "Ist das jetzt alles gebucht?")],
)  # fmt: skip
async def test_asked_about_both_after_booking_both_both_are_said(lang, ask):
    talk_ = await chat(lang)
    await talk_(
        "I need two sessions please: Tuesday at 9 and Thursday at 9."
        if lang == "en"
        else "Ich bräuchte zwei Termine, Dienstag um 9 und Donnerstag um 9."
    )
    await talk_("Paul Schmidt")
    reply = await talk_(ask)
    assert reply.startswith(("Yes, both are booked", "Ja, beide sind eingetragen")), reply
    assert "26" in reply and "24" in reply, reply


@pytest.mark.parametrize(("lang", "ask"), [("en", "Both booked then?"), ("de", "Sind beide eingetragen?")])
async def test_asked_about_both_while_the_second_needs_a_name_the_first_is_said_booked(lang, ask):
    talk_ = await chat(lang)
    await talk_(
        "Two sessions please, Tuesday at 9 and Thursday at 9, one for me and one for my wife"
        if lang == "en"
        else "Zwei Termine bitte, Dienstag um 9 und Donnerstag um 9, einen für mich und einen für meine Frau"
    )
    await talk_("Paul Schmidt")
    reply = await talk_(ask)
    assert "Nothing is booked" not in reply and "Eingetragen ist noch nichts" not in reply
    assert "first appointment is booked" in reply or "erste Termin ist eingetragen" in reply


# ------------------------------------------------------------------ 10. an upset caller, "haben Sie auf?"


@pytest.mark.parametrize(
    ("lang", "text", "said"),
    [("de", "Ihr seid doch alle unfähig, verdammt noch mal!", "tut mir leid"),
     ("de", "So ein Mist, bei Ihnen geht ja nie jemand ran!", "tut mir leid"),
     ("en", "this is bloody useless", "sorry you're frustrated"),
     ("en", "You people are incompetent.", "sorry you're frustrated")],
)  # fmt: skip
async def test_an_upset_caller_is_met_with_sorry_and_a_person(lang, text, said):
    talk_ = await chat(lang, "inbound")
    reply = await talk_(text)
    assert said in reply and "didn't quite get" not in reply and "nicht ganz verstanden" not in reply
    await talk_("ja" if lang == "de" else "yes")
    assert talk_.status is Status.TRANSFERRED


async def test_an_upset_caller_who_then_books_is_booked():
    talk_ = await chat("de")
    await talk_("So ein Mist, bei Ihnen geht ja nie jemand ran!")
    await talk_("Nein, ich will einen Termin am Freitag um 10")
    await talk_("Dieter Krause")
    assert talk_.status is Status.BOOKED and talk_.outcome["appointment"] == "2026-11-27T10:00"


@pytest.mark.parametrize("text", ["Haben Sie am Montag auf?", "Hat die Praxis morgen auf?"])
async def test_haben_sie_auf_is_an_hours_question(text):
    talk_ = await chat("de")
    reply = await talk_(text)
    assert "8 bis 18 Uhr" in reply and "Was passt" not in reply


@pytest.mark.parametrize(
    ("lang", "first", "corrected", "name"),
    [("en", "Jon Smyth", "sorry typo, it's John Smith", "John Smith"),
     ("en", "Ana Berg", "the name should be Anna Berg", "Anna Berg"),
     ("de", "Jonas Schmit", "Korrektur: Jonas Schmidt", "Jonas Schmidt"),
     ("de", "Jürgen Schmitt", "Nein, Entschuldigung, Schmidt mit d t", "Jürgen Schmidt")],
)  # fmt: skip
async def test_a_name_corrected_after_the_booking_renames_the_booking(lang, first, corrected, name):
    calendar = InMemoryCalendar()
    talk_ = await chat(lang, "chat", calendar)
    await talk_("tomorrow at 10" if lang == "en" else "morgen um 10")
    await talk_(first)
    reply = await talk_(corrected)
    assert name in reply, reply
    assert [b.name for b in calendar._bookings] == [name] and starts(calendar) == ["2026-11-24T10:00"]
    summary = talk_.outcome["summary"]
    assert talk_.status is Status.BOOKED and summary.startswith(
        ("Appointment booked for " + name, "Termin gebucht für " + name)
    )
    assert first in summary  # what it was booked as, for the team


@pytest.mark.parametrize(
    ("lang", "asked", "said", "then", "booked"),
    [("de", "Hallo, ich... sorry, can we do this in English? My German is not so good.",
      "we can continue in English", "Thursday at 10 am", "Thursday, November 26 at 10 am is free"),
     ("de", "Sprechen Sie auch Englisch?", "we can continue in English", "tomorrow at 9",
      "Tuesday, November 24 at 9 am is free"),
     ("en", "Hi, do you speak German?", "auf Deutsch weitermachen", "Donnerstag um 10",
      "Donnerstag, 26. November um 10 Uhr ist frei"),
     ("en", "Auf Deutsch bitte", "auf Deutsch weitermachen", "morgen um 9", "Dienstag, 24. November um 9 Uhr")],
)  # fmt: skip
async def test_a_chat_goes_on_in_the_language_asked_for(lang, asked, said, then, booked):
    talk_ = await chat(lang)
    assert said in await talk_(asked)
    assert booked in await talk_(then)
    await talk_("Lars Nilsson")
    assert talk_.status is Status.BOOKED


async def test_a_wish_asked_with_the_language_is_answered_in_it():
    talk_ = await chat("de")
    reply = await talk_("Sprechen Sie auch Englisch? Ich brauche einen Termin morgen um 10.")
    assert reply.startswith("Of course, in English.") and "Tuesday, November 24 at 10 am is free" in reply


@pytest.mark.parametrize(("lang", "text"), [("en", "Do you speak English?"), ("de", "Ich spreche Deutsch")])
async def test_the_language_spoken_already_changes_nothing(lang, text):
    talk_ = await chat(lang)
    reply = await talk_(text)
    assert "continue in" not in reply and "weitermachen" not in reply


async def test_a_phone_call_keeps_its_language():
    talk_ = await chat("en", "inbound")
    reply = await talk_("Do you speak German?")
    assert "Deutsch" not in reply
