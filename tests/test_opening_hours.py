"""A request may state the business's own opening hours (issue 15): ``opening_hours`` in OpenStreetMap syntax,
evaluated in the callee's time zone, with its public holidays closed, for the first call, retries and the
scheduler's due check; malformed hours are refused with 422 naming the field; without them nothing changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import ManualClock
from doubles.carriers import RecordingCarrier
from requests_support import SAMPLE, body, make_processor, wait_for

from api.requests.business_hours import BusinessHours
from api.storage import Database

RID = SAMPLE["request_id"]
OTHER = "0e6c2b7a-1111-4a4a-9b9b-222233334444"
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = "2026-11-23T09:15:00+01:00"
SATURDAY = "2026-11-28T11:00:00+01:00"
NEW_YORK = "+1 212 555 0100"
SATURDAY_PRACTICE = "Mo-Fr 08:00-18:00; Sa 09:00-13:00"
TUESDAY_THURSDAY = "Tu,Th 14:00-19:00"


@pytest.fixture(autouse=True)
def fast_requests(monkeypatch):
    monkeypatch.setenv("SCHEDULER_POLL_S", "0.05")
    monkeypatch.setenv("OUTBOUND_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("OUTBOUND_RETRY_DELAY_S", "60")
    monkeypatch.setenv("OUTBOUND_ALLOWED_COUNTRIES", "*")


@pytest.mark.parametrize(
    ("number", "opening_hours", "now", "opening"),
    [
        (SAMPLE["number_to_call"], SATURDAY_PRACTICE, SATURDAY, SATURDAY),  # open now
        (SAMPLE["number_to_call"], None, SATURDAY, "2026-11-30T08:00:00+01:00"),  # the default: Monday
        (SAMPLE["number_to_call"], TUESDAY_THURSDAY, MONDAY, "2026-11-24T14:00:00+01:00"),
        (NEW_YORK, TUESDAY_THURSDAY, MONDAY, "2026-11-24T14:00:00-05:00"),  # in New York's time
        (
            NEW_YORK,
            TUESDAY_THURSDAY,
            "2026-11-25T12:00:00+01:00",
            "2026-12-01T14:00:00-05:00",
        ),  # Thanksgiving
        (
            SAMPLE["number_to_call"],
            "Mo-Su 10:00-12:00",
            "2026-12-24T13:00:00+01:00",
            "2026-12-27T10:00:00+01:00",
        ),
    ],
)
def test_the_business_hours_in_the_callees_zone(number, opening_hours, now, opening) -> None:
    hours = BusinessHours().for_request(number, opening_hours)
    assert hours.next_opening(datetime.fromisoformat(now)) == datetime.fromisoformat(opening)


async def post(server, payload) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        return await client.post("/api/process-request", json=payload)


async def get(server, rid: str = RID) -> dict:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        return (await client.get(f"/api/requests/{rid}")).json()


async def status_is(server, *statuses: str, rid: str = RID) -> dict:
    async def reached():
        data = await get(server, rid)
        return data if data["status"] in statuses else None

    return await wait_for(reached, within=20)


async def test_a_saturday_practice_is_called_on_saturday(app_server, db_url) -> None:
    server = await app_server(database_url=db_url, clock=ManualClock(SATURDAY))
    r = await post(server, {**SAMPLE, "opening_hours": SATURDAY_PRACTICE})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    await wait_for(lambda: server.state.telephony.carrier.placed)
    data = await status_is(server, "waiting_for_callback")  # nobody answers the loopback line
    assert data["opening_hours"] == SATURDAY_PRACTICE
    assert data["next_attempt_at"] == "2026-11-28T10:01:00.000+00:00"  # a minute later: still open

    # without the field, the same Saturday waits for Monday 08:00 as before
    r = await post(server, {**SAMPLE, "request_id": OTHER, "opening_hours": None})
    assert r.json()["status"] == "scheduled" and r.json()["scheduled_for"] == "2026-11-30T08:00:00+01:00"
    assert (await get(server, OTHER))["opening_hours"] is None
    row = await server.state.db.fetchone("SELECT opening_hours FROM requests WHERE id = :id", {"id": OTHER})
    assert row == {"opening_hours": None}


async def test_closed_days_are_skipped_in_the_callees_zone(app_server, db_url) -> None:
    clock = ManualClock(MONDAY)
    server = await app_server(database_url=db_url, clock=clock)
    r = await post(server, {**SAMPLE, "number_to_call": NEW_YORK, "opening_hours": TUESDAY_THURSDAY})
    assert r.status_code == 200
    assert r.json()["status"] == "scheduled"
    assert r.json()["scheduled_for"] == "2026-11-24T14:00:00-05:00"  # not Monday morning, New York's time
    data = await get(server)
    assert data["status"] == "outside_business_hours"
    assert "Dienstag, 24.11., 14:00 Uhr (America/New_York)" in data["events"][-1]["message"]

    clock.advance(39 * 3600 + 44 * 60 + 30)  # Tuesday 18:59:30 in New York
    await wait_for(lambda: server.state.telephony.carrier.placed)
    data = await status_is(server, "waiting_for_callback")  # nobody answered; 19:00 is closing time
    # the retry skips Wednesday (closed) and Thursday (Thanksgiving in the US)
    assert data["next_attempt_at"] == "2026-12-01T19:00:00.000+00:00"
    assert data["events"][-1]["message"].endswith("calling again Tuesday, 1 December, 14:00")


async def test_a_job_due_after_closing_waits_for_the_next_opening(db_url) -> None:
    """The scheduler's due check: a call that came due while the business is closed goes back to waiting."""
    db = await Database.connect(db_url)
    clock = ManualClock("2026-11-24T18:59:00-05:00")  # Tuesday in New York, a minute before closing
    carrier = RecordingCarrier()
    processor = make_processor(db, clock, carrier, outbound_allowed_countries="*")
    try:
        _, answer = await processor.submit(
            body(number_to_call=NEW_YORK, opening_hours=TUESDAY_THURSDAY), "en"
        )
        assert answer["status"] == "accepted"
        clock.advance(120)  # the scheduler comes round after closing time
        assert await processor.tick() == 0
        assert not carrier.placed
        row = await processor.store.get(RID)
        assert row is not None and row["status"] == "outside_business_hours"
        [job] = await processor.store.jobs(RID)
        assert job["due_at"].startswith("2026-12-01T19:00:00")  # Tuesday 14:00 New York, after Thanksgiving
    finally:
        await processor.stop()
        await db.close()


@pytest.mark.parametrize(
    ("opening_hours", "says"),
    [
        ("Mo-Fr 8-18", "not an OpenStreetMap opening_hours expression"),
        ("Montag 08:00-18:00", "not an OpenStreetMap opening_hours expression"),
        (["Mo-Fr 08:00-18:00"], "string"),
        ("Mo-Fr 08:00-18:00; " * 20, "at most 255 characters"),
        ("closed", "no opening within a year"),
        ("2025 Mo-Fr 08:00-18:00", "no opening within a year"),
    ],
)
async def test_malformed_opening_hours_get_422_naming_the_field(app_server, opening_hours, says) -> None:
    server = await app_server(clock=ManualClock(MONDAY))
    r = await post(server, {**SAMPLE, "opening_hours": opening_hours})
    assert r.status_code == 422
    answer = r.json()
    assert answer["status"] == "error" and answer["error"].startswith("opening_hours: ")
    assert says in answer["error"]
    assert any(d["loc"] == ["body", "opening_hours"] for d in answer["detail"])
    assert await server.state.db.fetchall("SELECT id FROM requests") == []
    assert not server.state.telephony.carrier.placed
