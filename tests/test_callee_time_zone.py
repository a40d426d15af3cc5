"""Outbound calls go out in the callee's local business hours (issue 15): the time zone from the number
(``phonenumbers``), the same opening hours there, that country's public holidays; our own zone, numbers of
several zones and unknown numbers keep the business's hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import ManualClock
from doubles.carriers import RecordingCarrier
from requests_support import body, database_url, make_processor, wait_for

from api.requests.business_hours import BusinessHours
from api.storage import Database

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9_15_BERLIN = datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("number", "zone", "opening"),
    [
        ("+1 212 555 0100", "America/New_York", "2026-11-23T08:00:00-05:00"),  # 03:15 there
        ("+61 2 9374 4000", "Australia/Sydney", "2026-11-24T08:00:00+11:00"),  # 19:15 there
        ("+44 20 7946 0000", "Europe/London", "2026-11-23T08:15:00+00:00"),  # open there
        ("+49 30 7654321", "Europe/Berlin", "2026-11-23T09:15:00+01:00"),
        ("+1 800 555 0100", "Europe/Berlin", "2026-11-23T09:15:00+01:00"),  # toll-free: several zones
        (None, "Europe/Berlin", "2026-11-23T09:15:00+01:00"),
    ],
)
def test_hours_in_the_callees_zone(number: str | None, zone: str, opening: str) -> None:
    hours = BusinessHours().for_number(number)
    assert hours.tz.key == zone
    assert hours.next_opening(MONDAY_9_15_BERLIN).isoformat() == opening


def test_the_callees_public_holidays() -> None:
    us = BusinessHours().for_number("+1 212 555 0100")
    thanksgiving = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    assert not us.is_open(thanksgiving) and BusinessHours().is_open(thanksgiving)
    assert us.next_opening(thanksgiving).isoformat() == "2026-11-27T08:00:00-05:00"


async def test_a_request_to_new_york_waits_for_new_york_morning(tmp_path) -> None:
    async with database_url("sqlite", tmp_path) as url:
        db = await Database.connect(url)
        clock = ManualClock("2026-11-23T09:15:00+01:00")
        carrier = RecordingCarrier()
        processor = make_processor(db, clock, carrier, outbound_allowed_countries="*")
        status, answer = await processor.submit(body(number_to_call="+1 212 555 0100"), "en")
        assert answer["status"] == "scheduled"
        assert answer["scheduled_for"] == "2026-11-23T08:00:00-05:00"  # 14:00 in Berlin
        assert await processor.tick() == 0
        clock.advance(5 * 3600)  # 14:15 in Berlin, 08:15 in New York
        assert await processor.tick() == 1
        await wait_for(lambda: carrier.placed)
        await processor.stop()
        await db.close()
