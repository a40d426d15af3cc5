"""`lisa demo`: the clock it picks, and the whole demo run in-process (voice models, loopback call)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from api.cli.demo import demo, demo_clock


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-23T20:00:00+01:00", "2026-11-23T09:15:00+01:00"),  # a Monday: that morning
        ("2026-11-28T10:00:00+01:00", "2026-11-30T09:15:00+01:00"),  # Saturday: next Monday
        ("2026-12-25T08:00:00+01:00", "2026-12-28T09:15:00+01:00"),  # Christmas: after the holidays
    ],
)
def test_default_clock_is_the_next_business_morning(now, expected):
    assert demo_clock(None, datetime.fromisoformat(now)) == datetime.fromisoformat(expected)


def test_explicit_clock():
    assert demo_clock("2026-11-24T10:00").isoformat() == "2026-11-24T10:00:00+01:00"


@pytest.mark.voice
@pytest.mark.xdist_group("replay-suite")  # one speech pipeline at a time (see test_outbound_scenarios)
async def test_demo_books_the_dental_cleaning():
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    code = await demo("2026-11-23T09:15:00+01:00", timeout_s=180, console=console)
    text = out.getvalue()
    assert code == 0, text
    assert "Lisa:" in text and "Receptionist:" in text
    for event in (
        "request_received",
        "call_started",
        "call_connected",
        "booking_confirmed",
        "call_completed",
    ):
        assert event in text
    assert "Booked: Appointment booked for Monday, 30 November, 10:30" in text
