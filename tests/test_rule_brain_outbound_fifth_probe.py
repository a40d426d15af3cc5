"""Outbound failure classes from a fifth probe written outside the suite, en + de: a wrong read-back of the
agreed slot is corrected and the business's correction books the agreed slot; a slot Lisa turned down is
never booked when the business names another day, and a bare goodbye after it ends truthfully unbooked; a
condition the business will not book without undoes the yes; a drop-off time is the appointment and a terse
"Done." confirms; a slot taken back with a promise to call is waiting for that call; "call back tomorrow" is
tomorrow; questions about the call itself (who, say again, read back, shall I book) and those the request
answers (the car, a first visit, what is wrong, the child's name) get real answers; "no new patients" ends the
call with the reason; a business name is not a greeting word."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_plain_answers import HELLO, wish

from agent.conversation import Status

TUESDAY = {"en": "next week, Tuesday, late morning", "de": "nächste Woche Dienstag vormittag"}
AGREED = "2026-12-01T11:20"


async def _agreed(lang: str) -> Call:
    """A call where Lisa said yes to Tuesday, December 1 at 11:20."""
    call = Call(lang, wish(lang, TUESDAY[lang]))
    await call(HELLO[lang])
    await call(
        "Tuesday the first at 11:20 is free." if lang == "en" else "Dienstag, den 1., um 11:20 ist frei."
    )
    return call


# ------------------------------------------------------------------ C1d: a wrong read-back of the agreed slot
READ_BACK_WRONG = [
    ("en", "So that's Tuesday at 11:40, correct?", "11:40"),
    ("en", "Great, so I've got him down for Wednesday the second at 11:20, is that right?", "Wednesday"),
    ("en", "Okay, so Tuesday at 11:50?", "11:50"),
    ("de", "Also Dienstag um 11:40, richtig?", "11:40"),
    ("de", "Gut, dann trage ich ihn für Mittwoch um 11:20 ein, stimmt das?", "Mittwoch"),
]
CORRECTED = [
    ("en", "Ah, 11:20, sorry. Got it. Bye!"),
    ("en", "Oh sorry, my mistake, Tuesday. Bye!"),
    ("en", "Oh, right, yes. Bye."),
    ("de", "Ach, um 11:20, klar. Tschüss."),
    ("de", "Ach so, Dienstag, Entschuldigung. Tschüss."),
]


@pytest.mark.parametrize(("lang", "read_back", "heard"), READ_BACK_WRONG)
async def test_a_wrong_read_back_is_corrected_not_accepted(lang, read_back, heard):
    call = await _agreed(lang)
    reply = await call(read_back)
    assert ("Sorry, no" if lang == "en" else "Nein, entschuldigen") in reply
    assert "11:20" in reply and heard in reply
    assert "would be great" not in reply and "wäre prima" not in reply
    assert call.status is Status.OPEN


@pytest.mark.parametrize(("lang", "answer"), CORRECTED)
async def test_the_business_correcting_its_read_back_books_the_agreed_slot(lang, answer):
    call = await _agreed(lang)
    await call("So that's Wednesday at 11:20, right?" if lang == "en" else "Also Mittwoch um 11:20, richtig?")
    reply = await call(answer)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == AGREED
    assert "11:20" in reply and call.conv.end_requested


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_goodbye_after_the_correction_books_nothing(lang):
    call = await _agreed(lang)
    await call("So that's Tuesday at 11:40, correct?" if lang == "en" else "Also Dienstag um 11:40, richtig?")
    await call("Bye." if lang == "en" else "Tschüss.")
    assert call.status is Status.FAILED and call.outcome["appointment"] is None


# ------------------------------------------------------------------ C1a: a slot Lisa turned down
async def _declined(lang: str) -> Call:
    """A call where Lisa turned down Wednesday, December 2 at 11:20 (the wish is Tuesday)."""
    call = Call(lang, wish(lang, TUESDAY[lang]))
    await call(HELLO[lang])
    reply = await call("Wednesday at 11:20 is free." if lang == "en" else "Mittwoch um 11:20 ist frei.")
    assert "?" in reply
    return call


OTHER_DAY = [
    ("en", "Oh sorry, Tuesday then. Bye!"),
    ("en", "Okay, booked for Tuesday. Bye!"),
    ("en", "My mistake, Tuesday the first. Bye."),
    ("de", "Ach nein, Dienstag. Tschüss!"),
    ("de", "Ach so, dann Dienstag. Wiederhören."),
]


@pytest.mark.parametrize(("lang", "said"), OTHER_DAY)
async def test_another_day_named_after_a_turn_down_is_that_day_never_the_turned_down_slot(lang, said):
    call = await _declined(lang)
    reply = await call(said)
    assert call.outcome["appointment"] != "2026-12-02T11:20"
    assert "Wednesday" not in reply and "Mittwoch" not in reply
    assert call.status is Status.BOOKED and call.outcome["appointment"] == AGREED


@pytest.mark.parametrize(
    ("lang", "bye"), [("en", "Great, bye."), ("en", "Okay then, goodbye."), ("de", "Gut, tschüss.")]
)
async def test_a_bare_goodbye_after_a_turn_down_says_nothing_is_booked(lang, bye):
    call = await _declined(lang)
    reply = await call(bye)
    assert call.status is Status.FAILED and call.conv.end_requested
    assert ("nothing is booked" if lang == "en" else "nichts eingetragen") in reply
    assert ("outside the wished time" if lang == "en" else "außerhalb der Wunschzeit") in call.outcome[
        "summary"
    ]


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Alright, Wednesday it is then, bye."), ("de", "Gut, dann eben Mittwoch, tschüss.")],
)
async def test_the_turned_down_day_put_down_after_all_is_booked_and_flagged(lang, said):
    call = await _declined(lang)
    await call(said)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-12-02T11:20"
    assert ("outside the wished time" if lang == "en" else "außerhalb der Wunschzeit") in call.outcome[
        "summary"
    ]


# ------------------------------------------------------------------ C1b: a condition after Lisa's yes
CONDITION_REFUSED = [
    ("en", "Sorry, without a card I can't hold it. He'll have to ring us himself. Bye.", "card"),
    ("en", "Oh wait, does he have a referral? Without a referral I can't book him in. Bye.", "referral"),
    ("en", "We need a deposit, otherwise we can't keep the slot. He should call us once he has paid.", "deposit"),
    ("de", "Wir brauchen eine Anzahlung, sonst kann ich den Termin nicht halten. Er soll sich selbst melden.",
     "Anzahlung"),
    ("de", "Ohne Überweisung kann ich ihn leider nicht eintragen. Tschüss.", "Überweisung"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said", "why"), CONDITION_REFUSED)
async def test_a_condition_the_business_will_not_book_without_undoes_the_yes(lang, said, why):
    call = await _agreed(lang)
    reply = await call(said)
    assert call.status is Status.FAILED and call.outcome["appointment"] is None
    assert call.conv.end_requested and why in call.outcome["summary"]
    assert "perfect" not in reply and "prima" not in reply
    assert ("nothing is booked" if lang == "en" else "nichts eingetragen") in reply


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_condition_after_the_booking_undoes_it(lang):
    call = await _agreed(lang)
    await call("Okay, I've booked him in for that." if lang == "en" else "Gut, ich habe ihn so eingetragen.")
    assert call.status is Status.BOOKED
    await call(
        "Oh, without a referral I can't book him in, sorry. Bye."
        if lang == "en"
        else "Ach, ohne Überweisung kann ich ihn nicht eintragen. Tschüss."
    )
    assert call.status is Status.FAILED and call.outcome["appointment"] is None


@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "We need a credit card to hold it. Can you give me the card details?"),
     ("de", "Können Sie mir die Kreditkarte durchgeben?")],
)  # fmt: skip
async def test_payment_details_are_never_given(lang, asked):
    call = await _agreed(lang)
    reply = await call(asked)
    assert ("can't give payment details" if lang == "en" else "Zahlungsdaten") in reply
    assert "bring" not in reply and "mit." not in reply


# ------------------------------------------------------------------ C1c: a booking Lisa did not record
@pytest.mark.parametrize(
    ("lang", "offer", "bye"),
    [("en", "Bring it in Monday at eight, you can pick it up after five. Okay?", "Right, done. Bye."),
     ("de", "Montag um acht bringen, ab 17 Uhr abholen. Passt das?", "Gut, steht drin. Tschüss."),
     ("de", "Montag um acht vorbeibringen, um vier ist er fertig.", "Gut, bis Montag. Tschüss.")],
)  # fmt: skip
async def test_the_drop_off_time_is_the_appointment_and_the_pick_up_a_note(lang, offer, bye):
    call = Call(lang, wish(lang, "next week" if lang == "en" else "nächste Woche"))
    await call(HELLO[lang])
    await call(offer)
    await call(bye)
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-30T08:00"


@pytest.mark.parametrize(
    ("lang", "offer", "slot"),
    [("en", "Tuesday eight.", "2026-12-01T08:00"), ("en", "Monday no. Tuesday nine.", "2026-12-01T09:00"),
     ("de", "Dienstag acht.", "2026-12-01T08:00")],
)  # fmt: skip
async def test_a_terse_offer_and_a_terse_done_book_and_close(lang, offer, slot):
    call = Call(
        lang, wish(lang, "next week, Tuesday morning" if lang == "en" else "nächste Woche Dienstag vormittag")
    )
    await call(HELLO[lang])
    assert slot[11:13].lstrip("0") in await call(offer)
    reply = await call("Done." if lang == "en" else "Eingetragen.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == slot
    assert (
        call.conv.end_requested and "Max Mustermann" in reply
    )  # the name, never asked, goes with the goodbye


# ------------------------------------------------------------------ C1e: taken back, the business calls back
@pytest.mark.parametrize(
    ("lang", "taken_back"),
    [("en", "Oh, my colleague just gave that one away, sorry. I'll call you back as soon as something opens up."),
     ("de", "Oh, den hat meine Kollegin eben schon vergeben. Ich rufe Sie an, sobald etwas frei wird."),
     ("de", "Der ist leider schon weg. Wir melden uns, sobald etwas frei wird. Unter welcher Nummer?")],
)  # fmt: skip
async def test_a_slot_taken_back_with_a_promise_to_call_waits_for_that_call(lang, taken_back):
    call = await _agreed(lang)
    reply = await call(taken_back)
    assert "?" not in reply
    await call("Bye." if lang == "en" else "Tschüss.")
    assert call.status is Status.WAITING_FOR_CALLBACK and call.outcome["appointment"] is None


# ------------------------------------------------------------------ C3: call back tomorrow
@pytest.mark.parametrize(
    ("lang", "said", "when"),
    [("en", "Our booking system is down today. Can you call back tomorrow?", "tomorrow"),
     ("en", "It's chaos here today, could you ring back on Friday?", "Friday"),
     ("de", "Unser System ist heute ausgefallen. Können Sie morgen nochmal anrufen?", "morgen")],
)  # fmt: skip
async def test_call_back_is_when_the_business_asks_for_not_the_day_it_mentions(lang, said, when):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(said)
    assert when in reply and ("today" not in reply and "heute" not in reply)
    assert call.status is Status.WAITING_FOR_CALLBACK and when in call.outcome["summary"]


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_call_back_after_a_hold_gets_no_introduction(lang):
    call = Call(lang)
    await call("Miller dental, can you hold a sec?" if lang == "en" else "Praxis Müller, einen Moment bitte.")
    reply = await call(
        "Sorry, our system is down. Can you call back tomorrow?"
        if lang == "en"
        else "Entschuldigung, das System ist ausgefallen. Können Sie morgen nochmal anrufen?"
    )
    assert "Max Mustermann" not in reply and ("tomorrow" in reply or "morgen" in reply)
    assert call.status is Status.WAITING_FOR_CALLBACK


# ------------------------------------------------------------------ C4: questions about the call itself
@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "Sorry, you're breaking up, can you say that again?"), ("en", "Sorry, what was that?"),
     ("en", "Could you repeat that, please?"), ("de", "Wie bitte? Können Sie das nochmal wiederholen?"),
     ("de", "Das habe ich nicht verstanden.")],
)  # fmt: skip
async def test_asked_to_say_it_again_lisa_says_it_again(lang, asked):
    call = Call(lang)
    intro = await call(HELLO[lang])
    reply = await call(asked)
    assert intro in reply and "don't know" not in reply and "weiß ich leider nicht" not in reply


@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "Sorry, who's calling? And what company are you from?"), ("en", "Who am I speaking to?"),
     ("de", "Entschuldigung, wer spricht da?"), ("de", "Von welcher Firma sind Sie?")],
)  # fmt: skip
async def test_asked_who_is_calling_lisa_says_who_she_is(lang, asked):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(asked)
    assert "Lisa" in reply and "Max Mustermann" in reply and "?" in reply  # and the request goes on
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply


@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "Can you read the date and time back to me, please?"), ("en", "Which one are you taking then?"),
     ("de", "Können Sie mir den Termin nochmal bestätigen?"),
     ("de", "Können Sie mir nochmal sagen, welchen Sie jetzt nehmen?")],
)  # fmt: skip
async def test_asked_to_read_the_slot_back_lisa_reads_it_back(lang, asked):
    call = await _agreed(lang)
    reply = await call(asked)
    assert "11:20" in reply and ("December 1" in reply or "1. Dezember" in reply)
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply


@pytest.mark.parametrize(("lang", "asked"), [("en", "Hello? Anyone there?"), ("de", "Hallo? Ist da jemand?")])
async def test_anyone_there_is_answered_and_the_request_goes_on(lang, asked):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(asked)
    assert ("I'm still here" in reply or "noch da" in reply) and "?" in reply


@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "Shall I put him down for that?"), ("en", "Should I book it?"), ("de", "Soll ich den eintragen?"),
     ("de", "Darf ich ihn so eintragen?")],
)  # fmt: skip
async def test_shall_i_book_it_gets_a_clear_yes_and_a_goodbye_books(lang, asked):
    call = await _agreed(lang)
    reply = await call(asked)
    assert ("Yes, please" in reply or "Ja, bitte" in reply) and "11:20" in reply
    await call("Okay. Bye." if lang == "en" else "Gut. Tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == AGREED


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_shall_i_book_after_a_turn_down_takes_the_slot_after_all(lang):
    call = await _declined(lang)
    await call("Shall I put him down for that?" if lang == "en" else "Soll ich den eintragen?")
    await call("Okay. Bye." if lang == "en" else "Gut. Tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-12-02T11:20"


# ------------------------------------------------------------------ C4/C5: what the request answers
BRIEF = [
    ("en", "Annual service for a 2018 VW Golf, registration B-KL 4821", "What car is it?", "VW Golf"),
    ("en", "Annual service for a 2018 VW Golf, registration B-KL 4821", "And the registration?", "B-KL 4821"),
    ("de", "Inspektion für einen VW Golf, Kennzeichen B-KL 4821", "Was für ein Auto ist es denn?", "VW Golf"),
    ("de", "Inspektion für einen VW Golf, Kennzeichen B-KL 4821", "Und das Kennzeichen?", "B-KL 4821"),
    ("en", "First visit. Toothache in a lower molar for a week", "Has he been with us before?", "first visit"),
    ("en", "First visit. Toothache in a lower molar for a week", "And what's the problem?", "Toothache"),
    ("de", "Erstuntersuchung beim Augenarzt", "Waren Sie schon mal bei uns?", "erste Besuch"),
    ("de", "Knieschmerzen seit dem Joggen", "Was fehlt ihm denn?", "Knieschmerzen"),
    ("en", "Routine check-up for my son Leo", "What's the child's name?", "Leo"),
    ("de", "Vorsorge U9 für meinen Sohn Leo", "Wie heißt das Kind?", "Leo"),
    ("de", "Impfung für unseren Hund Bruno", "Wie heißt denn der Hund?", "Bruno"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "description", "asked", "answer"), BRIEF)
async def test_what_the_request_tells_is_told(lang, description, asked, answer):
    call = Call(lang, wish(lang, "next week" if lang == "en" else "nächste Woche", description))
    await call(HELLO[lang])
    reply = await call(asked)
    assert answer in reply
    assert (
        "don't know" not in reply and "weiß ich leider nicht" not in reply and "das glaube ich" not in reply
    )
    assert "The name is Max" not in reply and "Der Name ist Max" not in reply


async def test_the_childs_name_and_date_of_birth_is_the_childs_name_and_no_birth_date():
    call = Call("en", wish("en", "next week", "Routine check-up for my son Leo"))
    await call(HELLO["en"])
    reply = await call("What's the child's name and date of birth?")
    assert "Leo" in reply and "can't give that out" in reply and "Max Mustermann" not in reply.split(";")[0]


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "She needs to be fasting, so no food after midnight, okay?"),
     ("de", "Er muss nüchtern kommen, also nichts essen ab Mitternacht, ja?")],
)  # fmt: skip
async def test_a_condition_with_a_tag_question_is_noted_not_unknown(lang, said):
    call = await _agreed(lang)
    reply = await call(said)
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply
    assert "Noted" in reply or "Notiert" in reply


# ------------------------------------------------------------------ C6: the business takes no new patients
NOT_ACCEPTING = [
    ("en", "I'm sorry, we're not taking on new patients at the moment.", "new patients"),
    ("en", "Is she privately insured? We only see private patients.", "private"),
    ("en", "Sorry, our list is closed until spring.", "list is closed"),
    ("de", "Tut mir leid, wir nehmen zurzeit keine neuen Patienten auf.", "neuen Patienten"),
    ("de", "Wir behandeln nur Privatpatienten.", "Privatpatienten"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "said", "why"), NOT_ACCEPTING)
async def test_no_new_patients_ends_the_call_with_the_reason(lang, said, why):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(said)
    assert call.status is Status.FAILED and call.conv.end_requested and why in call.outcome["summary"]
    assert "Max Mustermann" in reply and "?" not in reply and "bring" not in reply


# ------------------------------------------------------------------ C7 + C8: closings and keeping to the yes
@pytest.mark.parametrize("lang", ["en", "de"])
async def test_noted_and_bye_after_a_message_is_a_plain_goodbye(lang):
    call = Call(lang)
    await call(HELLO[lang])
    await call(
        "She's not in, she'll call you back."
        if lang == "en"
        else "Die Chefin ist nicht da, sie ruft Sie zurück."
    )
    reply = await call("Noted. Bye." if lang == "en" else "Notiert. Tschüss.")
    assert "?" not in reply and call.conv.end_requested
    assert call.status is Status.WAITING_FOR_CALLBACK


async def test_cheers_at_the_end_is_a_goodbye():
    call = await _agreed("en")
    reply = await call("Right, 11:20 Tuesday. Cheers.")
    assert call.conv.end_requested and "Goodbye" in reply
    assert call.status is Status.BOOKED and call.outcome["appointment"] == AGREED


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "No, really nothing earlier."), ("de", "Nein, vorher geht wirklich nichts.")]
)
async def test_a_no_after_lisa_took_the_slot_keeps_the_slot_not_the_whole_request(lang, said):
    call = await _agreed(lang)
    reply = await call(said)
    assert "11:20" in reply and "I'm calling to book" not in reply and "Ich rufe an, um" not in reply


async def test_a_morning_time_without_am_is_said_back_once():
    call = Call("en", wish("en", "as soon as possible"))
    await call(HELLO["en"])
    await call("We can squeeze him in tomorrow at 7:45 in the morning.")
    reply = await call("Great, see you tomorrow at quarter to eight. Bye.")
    assert reply.count("7:45") == 1 and call.outcome["appointment"] == "2026-11-24T07:45"


# ------------------------------------------------------------------ C9: the business name
@pytest.mark.parametrize(
    ("lang", "first", "second", "name"),
    [("en", "Morning, Hillside Lab, Dave here.", None, "Hillside Lab"),
     ("en", "Harbour Dental, please hold.", "Sorry about that, thanks for holding. What was it you needed?",
      "Harbour Dental"),
     ("de", "Hausarztpraxis Dr. Wolf, einen Moment bitte, bleiben Sie dran.",
      "So, da bin ich wieder, Entschuldigung. Worum ging's nochmal?", "Hausarztpraxis Dr. Wolf")],
)  # fmt: skip
async def test_the_business_name_is_not_a_greeting_word(lang, first, second, name):
    call = Call(lang)
    await call(first)
    if second:
        await call(second)
    assert call.conv.slots["callee"] == name


@pytest.mark.parametrize(
    ("lang", "bye"), [("en", "Lovely. See you then, bye."), ("de", "Prima, bis dann. Tschüss.")]
)
async def test_a_see_off_after_a_turn_down_books_nothing_and_asks(lang, bye):
    call = await _declined(lang)
    reply = await call(bye)
    assert "?" in reply and call.status is not Status.BOOKED
    assert "perfect" not in reply and "prima" not in reply


# ------------------------------------------------------------------ what these answers must not swallow
@pytest.mark.parametrize(
    ("lang", "asked", "answer"),
    [("en", "Can you say the name again?", "Max Mustermann"), ("en", "Who is this for?", "Max Mustermann"),
     ("de", "Können Sie den Namen noch mal sagen?", "Max Mustermann"),
     ("en", "I need a phone number for him, otherwise I can't book it.", "+49 30 1234567"),
     ("de", "Ohne Telefonnummer kann ich ihn nicht eintragen.", "+49 30 1234567")],
)  # fmt: skip
async def test_what_lisa_can_give_is_given_not_refused_or_repeated(lang, asked, answer):
    call = await _agreed(lang)
    reply = await call(asked)
    assert answer in reply and not call.conv.end_requested and call.status is Status.OPEN


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "The practice is closed on Mondays, but Tuesday at 11 works."),
     ("de", "Montags ist die Praxis geschlossen, aber Dienstag um 11 ginge.")],
)  # fmt: skip
async def test_a_closed_day_is_no_refusal_of_new_patients(lang, said):
    call = Call(lang, wish(lang, TUESDAY[lang]))
    await call(HELLO[lang])
    await call(said)
    assert not call.conv.end_requested and call.status is Status.OPEN


# ------------------------------------------------------------------ C10: the user's words in Lisa's mouth
@pytest.mark.parametrize(
    ("lang", "description", "said", "never"),
    [("en", "A physiotherapy session for my back", "Max Mustermann's back", "my back"),
     ("en", "Routine check-up for our son Leo", "Max Mustermann's son Leo", "our son"),
     ("de", "Logopädie-Termin für meine Tochter Mia", "für die Tochter Mia", "meine"),
     ("de", "Vorsorge für meinen Sohn Paul", "für den Sohn Paul", "meinen")],
)  # fmt: skip
async def test_the_request_is_said_in_the_third_person(lang, description, said, never):
    call = Call(lang, wish(lang, "next week" if lang == "en" else "nächste Woche", description))
    intro = await call(HELLO[lang])
    assert said in intro and never not in intro


@pytest.mark.parametrize(
    ("lang", "need", "then", "why"),
    [("en", "For that we need a credit card to hold it.", "Then I can't hold it, sorry. Bye.", "credit card"),
     ("de", "Dafür brauchen wir eine Anzahlung per Kreditkarte.", "Dann kann ich den Termin leider nicht halten.",
      "Anzahlung")],
)  # fmt: skip
async def test_then_i_cant_hold_it_after_a_payment_request_books_nothing(lang, need, then, why):
    call = await _agreed(lang)
    asked = await call(need)
    assert "payment details" in asked or "Zahlungsdaten" in asked
    await call(then)
    assert call.status is Status.FAILED and why in call.outcome["summary"] and call.conv.end_requested
