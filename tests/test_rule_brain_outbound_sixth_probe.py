"""Outbound failure classes from a sixth probe written outside the suite, en + de: a slot Lisa turned down is
never booked when the business answers "nothing else, bye"; a window the business names for a visit at the
user's home is the appointment; the address and the age the request gives are said when asked; a waiting
list offered is taken (the request waits for the call); "come any time between 2 and 4" keeps the window in
the summary; "ohne Überweisung geht es nicht" is a condition that ends the call; another service offered in
place of the one asked for is not agreed to."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call
from test_rule_brain_outbound_plain_answers import HELLO, wish

from agent.conversation import Status

NOTHING_BOOKED = {"en": "nothing is booked", "de": "nichts eingetragen"}


def _request(lang: str, preferred: str, description: str, title: str = ""):
    """The dentist's request with another wish, description and title."""
    request = wish(lang, preferred, description)
    request.title = title or description
    return request


# ------------------------------------------------------------------ a turned-down slot and "nothing else, bye"
@pytest.mark.parametrize(
    ("lang", "offer", "bye"),
    [("en", "Wednesday at ten is taken. Could he come earlier, at eight?",
      "Hm, then I have nothing else this week, sorry. Bye."),
     ("en", "We could do Wednesday at 3 pm.", "No, that's all I have. Goodbye."),
     ("de", "Mittwoch um 10 ist weg. Könnte er auch früher kommen, um acht?",
      "Hm, sonst hab ich diese Woche nichts mehr. Tschüss."),
     ("de", "Mittwoch um 15 Uhr ginge.", "Nein, leider nichts anderes. Wiederhören.")],
)  # fmt: skip
async def test_nothing_else_and_a_goodbye_after_a_turn_down_books_nothing(lang, offer, bye):
    call = Call(lang, wish(lang, "Mittwoch 10-12" if lang == "de" else "Wednesday 10-12"))
    await call(HELLO[lang])
    assert "?" in await call(offer)  # Lisa asks for the wished time instead
    reply = await call(bye)
    assert call.status is Status.FAILED and call.conv.end_requested
    assert NOTHING_BOOKED[lang] in reply
    assert "perfect" not in reply and "prima" not in reply


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "No, sorry, nothing else."), ("de", "Nein, sonst nichts.")]
)
async def test_nothing_else_without_a_goodbye_still_takes_the_slot(lang, said):
    call = Call(lang, wish(lang, "Mittwoch 10-12" if lang == "de" else "Wednesday 10-12"))
    await call(HELLO[lang])
    await call("We could do Wednesday at 3 pm." if lang == "en" else "Mittwoch um 15 Uhr ginge.")
    reply = await call(said)
    assert "3 pm" in reply or "15 Uhr" in reply
    assert call.status is not Status.FAILED


# ------------------------------------------------------------------ a window for a visit at home
HOME = {
    "en": ("Friday morning", "Piano tuning at my home, Kastanienallee 12, Berlin"),
    "de": ("Freitagvormittag", "Klavier stimmen bei mir zu Hause, Schönhauser Allee 80, Berlin"),
}


@pytest.mark.parametrize(
    ("lang", "offer", "start", "window"),
    [("en", "I can come Friday between nine and eleven.", "2026-11-27T09:00", "between nine and eleven"),
     ("en", "Our technician comes Friday between 8 and 12.", "2026-11-27T08:00", "between 8 and 12"),
     ("de", "Freitag zwischen 10 und 12 komme ich vorbei.", "2026-11-27T10:00", "zwischen 10 und 12"),
     ("de", "Wir kommen am Freitag zwischen 9 und 11 Uhr.", "2026-11-27T09:00", "zwischen 9 und 11")],
)  # fmt: skip
async def test_a_window_for_a_visit_is_the_appointment_and_kept_in_the_summary(lang, offer, start, window):
    preferred, description = HOME[lang]
    call = Call(lang, _request(lang, preferred, description))
    await call(HELLO[lang])
    reply = await call(offer)
    assert "would be great" in reply or "wäre prima" in reply
    await call("Good, see you Friday." if lang == "en" else "Gut, bis Freitag.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == start
    assert window in call.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "offer"),
    [
        ("en", "We have openings Friday between nine and eleven."),
        ("de", "Freitag zwischen 10 und 12 hätten wir was."),
    ],
)
async def test_a_window_at_the_business_still_asks_for_the_time(lang, offer):
    call = Call(lang, wish(lang, "Freitagvormittag" if lang == "de" else "Friday morning"))
    await call(HELLO[lang])
    reply = await call(offer)
    assert "?" in reply and call.status is Status.OPEN
    assert "would be great" not in reply and "wäre prima" not in reply


@pytest.mark.parametrize(
    ("lang", "asked", "answer"),
    [("en", "Sure. What's the address?", "Kastanienallee 12, Berlin"),
     ("en", "And where do you live?", "Kastanienallee 12, Berlin"),
     ("de", "Ja, gerne. Wie ist die Adresse?", "Schönhauser Allee 80, Berlin"),
     ("de", "Und wo wohnt er?", "Schönhauser Allee 80, Berlin")],
)  # fmt: skip
async def test_the_address_of_a_home_visit_is_given(lang, asked, answer):
    preferred, description = HOME[lang]
    call = Call(lang, _request(lang, preferred, description))
    await call(HELLO[lang])
    reply = await call(asked)
    assert answer in reply
    assert "can't give that out" not in reply and "nicht herausgeben" not in reply


@pytest.mark.parametrize(("lang", "asked"), [("en", "What's his address?"), ("de", "Wie ist seine Adresse?")])
async def test_an_address_the_request_does_not_give_stays_private(lang, asked):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(asked)
    assert "can't give that out" in reply or "nicht herausgeben" in reply


# ------------------------------------------------------------------ the age the request gives
@pytest.mark.parametrize(
    ("lang", "description", "asked", "answer"),
    [("en", "Haircut for my son Ben, he is 7", "How old is the little one?", "7 years old"),
     ("en", "Check-up for my 4-year-old daughter", "And what age is she?", "4 years old"),
     ("de", "Haarschnitt für meine Tochter Mia, 5 Jahre", "Wie alt ist die Kleine denn?", "5 Jahre alt"),
     ("de", "Impfung für unseren Hund Bello, 3 Jahre alt", "Wie heißt das Tier und wie alt ist es?",
      "3 Jahre alt")],
)  # fmt: skip
async def test_the_age_the_request_gives_is_said(lang, description, asked, answer):
    call = Call(lang, _request(lang, "Samstagvormittag" if lang == "de" else "Saturday morning", description))
    await call(HELLO[lang])
    reply = await call(asked)
    assert answer in reply and "don't know" not in reply and "weiß ich leider nicht" not in reply


# ------------------------------------------------------------------ a waiting list
@pytest.mark.parametrize(
    ("lang", "offered", "bye"),
    [("en", "We're completely full this week. I can put you on our waiting list and we call you if something "
            "frees up?", "Okay, I've noted her. We'll call you. Bye."),
     ("en", "Nothing this week, sorry. Want me to add him to the wait list?", "Done. Bye."),
     ("de", "Diese Woche sind wir leider voll. Ich kann Sie auf die Warteliste setzen, wir melden uns?",
      "Gut, notiert, wir rufen an. Tschüss."),
     ("de", "Da ist nichts frei. Soll ich ihn auf unsere Warteliste nehmen?", "Gut. Wiederhören.")],
)  # fmt: skip
async def test_a_waiting_list_is_taken_and_the_request_waits_for_the_call(lang, offered, bye):
    call = Call(lang, wish(lang, "diese Woche" if lang == "de" else "this week"))
    await call(HELLO[lang])
    reply = await call(offered)
    assert ("waiting list" if lang == "en" else "Warteliste") in reply and "+49 30 1234567" in reply
    reply = await call(bye)
    assert call.status is Status.WAITING_FOR_CALLBACK and call.outcome["appointment"] is None
    assert "which day and time" not in reply and "welchen Tag" not in reply


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "Sorry, we don't have a waiting list. Nothing free this week."),
        ("de", "Wir führen keine Warteliste, diese Woche ist nichts frei."),
    ],
)
async def test_no_waiting_list_is_no_waiting_list(lang, said):
    call = Call(lang, wish(lang, "diese Woche" if lang == "de" else "this week"))
    await call(HELLO[lang])
    reply = await call(said)
    assert "waiting list" not in reply and "Warteliste" not in reply


# ------------------------------------------------------------------ a walk-in window
@pytest.mark.parametrize(
    ("lang", "said", "window"),
    [
        ("en", "For an eye test we do Thursday, just come in any time between 2 and 4.", "between 2 and 4"),
        (
            "de",
            "Ähm, also, Donnerstag zwischen 14 und 16 Uhr, kommen Sie einfach vorbei.",
            "zwischen 14 und 16",
        ),
    ],
)
async def test_a_walk_in_window_is_in_the_summary(lang, said, window):
    call = Call(lang, wish(lang, "Donnerstagnachmittag" if lang == "de" else "Thursday afternoon"))
    await call(HELLO[lang])
    await call(said)
    assert call.status is Status.FAILED and window in call.outcome["summary"]


# ------------------------------------------------------------------ a condition: "ohne Überweisung geht es nicht"
@pytest.mark.parametrize(
    ("lang", "said", "why"),
    [("de", "Hat er eine Überweisung? Ohne Überweisung geht es leider nicht.", "Überweisung"),
     ("de", "Ohne Rezept vom Arzt klappt das nicht.", "Rezept"),
     ("en", "Does he have a referral? Without a referral it's not possible.", "referral")],
)  # fmt: skip
async def test_without_it_it_is_not_possible_ends_the_call_with_the_reason(lang, said, why):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(said)
    assert call.status is Status.FAILED and call.conv.end_requested
    assert why in call.outcome["summary"] and NOTHING_BOOKED[lang] in reply


# ------------------------------------------------------------------ another service in place of the one asked for
@pytest.mark.parametrize(
    ("lang", "said", "other"),
    [("en", "Cleanings are booked out until January. I could give him a check-up with the doctor on Tuesday at "
            "nine instead?", "a check-up"),
     ("en", "No cleanings before January, but a consultation with Dr Lang on Tuesday at 9 would work.",
      "a consultation"),
     ("de", "Zahnreinigung ist bis Januar ausgebucht. Ich könnte ihm aber Dienstag um 9 eine Kontrolle beim "
            "Doktor geben?", "eine Kontrolle"),
     ("de", "Reinigung geht erst im Januar, stattdessen ginge Dienstag um 9 eine Beratung.", "eine Beratung")],
)  # fmt: skip
async def test_another_service_offered_instead_is_not_agreed_to(lang, said, other):
    call = Call(lang, wish(lang, "nächste Woche" if lang == "de" else "next week"))
    await call(HELLO[lang])
    reply = await call(said)
    assert other in reply and ("can't agree" in reply or "nicht für" in reply)
    assert "would be great" not in reply and "wäre prima" not in reply
    reply = await call("Okay, bye." if lang == "en" else "Gut, tschüss.")
    assert call.status is not Status.BOOKED


@pytest.mark.parametrize(
    ("lang", "said", "slot"),
    [("en", "Tuesday's gone. Wednesday at nine instead?", "Wednesday"),
     ("en", "Not with Dr. Lang, but a cleaning with our hygienist on Tuesday at 9?", "Tuesday"),
     ("de", "Dienstag ist weg, aber einen Termin am Mittwoch um 9 hätte ich.", "Mittwoch"),
     ("de", "Aber eine Kollegin hätte Dienstag um 9 Zeit.", "Dienstag")],
)  # fmt: skip
async def test_another_time_or_person_instead_is_an_offer_as_before(lang, said, slot):
    call = Call(lang, wish(lang, "nächste Woche" if lang == "de" else "next week"))
    await call(HELLO[lang])
    reply = await call(said)
    assert slot in reply and "can't agree" not in reply and "nicht für" not in reply


# ------------------------------------------------------------------ "this week or next week" is both weeks
@pytest.mark.parametrize(
    ("lang", "wished", "offer"),
    [("en", "this week or next week", "Fully booked this week, but next Tuesday at eleven works."),
     ("en", "this or next week", "Next week Tuesday at 11?"),
     ("de", "diese oder nächste Woche", "Diese Woche ist voll, aber nächste Woche Dienstag um 11 ginge."),
     ("de", "diese Woche oder nächste", "Nächste Woche Dienstag um 11?")],
)  # fmt: skip
async def test_this_week_or_next_wishes_both_weeks(lang, wished, offer):
    call = Call(lang, wish(lang, wished))
    await call(HELLO[lang])
    reply = await call(offer)
    assert "would be great" in reply or "wäre prima" in reply
    await call("Good, bye." if lang == "en" else "Gut, tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-12-01T11:00"
    assert "outside the wished time" not in call.outcome["summary"]
    assert "außerhalb der Wunschzeit" not in call.outcome["summary"]


def test_this_week_or_next_is_a_span_of_both_weeks():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from agent.when import parse_when

    now = datetime(2026, 11, 25, 9, tzinfo=ZoneInfo("Europe/Berlin"))  # a Wednesday
    for said, lang in [("this week or next week", "en"), ("diese oder nächste Woche", "de")]:
        when = parse_when(said, now, lang)
        assert when is not None and (when.first_day, when.last_day) == (date(2026, 11, 25), date(2026, 12, 4))
    for said, lang in [("next week", "en"), ("diese Woche", "de")]:
        when = parse_when(said, now, lang)
        assert when is not None and when.last_day - when.first_day < date(2026, 12, 4) - date(2026, 11, 25)


# ------------------------------------------------------------------ a transfer: someone new greets; the language
@pytest.mark.parametrize(
    ("lang", "transfer", "greeting"),
    [("en", "I'll put you through to dermatology, one moment.", "Dermatology appointments, hello?"),
     ("en", "Please hold, I'll transfer you.", "Good morning, bookings desk."),
     ("de", "Da verbinde ich Sie mit der Terminvergabe, einen Moment.",
      "Terminvergabe Dermatologie, Schulz, guten Tag?"),
     ("de", "Ich stelle Sie durch.", "Hallo, hier Praxis Meier, Anmeldung?")],
)  # fmt: skip
async def test_a_greeting_after_a_transfer_hears_the_request_again(lang, transfer, greeting):
    call = Call(lang, wish(lang, "Mittwochnachmittag" if lang == "de" else "Wednesday afternoon"))
    await call(HELLO[lang])
    await call(transfer)
    reply = await call(greeting)
    assert "dental cleaning" in reply or "Zahnreinigung" in reply
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply


@pytest.mark.parametrize(
    ("lang", "asked", "said"),
    [("en", "Sorry, my English is not so good. Können wir Deutsch sprechen?", "only speak English"),
     ("en", "Do you speak German?", "only speak English"),
     ("de", "Sorry, I'm new here, do you speak English?", "nur Deutsch"),
     ("de", "Sprechen Sie auch Englisch?", "nur Deutsch")],
)  # fmt: skip
async def test_asked_for_another_language_lisa_says_which_she_speaks_and_goes_on(lang, asked, said):
    call = Call(lang, wish(lang, "Mittwochnachmittag" if lang == "de" else "Wednesday afternoon"))
    await call(HELLO[lang])
    reply = await call(asked)
    assert said in reply and ("Wednesday afternoon" in reply or "Mittwochnachmittag" in reply)
    assert "don't know" not in reply and "weiß ich leider nicht" not in reply


# ------------------------------------------------------------------ a transfer is no message; a cancellation
@pytest.mark.parametrize(
    ("lang", "transfer", "offer", "start"),
    [("de", "Da muss ich Sie an die Kollegin vom Empfang weitergeben.", "Donnerstag um 16 Uhr?", "2026-11-26T16:00"),
     ("de", "Moment, ich leite Sie an die Anmeldung weiter.", "Donnerstag um 15 Uhr ginge.", "2026-11-26T15:00"),
     ("en", "Let me pass you over to reception.", "Thursday at four?", "2026-11-26T16:00")],
)  # fmt: skip
async def test_a_transfer_is_no_message_and_the_offer_after_it_is_taken(lang, transfer, offer, start):
    call = Call(lang, wish(lang, "Donnerstagnachmittag" if lang == "de" else "Thursday afternoon"))
    await call(HELLO[lang])
    reply = await call(transfer)
    assert "+49 30 1234567" not in reply and call.status is Status.OPEN
    await call("Empfang, hallo?" if lang == "de" else "Reception, hello?")
    reply = await call(offer)
    assert "would be great" in reply or "wäre prima" in reply
    await call("Gut, tschüss." if lang == "de" else "Okay, bye.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == start


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Okay, I've cancelled his appointment on Thursday. Anything else?"),
     ("en", "Right, we've cancelled the appointment for Friday."),
     ("de", "So, ich habe seinen Termin am Donnerstag storniert. Noch etwas?"),
     ("de", "Gut, der Termin am Freitag ist jetzt abgesagt.")],
)  # fmt: skip
async def test_a_cancellation_nobody_asked_for_is_objected_to_and_reported(lang, said):
    call = Call(lang, wish(lang, "Freitagvormittag" if lang == "de" else "Friday morning"))
    await call(HELLO[lang])
    reply = await call(said)
    assert ("didn't ask to cancel" if lang == "en" else "wollte nichts absagen") in reply
    assert "would be great" not in reply and "wäre prima" not in reply
    await call("Oh, sorry. Friday at ten then?" if lang == "en" else "Ach so. Dann Freitag um 10?")
    await call("Bye." if lang == "en" else "Tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-27T10:00"
    assert said.split()[-3].strip("?.") in call.outcome["summary"]


@pytest.mark.parametrize(
    ("lang", "said", "window"),
    [("de", "Mittwoch, also, kommen Sie einfach zwischen 15 und 17 Uhr, wir haben offene Sprechstunde.",
      "zwischen 15 und 17"),
     ("en", "Wednesday we have an open surgery between 3 and 5, no booking.", "between 3 and 5")],
)  # fmt: skip
async def test_an_open_surgery_is_a_walk_in_with_its_window(lang, said, window):
    call = Call(lang, wish(lang, "Mittwochnachmittag" if lang == "de" else "Wednesday afternoon"))
    await call(HELLO[lang])
    await call(said)
    assert call.status is Status.FAILED and window in call.outcome["summary"]


# ------------------------------------------------------------------ a window and "what time suits him?"
@pytest.mark.parametrize(
    ("lang", "wished", "said", "proposed"),
    [("en", "Thursday afternoon", "The doctor has time on Thursday between 2 and 4. What time suits him?", "2 pm"),
     ("en", "Thursday 3-5 pm", "Thursday between 2 and 4. What time suits him?", "3 pm"),
     ("de", "Donnerstagnachmittag", "Donnerstag zwischen 14 und 16 Uhr hätte die Ärztin Zeit. Wann passt es ihm?",
      "14 Uhr"),
     ("de", "Donnerstag 15-17 Uhr", "Donnerstag zwischen 14 und 16 Uhr. Wann passt es ihm?", "15 Uhr")],
)  # fmt: skip
async def test_the_time_proposed_lies_in_the_window_offered(lang, wished, said, proposed):
    call = Call(lang, wish(lang, wished))
    await call(HELLO[lang])
    reply = await call(said)
    assert proposed in reply and "12" not in reply


# ------------------------------------------------------------------ "eight" for a wished 8 pm
@pytest.mark.parametrize(
    ("lang", "wished", "said", "start"),
    [("en", "Friday at 8pm", "Friday at eight for four, yes.", "2026-11-27T20:00"),
     ("en", "Friday at 7:30 pm", "We could do Friday at seven.", "2026-11-27T19:00"),
     ("de", "Freitag um 20 Uhr", "Freitag um acht für vier Personen, ja.", "2026-11-27T20:00")],
)  # fmt: skip
async def test_an_hour_near_a_wished_evening_hour_is_the_evening(lang, wished, said, start):
    call = Call(lang, wish(lang, wished))
    await call(HELLO[lang])
    reply = await call(said)
    assert "doesn't suit" not in reply and "passt" not in reply
    await call("Perfect, bye." if lang == "en" else "Prima, tschüss.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == start


# ------------------------------------------------------------------ several questions in one breath
@pytest.mark.parametrize(
    ("lang", "asked"),
    [("en", "Name, date of birth and insurance please?"),
     ("en", "Can I have his name and date of birth?"),
     ("de", "Name, Geburtsdatum und Versicherung bitte?"),
     ("de", "Wie ist sein Name und sein Geburtsdatum?")],
)  # fmt: skip
async def test_the_name_and_private_data_asked_together_get_both_answers(lang, asked):
    call = Call(lang)
    await call(HELLO[lang])
    reply = await call(asked)
    assert "Max Mustermann" in reply
    assert "can't give that out" in reply or "nicht herausgeben" in reply


# ------------------------------------------------------------------ the business's own hour to Lisa's proposal

OWN_HOUR = [
    ("en", "What time would suit him?", "ok 10 it is, bye", "2026-12-01T10:00"),
    ("en", "What time would suit him?", "Let's make it half past ten then, bye", "2026-12-01T10:30"),
    ("en", "What time would suit him?", "alright, let's say eleven then. Bye.", "2026-12-01T11:00"),
    ("en", "What time would suit him?", "8 is gone, but 9 works. Bye", "2026-12-01T09:00"),
    ("en", "What time would suit him?", "Yes, 8 is fine, bye", "2026-12-01T08:00"),
    ("en", "What time would suit him?", "ok, bye", "2026-12-01T08:00"),
    ("de", "Welche Uhrzeit wäre ihm denn recht?", "Ok, dann um 10, tschüss", "2026-12-01T10:00"),
    ("de", "Welche Uhrzeit wäre ihm denn recht?", "Gut, sagen wir elf. Tschüss", "2026-12-01T11:00"),
    (
        "de",
        "Welche Uhrzeit wäre ihm denn recht?",
        "Acht ist leider weg, aber neun ginge. Tschüss",
        "2026-12-01T09:00",
    ),
    ("de", "Welche Uhrzeit wäre ihm denn recht?", "Ja, acht passt. Tschüss", "2026-12-01T08:00"),
]


@pytest.mark.parametrize(("lang", "asks", "answer", "booked"), OWN_HOUR)
async def test_the_hour_the_business_names_to_lisas_proposal_is_booked(lang, asks, answer, booked):
    call = Call(
        lang, wish(lang, "next week Tuesday morning" if lang == "en" else "nächste Woche Dienstag vormittag")
    )
    await call(HELLO[lang])
    assert "8" in await call(asks)  # Lisa proposes the start of the wish: 8 am
    reply = await call(answer)
    assert call.status is Status.BOOKED and call.conv.outcome.as_dict()["appointment"] == booked, reply
    hour = booked[11:].lstrip("0").replace(":00", "")
    assert hour.split(":")[0] in reply, reply  # she says back the hour booked, not hers


@pytest.mark.parametrize(
    ("lang", "answer", "then"),
    [("en", "Sorry, 8 is taken. 9?", "9 am"), ("en", "8 is gone. Half past nine?", "9:30"),
     ("de", "Acht ist schon weg. Neun?", "9 Uhr")],
)  # fmt: skip
async def test_an_hour_asked_beside_lisas_refused_one_is_taken(lang, answer, then):
    call = Call(
        lang, wish(lang, "next week Tuesday morning" if lang == "en" else "nächste Woche Dienstag vormittag")
    )
    await call(HELLO[lang])
    await call("What time would suit him?" if lang == "en" else "Welche Uhrzeit wäre ihm denn recht?")
    assert then in await call(answer)


@pytest.mark.parametrize(
    ("lang", "offer", "asks", "said"),
    [("en", "Okay, I've got Friday at 2:15 or 4:45.", "Sure. Which one?", "2:15 pm"),
     ("en", "Friday at 2:15 or 4:45?", "ok, which one then?", "2:15 pm"),
     ("de", "Freitag hätte ich 14:15 oder 16:45.", "Welche Zeit soll ich nehmen?", "14:15 Uhr"),
     ("de", "Freitag 14:15 oder 16:45?", "Welchen möchten Sie?", "14:15 Uhr")],
)  # fmt: skip
async def test_asked_which_one_after_taking_one_lisa_says_which(lang, offer, asks, said):
    call = Call(lang, wish(lang, "Friday afternoon" if lang == "en" else "Freitag nachmittag"))
    await call(HELLO[lang])
    assert said in await call(offer)
    reply = await call(asks)
    assert said in reply and "don't know" not in reply and "weiß ich leider nicht" not in reply, reply
