"""Taking over a job whose instance died during its call (the claim went stale), on SQLite and PostgreSQL:
the interrupted attempt counts ("The app stopped during the call"), the request is retried or, out of
attempts, failed — never left ``calling``/``in_progress`` — and no claim is taken over while a call placed
under it may still be live (the claim hold is at least the maximum call duration plus a margin)."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.carriers import RecordingCarrier
from requests_support import SAMPLE, body, make_processor, wait_for

from api.requests.scheduler import CLAIM_MARGIN_S

RID = SAMPLE["request_id"]
TIMING = {"scheduler_claim_timeout_s": 60, "outbound_max_call_duration_s": 120, "outbound_retry_delay_s": 30}


async def died_during_its_call(db, clock, **settings) -> RecordingCarrier:
    """An instance claims the job, places the call (the request is ``in_progress``) and dies."""
    carrier = RecordingCarrier()
    dead = make_processor(db, clock, carrier, **TIMING, **settings)
    await dead.submit(body(), "de")
    assert await dead.tick() == 1
    await wait_for(lambda: carrier.placed)
    await dead.store.update(RID, {"status": "in_progress"})
    for task in [*dead._tasks]:  # kill -9: nothing of it runs any more, nothing is written
        task.cancel()
    dead.active.clear()
    return carrier


@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_attempt_cut_by_a_dead_instance_is_retried_after_the_hold(db_url):
    from api.storage import Database

    db = await Database.connect(db_url)
    clock = ManualClock("2026-11-23T09:15:00+01:00")
    first = await died_during_its_call(db, clock)
    carrier = RecordingCarrier()
    alive = make_processor(db, clock, carrier, **TIMING)
    assert alive.claim_hold_s() == 120 + CLAIM_MARGIN_S  # the claim timeout (60 s) is below the longest call
    clock.advance(120 + CLAIM_MARGIN_S - 1)
    assert await alive.tick() == 0  # the first call may still be live: no second call
    assert (await alive.store.get(RID))["status"] == "in_progress"
    clock.advance(2)
    assert await alive.tick() == 0  # taken over: the attempt is recorded, the retry is scheduled
    row = await alive.store.get(RID)
    assert row["status"] == "waiting_for_callback" and row["attempts"] == 1
    last = (await alive.store.events(RID))[-1]
    assert last["type"] == "call_failed"
    assert last["message"].startswith("The app stopped during the call (attempt 1 of 3); calling again")
    assert not carrier.placed
    clock.advance(31)  # the retry delay
    assert await alive.tick() == 1
    await wait_for(lambda: carrier.placed)
    assert len(first.placed) == 1 and len(carrier.placed) == 1
    row = await alive.store.get(RID)
    assert row["status"] == "calling" and row["attempts"] == 2
    jobs = await alive.store.jobs(RID)
    assert [j["result"] for j in jobs] == ["retry:app_stopped", None]
    await alive.stop()
    await db.close()


async def test_the_last_attempt_cut_by_a_dead_instance_fails_the_request(sqlite_url):
    from api.storage import Database

    db = await Database.connect(sqlite_url)
    clock = ManualClock("2026-11-23T09:15:00+01:00")
    await died_during_its_call(db, clock, outbound_max_attempts=1)
    carrier = RecordingCarrier()
    alive = make_processor(db, clock, carrier, **TIMING, outbound_max_attempts=1)
    clock.advance(alive.claim_hold_s() + 1)
    assert await alive.tick() == 0
    row = await alive.store.get(RID)
    assert row["status"] == "failed"
    assert "The app stopped during the call (attempt 1 of 1); giving up" in row["last_error"]
    clock.advance(3600)
    assert await alive.tick() == 0 and not carrier.placed  # nothing is left to call
    await alive.stop()
    await db.close()


async def test_a_claim_whose_call_never_started_is_placed_without_losing_an_attempt(sqlite_url):
    """Died between the claim and the call: the attempt was never made, so the taker makes it."""
    from api.storage import Database

    db = await Database.connect(sqlite_url)
    clock = ManualClock("2026-11-23T09:15:00+01:00")
    dead = make_processor(db, clock, RecordingCarrier(), **TIMING)
    await dead.submit(body(), "de")
    [job] = await dead.store.due_jobs(clock.now(), clock.now(), limit=5)
    assert await dead.store.claim(job, "crashed-instance", clock.now(), clock.now())
    carrier = RecordingCarrier()
    alive = make_processor(db, clock, carrier, **TIMING)
    clock.advance(alive.claim_hold_s() + 1)
    assert await alive.tick() == 1
    await wait_for(lambda: carrier.placed)
    assert (await alive.store.get(RID))["attempts"] == 1
    await alive.stop()
    await db.close()
