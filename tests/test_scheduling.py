"""Business hours, durable scheduling, retries and limits of outbound calls, on real SQLite / PostgreSQL.

The processor runs against a real database; the phone network is played by the test at the Carrier
boundary (calls recorded, statuses reported like Twilio's status callbacks).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from conftest import ManualClock
from doubles.carriers import RecordingCarrier
from requests_support import SAMPLE, body, database_url, make_processor, wait_for

from agent.conversation import Conversation, ConversationEvent, Language, Mode, Status
from api.requests.business_hours import BusinessHours
from api.storage import Database
from pipelines.call_hooks import CallInfo, CallResult

RID = SAMPLE["request_id"]
MONDAY_9_15 = "2026-11-23T09:15:00+01:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "open_", "next_opening"),
    [
        ("2026-11-27T17:59:00+01:00", True, "2026-11-27T17:59:00+01:00"),  # Friday just before closing
        ("2026-11-27T18:00:00+01:00", False, "2026-11-30T08:00:00+01:00"),  # Friday closing -> Monday
        ("2026-11-28T10:00:00+01:00", False, "2026-11-30T08:00:00+01:00"),  # Saturday
        ("2026-11-23T07:59:00+01:00", False, "2026-11-23T08:00:00+01:00"),  # Monday before opening
        ("2026-12-24T18:30:00+01:00", False, "2026-12-28T08:00:00+01:00"),  # Christmas + weekend
        ("2026-11-23T06:15:00+00:00", False, "2026-11-23T08:00:00+01:00"),  # UTC input, Berlin hours
    ],
)
def test_business_hours(now, open_, next_opening):
    hours = BusinessHours()
    assert hours.is_open(at(now)) is open_
    assert hours.next_opening(at(now)) == at(next_opening)


def test_holidays_follow_the_configured_subdivision():
    womens_day = at("2027-03-08T10:00:00+01:00")  # a Monday, a public holiday in Berlin only
    assert not BusinessHours(subdiv="BE").is_open(womens_day)
    assert BusinessHours(subdiv=None).is_open(womens_day)
    assert BusinessHours(country=None).is_open(at("2026-12-25T10:00:00+01:00"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path):
    async with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def db(db_url):
    database = await Database.connect(db_url)
    yield database
    await database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9_15)


@pytest.fixture
def carrier() -> RecordingCarrier:
    return RecordingCarrier()


@pytest.fixture
async def processors(db, clock, carrier):
    """``processors(**settings)``: a request processor on ``db`` with ``clock`` and ``carrier`` unless given;
    each one is stopped after the test."""
    made = []

    def make(*, clock=clock, carrier=carrier, **settings):
        made.append(make_processor(db, clock, carrier, **settings))
        return made[-1]

    yield make
    for p in made:
        await p.stop()


@pytest.fixture
def processor(processors):
    """A request processor with the default settings (see :func:`processors`)."""
    return processors()


async def call_placed(p, lang: str = "de") -> str:
    """Submit the sample request and let the scheduler place its call; the call's sid."""
    await p.submit(body(), lang)
    await p.tick()
    return await wait_for(lambda: _sid(p))


async def _sid(processor, rid=RID):
    job = await processor.store.open_job(rid)
    return job and job["call_sid"]


async def _status(processor, rid=RID):
    return (await processor.store.get(rid))["status"]


async def _types(processor, rid=RID):
    return [e["type"] for e in await processor.store.events(rid)]


def outbound_call(sid: str, rid: str = RID) -> CallInfo:
    return CallInfo(call_sid=sid, stream_sid="MZ1", direction="outbound", parameters={"request_id": rid})


def ended(status: Status, appointment: datetime | None = None, summary: str = "") -> CallResult:
    conv = Conversation(mode=Mode.OUTBOUND, language=Language.EN)
    conv.outcome.status = status
    conv.outcome.appointment = appointment
    conv.outcome.summary = summary
    return CallResult(
        conversation=conv,
        ended_by="lisa",
        reason="completed",
        transcript=[{"speaker": "party", "text": "hi", "start_ms": 0, "end_ms": 42000}],
    )


async def test_booked_flow_through_call_hooks(processor, carrier):
    p = processor
    status, answer = await p.submit(body(), "de")
    assert (status, answer) == (
        200,
        {"status": "accepted", "request_id": RID, "message": "Request is being processed"},
    )
    assert await _status(p) == "queued"
    assert await p.tick() == 1
    sid = await wait_for(lambda: _sid(p))
    assert await _status(p) == "calling"
    call = outbound_call(sid)
    conv = Conversation(mode=Mode.OUTBOUND, language=Language.EN)
    await p.on_call_started(call, conv)
    assert await _status(p) == "in_progress"
    now = p.now()
    await p.on_conversation_event(call, ConversationEvent("booking_in_progress", "Asking for Monday", now))
    await p.on_conversation_event(call, ConversationEvent("transfer_requested", "not ours", now))
    await p.on_conversation_event(call, ConversationEvent("booking_confirmed", "Monday 10:30 confirmed", now))
    await p.on_call_ended(call, ended(Status.BOOKED, datetime(2026, 11, 30, 10, 30)))
    row = await p.store.get(RID)
    assert row["status"] == "booked"
    assert row["summary"] == "Termin gebucht für Montag, 30.11., 10:30 Uhr – Zahnarzttermin buchen"
    assert row["appointment"] == "2026-11-30T10:30:00+01:00"
    assert await _types(p) == [
        "request_received",
        "call_started",
        "call_connected",
        "booking_in_progress",
        "booking_confirmed",
        "call_completed",
    ]
    described = await p.describe(RID)
    assert described["outcome"] == {
        "status": "booked",
        "appointment": "2026-11-30T10:30",
        "summary": row["summary"],
    }
    # a late carrier status of the same call changes nothing
    await p.on_call_status(sid, "completed", {"request_id": RID})
    await asyncio.sleep(0.05)
    assert await _status(p) == "booked"
    # a repeated POST never calls again and tells the current status
    status, answer = await p.submit(body(), "de")
    assert (answer["status"], answer["request_status"]) == ("completed", "booked") and len(
        carrier.placed
    ) == 1


async def test_no_slot_fails_with_the_reason(processors):
    p = processors(clock=ManualClock("2026-11-24T14:00:00+01:00"))
    sid = await call_placed(p, "en")
    await p.on_call_started(outbound_call(sid), Conversation(mode=Mode.OUTBOUND, language=Language.EN))
    await p.on_call_ended(outbound_call(sid), ended(Status.FAILED, summary="Fully booked this week"))
    row = await p.store.get(RID)
    assert row["status"] == "failed" and "Fully booked" in row["summary"]
    events = await p.store.events(RID)
    assert [e["type"] for e in events][-2:] == ["call_completed", "call_failed"]
    assert events[-1]["message"] == "Fully booked this week"


async def test_busy_and_no_answer_are_retried_then_failed(processors, clock, carrier):
    p = processors(outbound_max_attempts=3, outbound_retry_delay_s=60)
    await p.submit(body(), "de")
    for attempt, signal in enumerate(["busy", "no-answer", "no-answer"], start=1):
        assert await p.tick() == 1
        sid = await wait_for(lambda: _sid(p))
        assert (await p.store.get(RID))["attempts"] == attempt
        await p.on_call_status(sid, signal, {"request_id": RID})
        await wait_for(lambda: not p.active)
        if attempt < 3:
            assert await _status(p) == "waiting_for_callback"
            assert await p.tick() == 0  # not before the retry delay
            clock.advance(61)
    row = await p.store.get(RID)
    assert row["status"] == "failed" and "giving up" in row["last_error"]
    assert len(carrier.placed) == 3
    failures = [e["message"] for e in await p.store.events(RID) if e["type"] == "call_failed"]
    assert failures[0].startswith("The line was busy (attempt 1 of 3)")
    assert failures[-1].startswith("Nobody answered (attempt 3 of 3); giving up")
    clock.advance(3600)
    assert await p.tick() == 0


async def test_voicemail_is_hung_up_and_retried(processor, carrier):
    p = processor
    sid = await call_placed(p)
    await p.on_call_status(sid, "in-progress", {"AnsweredBy": "machine_end_beep", "request_id": RID})
    assert carrier.hung_up == [sid]
    assert await _status(p) == "waiting_for_callback"
    assert "voicemail" in (await p.store.events(RID))[-1]["message"]


async def test_retry_due_after_closing_waits_for_the_next_opening(processors):
    p = processors(clock=ManualClock("2026-11-27T17:58:00+01:00"), outbound_retry_delay_s=300)  # Friday
    sid = await call_placed(p)
    await p.on_call_status(sid, "busy", {"request_id": RID})
    events = await p.store.events(RID)
    assert "Monday, 30 November, 08:00" in events[-1]["message"]
    jobs = await p.store.jobs(RID)
    assert jobs[-1]["due_at"].startswith("2026-11-30T07:00:00")  # 08:00 Berlin in UTC


async def test_carrier_error_is_reported_and_retried(processors):
    p = processors(carrier=RecordingCarrier(fail=True))
    await p.submit(body(), "de")
    await p.tick()
    await wait_for(lambda: not p.active)
    assert await _status(p) == "waiting_for_callback"
    assert "telephony provider refused the call" in (await p.store.events(RID))[-1]["message"]


async def test_concurrency_and_duration_limits(processors, carrier):
    p = processors(outbound_max_concurrent_calls=1, outbound_max_call_duration_s=0.5)
    await p.submit(body(), "de")
    other = "0e6c2b7a-1111-4a4a-9b9b-222233334444"
    await p.submit(body(request_id=other), "de")
    assert await p.tick() == 1
    assert await p.tick() == 0  # one call at a time
    await wait_for(lambda: carrier.placed)
    assert len(carrier.placed) == 1
    first = carrier.placed[0][1]["request_id"]
    await wait_for(lambda: carrier.hung_up, within=5)  # the duration limit ends the call
    assert await _status(p, first) == "waiting_for_callback"
    assert "maximum call duration" in (await p.store.events(first))[-1]["message"]
    await wait_for(lambda: not p.active)
    assert await p.tick() == 1
    await wait_for(lambda: len(carrier.placed) == 2)
    assert {c[1]["request_id"] for c in carrier.placed} == {RID, other}


async def test_cancel_during_a_call_hangs_up_and_stays_canceled(processor, carrier):
    p = processor
    sid = await call_placed(p)
    await p.on_call_started(outbound_call(sid), Conversation(mode=Mode.OUTBOUND, language=Language.EN))
    status, answer = await p.cancel(RID)
    assert (status, answer["status"]) == (200, "canceled")
    assert carrier.hung_up == [sid]
    await p.on_call_ended(outbound_call(sid), ended(Status.BOOKED, datetime(2026, 11, 30, 10, 30)))
    assert await _status(p) == "canceled"
    assert await p.cancel(RID) == (
        200,
        {  # idempotent: the request as it is
            "status": "canceled",
            "request_id": RID,
            "message": "Request is already canceled; nothing to cancel",
            "request_status": "canceled",
        },
    )
    assert (await p.cancel("unknown"))[0] == 404


async def test_a_call_answered_after_cancel_is_hung_up(processor, carrier):
    p = processor
    sid = await call_placed(p)
    assert (await p.cancel(RID))[0] == 200  # while it rings
    await p.on_call_started(outbound_call(sid), Conversation(mode=Mode.OUTBOUND, language=Language.EN))
    assert sid in carrier.hung_up
    assert await _status(p) == "canceled"
    assert "call_connected" not in await _types(p)


async def test_restart_outside_business_hours_calls_at_the_next_opening(db_url):
    first_db = await Database.connect(db_url)
    first = make_processor(first_db, ManualClock("2026-11-28T11:00:00+01:00"), RecordingCarrier())  # Saturday
    status, answer = await first.submit(body(), "de")
    assert answer["status"] == "scheduled" and answer["scheduled_for"] == "2026-11-30T08:00:00+01:00"
    assert await first.tick() == 0
    await first_db.close()  # the server goes down over the weekend

    second_db = await Database.connect(db_url)
    clock = ManualClock("2026-11-30T07:59:58+01:00")
    carrier = RecordingCarrier()
    second = make_processor(second_db, clock, carrier)
    assert await second.tick() == 0
    clock.advance(3)
    assert await second.tick() == 1
    await wait_for(lambda: carrier.placed)
    assert [c[1]["request_id"] for c in carrier.placed] == [RID]
    assert await _types(second) == ["request_received", "scheduled", "call_started"]
    await second.stop()
    await second_db.close()


@pytest.mark.postgres
async def test_two_instances_on_one_postgres_never_call_twice(tmp_path):
    async with database_url("postgres", tmp_path) as url:
        await _two_instances(url)


async def _two_instances(postgres_url: str) -> None:
    dbs = [await Database.connect(postgres_url) for _ in range(2)]
    clock = ManualClock(MONDAY_9_15)
    carriers = [RecordingCarrier(), RecordingCarrier()]
    procs = [
        # 12 requests of one user to one number: the daily limits are not what this test is about
        make_processor(
            d,
            clock,
            c,
            outbound_max_concurrent_calls=20,
            outbound_max_requests_per_number_per_day=0,
            outbound_max_requests_per_user_per_day=0,
        )
        for d, c in zip(dbs, carriers, strict=True)
    ]
    ids = [f"7a7a7a7a-0000-4000-8000-{i:012d}" for i in range(12)]
    for i, rid in enumerate(ids):
        await procs[i % 2].submit(body(request_id=rid), "de")
    for _ in range(3):
        await asyncio.gather(*(p.tick() for p in procs))
    await wait_for(lambda: sum(len(c.placed) for c in carriers) >= len(ids))
    await asyncio.sleep(0.2)
    placed = [c[1]["request_id"] for carrier in carriers for c in carrier.placed]
    assert sorted(placed) == sorted(ids)  # every request called exactly once, across both instances
    for p in procs:
        await p.stop()
    for d in dbs:
        await d.close()


@pytest.mark.parametrize(
    ("stt", "forced", "expected"), [("local", None, "en"), ("deepgram", None, "de"), ("local", "de", "de")]
)
async def test_call_language(processors, carrier, stt, forced, expected):
    from pipelines.settings import VoiceSettings

    voice = VoiceSettings(_env_file=None, lisa_stt=stt)
    p = processors(voice=voice, outbound_call_language=forced)
    await p.submit(body(), "de")
    await p.tick()
    await wait_for(lambda: carrier.placed)
    assert carrier.placed[0][1]["language"] == expected


async def test_a_crashed_instances_claim_is_taken_over_after_the_claim_timeout(processors, clock, carrier):
    short = {"scheduler_claim_timeout_s": 300, "outbound_max_call_duration_s": 280}  # calls end before 300 s
    dead = processors(carrier=RecordingCarrier(), **short)
    await dead.submit(body(), "de")
    [job] = await dead.store.due_jobs(clock.now(), clock.now(), limit=5)
    assert await dead.store.claim(job, "crashed-instance", clock.now(), clock.now())  # then it dies
    alive = processors(**short)
    assert await alive.tick() == 0  # the claim is fresh: maybe that instance is still calling
    clock.advance(301)
    assert await alive.tick() == 1
    await wait_for(lambda: carrier.placed)


async def test_carrier_completed_without_a_call_end_is_retried(processor):
    p = processor
    sid = await call_placed(p)
    await p._completed_without_result(RID, sid, grace_s=0)  # what on_call_status("completed") runs later
    assert await _status(p) == "waiting_for_callback"
    assert "ended without a result" in (await p.store.events(RID))[-1]["message"]
