"""The tools shared by every brain: schemas, argument checking, calendar-backed booking, outcomes, events."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock

from agent.business import load_business
from agent.calendar import Booking, InMemoryCalendar
from agent.conversation import BookingRequest, Conversation, Language, Mode, Status
from agent.tools import Toolbox

TZ = ZoneInfo("Europe/Berlin")
NOW = "2026-11-23T09:00:00+01:00"  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def request() -> BookingRequest:
    return BookingRequest(
        request_id="r-1",
        user_id="u-1",
        title="Book a dental cleaning",
        description="I need an appointment for a dental cleaning",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 7654321",
        preferred_time="next week, Monday 10-12",
        user_profile={"username": "Max Mustermann", "street": "Musterstraße", "city": "Berlin"},
    )


@pytest.fixture
def business():
    return load_business()


@pytest.fixture
def calendar():
    return InMemoryCalendar()


def toolbox(business, calendar, mode=Mode.CHAT, lang=Language.EN, clock=None) -> Toolbox:
    conv = Conversation(mode=mode, language=lang, request=request() if mode is Mode.OUTBOUND else None)
    return Toolbox(conv, business, calendar, clock or ManualClock(NOW))


def test_schemas_are_openai_tools_per_mode(business, calendar):
    inbound = toolbox(business, calendar).schemas()
    outbound = toolbox(business, calendar, Mode.OUTBOUND).schemas()
    names_in = {s["function"]["name"] for s in inbound}
    names_out = {s["function"]["name"] for s in outbound}
    assert {"check_availability", "book_appointment", "transfer_to_human", "take_message"} <= names_in
    assert {"request_callback", "end_conversation", "lookup_business_info"} <= names_in
    assert {
        "book_appointment",
        "report_no_availability",
        "get_callback_number",
        "end_conversation",
    } <= names_out
    assert "transfer_to_human" not in names_out
    for schema in inbound + outbound:
        assert schema["type"] == "function"
        params = schema["function"]["parameters"]
        assert params["type"] == "object"
        assert set(params["required"]) <= set(params["properties"])
        assert schema["function"]["description"]
    json.dumps(inbound + outbound)  # plain JSON


async def test_call_reports_bad_input_instead_of_raising(business, calendar):
    tools = toolbox(business, calendar)
    assert (await tools.call("fly_to_moon", {}))["ok"] is False
    bad = await tools.call("book_appointment", {"start": "next tuesday-ish", "name": "Ann"})
    assert bad["ok"] is False and "start" in bad["error"]
    missing = await tools.call("book_appointment", {"name": "Ann"})
    assert missing == {"ok": False, "error": "missing argument: start"}
    assert (await tools.call("take_message", ["not", "a", "dict"]))["ok"] is False
    empty = await tools.call("take_message", {"name": "  ", "message": "hi there"})
    assert empty["ok"] is False and "name" in empty["error"]
    wrong_mode = await toolbox(business, calendar, Mode.OUTBOUND).call("transfer_to_human", {"reason": "x"})
    assert wrong_mode["ok"] is False
    assert tools.conv.outcome.status is Status.OPEN


async def test_booking_a_free_slot_stores_it_and_sets_the_outcome(business, calendar):
    tools = toolbox(business, calendar)
    result = await tools.call("book_appointment", {"start": "2026-11-25T15:00", "name": "Erika Musterfrau"})
    assert result["ok"] is True
    outcome = tools.conv.outcome
    assert outcome.status is Status.BOOKED
    assert outcome.as_dict()["appointment"] == "2026-11-25T15:00"
    assert "Erika Musterfrau" in outcome.summary and "15:00" in outcome.summary
    assert [e.type for e in tools.conv.events] == ["booking_confirmed"]
    stored = await calendar.bookings_between(at(25, 0), at(26, 0))
    assert [(b.start, b.end - b.start, b.name) for b in stored] == [
        (at(25, 15), timedelta(minutes=30), "Erika Musterfrau")
    ]


async def test_german_summary(business, calendar):
    tools = toolbox(business, calendar, lang=Language.DE)
    await tools.book_appointment(at(25, 15), "Erika Musterfrau")
    assert tools.conv.outcome.summary.startswith(
        "Termin gebucht für Erika Musterfrau am Mittwoch, 25.11., 15:00 Uhr"
    )


async def test_taken_slot_is_refused_with_the_nearest_free_alternatives(business, calendar):
    await calendar.add(Booking(at(25, 15), at(25, 15, 30), "Someone", "appointment"))
    tools = toolbox(business, calendar)
    check = await tools.check_availability(start=at(25, 15))
    assert check["available"] is False and check["reason"] == "taken"
    result = await tools.book_appointment(at(25, 15), "Ann Lee")
    assert result["ok"] is False and result["reason"] == "taken"
    alternatives = [datetime.fromisoformat(a) for a in result["alternatives"]]
    assert alternatives[0] == datetime(2026, 11, 25, 15, 30)  # right after, same day
    assert all(a.date() == at(25, 0).date() for a in alternatives)
    assert datetime(2026, 11, 25, 15, 0) not in alternatives
    assert tools.conv.outcome.status is Status.OPEN


async def test_outside_opening_hours_gets_alternatives_within_hours(business, calendar):
    tools = toolbox(business, calendar)
    saturday = await tools.check_availability(start=at(28, 10))
    assert saturday["available"] is False and saturday["reason"] == "closed"
    for iso in saturday["alternatives"]:
        alt = datetime.fromisoformat(iso).replace(tzinfo=TZ)
        assert business.fits(alt, 30) and alt.weekday() < 5
    assert saturday["alternatives"][0] == "2026-11-27T10:00"  # same time, nearest open day
    evening = await tools.check_availability(start=at(24, 19))
    assert evening["reason"] == "closed"
    assert all(datetime.fromisoformat(a).hour < 18 for a in evening["alternatives"])
    # a 30-minute appointment at 17:45 would run past closing time
    assert (await tools.check_availability(start=at(24, 17, 45)))["reason"] == "closed"
    assert (await tools.check_availability(start=at(24, 17, 30)))["available"] is True


async def test_a_slot_in_the_past_is_refused(business, calendar):
    tools = toolbox(business, calendar)
    result = await tools.book_appointment(at(23, 8, 30), "Ann Lee")
    assert result["ok"] is False and result["reason"] == "past"
    assert all(datetime.fromisoformat(a).replace(tzinfo=TZ) > at(23, 9) for a in result["alternatives"])
    assert await calendar.bookings_between(at(23, 0), at(24, 0)) == []


async def test_two_conversations_never_get_the_same_slot(business, calendar):
    first, second = toolbox(business, calendar), toolbox(business, calendar)
    results = await asyncio.gather(
        first.book_appointment(at(26, 11), "Ann Lee"), second.book_appointment(at(26, 11), "Bob Ray")
    )
    assert sorted(r["ok"] for r in results) == [False, True]
    loser = results[0] if not results[0]["ok"] else results[1]
    assert loser["reason"] == "taken" and loser["alternatives"]
    assert len(await calendar.bookings_between(at(26, 0), at(27, 0))) == 1


async def _race_on_the_database(business, url: str) -> None:
    from api.bookings.store import DatabaseCalendar
    from api.storage import Database

    db = await Database.connect(url)
    try:
        cal = DatabaseCalendar(db)
        results = await asyncio.gather(
            *(toolbox(business, cal).book_appointment(at(26, 11), f"Caller {i}") for i in range(4))
        )
        assert [r["ok"] for r in results].count(True) == 1
        again = await toolbox(business, cal).check_availability(start=at(26, 11))
        assert again["available"] is False and "2026-11-26T11:30" in again["alternatives"]
    finally:
        await db.close()


async def test_simultaneous_bookings_on_the_sqlite_calendar(business, sqlite_url):
    """Of four simultaneous bookings of one slot exactly one wins."""
    await _race_on_the_database(business, sqlite_url)


@pytest.mark.postgres
async def test_simultaneous_bookings_on_the_postgres_calendar(business, postgres_url):
    await _race_on_the_database(business, postgres_url)


async def test_free_slots_of_a_day_skip_bookings(business, calendar):
    await calendar.add(Booking(at(24, 8), at(24, 9), "X", "assessment"))
    result = await toolbox(business, calendar).check_availability(day="2026-11-24")
    assert result["available"] is True
    assert result["free_slots"][0] == "2026-11-24T09:00"
    assert result["free_slots"][-1] == "2026-11-24T17:30"
    sunday = await toolbox(business, calendar).check_availability(day="2026-11-29")
    assert sunday["available"] is False and sunday["reason"] == "closed" and sunday["alternatives"]


async def test_service_duration_is_respected(business, calendar):
    tools = toolbox(business, calendar)
    result = await tools.book_appointment(at(24, 17), "Ann Lee", service="initial assessment")
    assert result["ok"] is True  # 60 minutes: 17:00-18:00 fits
    assert (await tools.check_availability(start=at(24, 17, 30), service="new patient"))["reason"] == "closed"


async def test_transfer_message_callback(business, calendar):
    tools = toolbox(business, calendar)
    assert (await tools.transfer_to_human("wants a person"))["ok"] is True
    assert (
        tools.conv.outcome.status is Status.TRANSFERRED and tools.conv.transfer_to == business.transfer_number
    )
    assert tools.conv.events[-1].type == "transfer_requested"

    tools = toolbox(business, calendar, lang=Language.DE)
    await tools.take_message("Ann Lee", "Bitte rufen Sie mich wegen der Rechnung an", phone="+49 171 2223334")
    assert tools.conv.outcome.status is Status.MESSAGE_TAKEN
    assert "Ann Lee" in tools.conv.outcome.summary and "Rechnung" in tools.conv.outcome.summary

    tools = toolbox(business, calendar)
    assert (await tools.request_callback())["ok"] is False  # no number
    await tools.request_callback(phone="+49 171 2223334", when="tomorrow morning", name="Ann")
    assert tools.conv.outcome.status is Status.CALLBACK_REQUESTED
    assert "tomorrow morning" in tools.conv.outcome.summary


async def test_end_conversation_settles_an_open_outcome(business, calendar):
    silent = toolbox(business, calendar)
    await silent.end_conversation("caller hung up")
    assert silent.conv.end_requested and silent.conv.outcome.status is Status.ABANDONED

    asked = toolbox(business, calendar)
    assert (await asked.lookup_business_info("when are you open?"))["ok"] is True
    await asked.end_conversation("bye")
    assert asked.conv.outcome.status is Status.ANSWERED

    booked = toolbox(business, calendar)
    await booked.book_appointment(at(24, 10), "Ann Lee")
    await booked.end_conversation("bye")
    assert booked.conv.outcome.status is Status.BOOKED

    outbound = toolbox(business, calendar, Mode.OUTBOUND)
    await outbound.end_conversation("no answer that made sense")
    assert outbound.conv.outcome.status is Status.FAILED and outbound.conv.events[-1].type == "call_failed"
    assert (await toolbox(business, calendar).call("end_conversation", {"outcome": "waiting_for_callback"}))[
        "ok"
    ] is False


async def test_outbound_booking_records_the_confirmation(business, calendar):
    tools = toolbox(business, calendar, Mode.OUTBOUND)
    fits = await tools.check_availability(start=at(30, 10, 30))
    assert fits["fits_preferred_time"] is True
    assert (await tools.check_availability(start=at(30, 14)))["fits_preferred_time"] is False
    assert (await tools.check_availability(start=at(24, 10, 30)))["fits_preferred_time"] is False
    result = await tools.call(
        "book_appointment", {"start": "2026-11-30T10:30", "business_name": "Miller dental practice"}
    )
    assert result["ok"] is True
    assert [e.type for e in tools.conv.events] == ["booking_in_progress", "booking_confirmed"]
    assert (
        tools.conv.outcome.summary
        == "Appointment booked for Monday, November 30 at 10:30 at Miller dental practice."
    )
    assert tools.conv.outcome.as_dict()["appointment"] == "2026-11-30T10:30"
    assert await calendar.bookings_between(at(30, 0), at(30, 23)) == []  # not our calendar

    de = toolbox(business, calendar, Mode.OUTBOUND, Language.DE)
    await de.book_appointment(at(30, 10, 30), business_name="Praxis Dr. Müller")
    assert de.conv.outcome.summary == "Termin gebucht für Montag, 30.11., 10:30 Uhr bei Praxis Dr. Müller."


async def test_outbound_failure_and_callback(business, calendar):
    tools = toolbox(business, calendar, Mode.OUTBOUND)
    assert (await tools.get_callback_number()) == {"ok": True, "callback_number": "+49 30 1234567"}
    await tools.request_callback(when="in an hour")
    assert tools.conv.outcome.status is Status.WAITING_FOR_CALLBACK
    await tools.report_no_availability("fully booked this week")
    assert tools.conv.outcome.status is Status.FAILED and "fully booked" in tools.conv.outcome.summary
    await tools.end_conversation("bye")
    assert tools.conv.outcome.status is Status.FAILED
