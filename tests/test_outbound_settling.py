"""How an outbound call settles the day and time (found by fresh probes of realistic calls): the answer to
"A or B?" may name only the hour; a weekday said alone at the goodbye is the day being talked about; a German
"Mittwoch, den zweiten" names the date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import ManualClock
from doubles.conversations import Talk, rule_engine

from agent.conversation import BookingRequest, Status
from agent.when import parse_offers

CLOCK = "2026-11-24T10:00:00+01:00"  # Tuesday


def request(lang: str, preferred: str) -> BookingRequest:
    return BookingRequest(
        request_id="8a1e2f3a",
        user_id="9b2d4c8e",
        title="Zahnreinigung" if lang == "de" else "Piano tuning",
        description="Professionelle Zahnreinigung" if lang == "de" else "Tuning an upright piano",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 5550121",
        preferred_time=preferred,
        user_profile={"username": "Sabine Krause", "city": "Berlin"},
    )


def call(lang: str, preferred: str) -> Talk:
    return Talk(rule_engine(ManualClock(CLOCK)), "outbound", lang, request(lang, preferred))


async def test_the_hour_said_alone_settles_a_or_b() -> None:
    for answer in (
        "Oh sorry, eleven, yes. Eleven. Bye!",
        "Sorry, my mistake: 11. Bye then.",
        "Eleven. Sorry about that.",
    ):
        talk = call("en", "Thursday")
        await talk("Klavierhaus Berlin, hello.")
        await talk("Thursday I could send someone at eleven.")
        await talk("Name please?")
        assert "or" in await talk("Okay Ms Krause, Thursday at twelve then. Bye.")  # A or B?
        reply = await talk(answer)
        assert talk.status is Status.BOOKED, (answer, reply)
        assert talk.conv.outcome.appointment.isoformat(timespec="minutes").startswith("2026-11-26T11:00")
        assert "11" in reply


async def test_a_weekday_alone_at_the_goodbye_is_the_agreed_day() -> None:
    for goodbye, lang in (
        ("Kein Problem. Dann bis Mittwoch, tschüss.", "de"),
        ("See you Wednesday, bye!", "en"),
    ):
        talk = call(
            lang, "nächste Woche Mittwoch vormittags" if lang == "de" else "next week Wednesday morning"
        )
        await talk("Zahnarztpraxis Dr. Brandt." if lang == "de" else "Dr. Brandt's practice.")
        offer = (
            "Mittwoch, den zweiten, hätte ich um halb zehn was frei."
            if lang == "de"
            else "Next Wednesday, the second, I have half past nine."
        )
        await talk(offer)
        await talk("Gut, dann trage ich sie ein." if lang == "de" else "Good, I'll put her in.")
        reply = await talk(goodbye)
        assert talk.status is Status.BOOKED, reply
        assert talk.conv.outcome.appointment.isoformat(timespec="minutes").startswith("2026-12-02T09:30")
        assert "25" not in reply  # no question about Wednesday 25 November


def test_a_weekday_then_the_ordinal_names_the_date_in_german() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    for text in ("Mittwoch, den zweiten, um halb zehn", "am Mittwoch, dem zweiten, um halb zehn"):
        (offer,) = parse_offers(text, now, "de")
        assert (offer.day.isoformat(), offer.time.isoformat()) == ("2026-12-02", "09:30:00"), text
    assert parse_offers("Ich nehme den zweiten Termin", now, "de") == []  # a pick, not a date


async def test_an_offer_after_the_wish_was_refused_is_taken_as_it_comes() -> None:
    cases = [
        (
            "de",
            "Samstag vormittag",
            "Samstag ist komplett voll. Freitag um 17 Uhr ginge noch.",
            "2026-11-27T17:00",
        ),
        (
            "en",
            "Saturday morning",
            "Saturday's fully booked, sorry. Friday at five I could do.",
            "2026-11-27T17:00",
        ),
    ]
    for lang, wish, offer, booked in cases:
        talk = call(lang, wish)
        await talk("Salon Haarscharf, hallo." if lang == "de" else "Hair by Nina, hello?")
        await talk(offer)  # the wish cannot be had: the offer is accepted, not declined once more
        await talk("Und der Name?" if lang == "de" else "And the name?")
        reply = await talk("Alles klar, bis Freitag." if lang == "de" else "Alright, see you Friday.")
        assert talk.status is Status.BOOKED, (offer, reply)
        assert talk.conv.outcome.appointment.isoformat(timespec="minutes").startswith(booked)


async def test_a_business_working_mornings_only_means_morning_hours() -> None:
    talk = call("en", "Friday afternoon")
    await talk("Lab Mitte, hello?")
    await talk("We only take blood in the mornings, between seven and ten.")
    reply = await talk("Friday at seven thirty or at nine, which one?")
    assert "pm" not in reply, reply  # 7:30 and 9 in the morning; the one nearest the afternoon is taken
    await talk("The name?")
    await talk("Okay, you're all set. Goodbye.")
    assert talk.status is Status.BOOKED
    assert talk.conv.outcome.appointment.isoformat(timespec="minutes").startswith("2026-11-27T09:00")


def test_a_pause_written_as_an_ellipsis_ends_a_thought() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    # Whisper writes a pause as "..."; the time after it is an offer of its own, on the day said before it
    offers = parse_offers(
        "After five on Wednesday... I have five fifteen. But it's with a trainee.", now, "en"
    )
    assert [w.time.isoformat() for w in offers if w.time] == ["17:15:00"]
    (monday,) = parse_offers("Monday... at ten", now, "en")
    assert (monday.day.isoformat(), monday.time.isoformat()) == ("2026-11-30", "10:00:00")
