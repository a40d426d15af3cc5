"""The Supabase outcome store through the real ``supabase`` client against a PostgREST protocol server,
and the outbox: while Supabase is unreachable nothing is lost, and changes arrive in order once it is back."""

from __future__ import annotations

import pytest
from conftest import ManualClock
from doubles.carriers import RecordingCarrier
from fakes.postgrest_protocol_server import PostgrestProtocolServer
from requests_support import SAMPLE, body, make_processor

from api.requests.outbox import Outbox
from api.requests.supabase_store import SupabaseOutcomeStore
from api.storage import Database

KEY = "service-role-key-for-tests"


@pytest.fixture
async def db(tmp_path):
    database = await Database.connect(f"sqlite:///{tmp_path}/outbox.db")
    yield database
    await database.close()


@pytest.fixture
def postgrest():
    server = PostgrestProtocolServer(KEY).start()
    yield server
    server.stop()


async def test_frontend_row_is_updated_and_events_inserted(db, postgrest):
    postgrest.tables["requests"] = [
        {
            "id": SAMPLE["request_id"],
            "user_id": SAMPLE["user_id"],
            "status": "queued",
            "frontend_note": "keep",
        }
    ]
    clock = ManualClock("2026-11-28T10:00:00+01:00")  # Saturday: scheduled, no call yet
    processor = make_processor(db, clock, RecordingCarrier(), remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, KEY, 3.0))
    status, answer = await processor.submit(body(), "de")
    assert (status, answer["status"]) == (200, "scheduled")
    assert await outbox.flush() == 3  # upsert row (outside_business_hours), request_received, scheduled
    [row] = postgrest.rows("requests")
    assert row["status"] == "outside_business_hours"
    assert row["frontend_note"] == "keep"  # the frontend's row was updated, not replaced
    assert row["number_to_call"] == "+49307654321"
    assert row["user_profile"]["username"] == "Max Mustermann"
    events = postgrest.rows("events")
    assert [e["type"] for e in events] == ["request_received", "scheduled"]
    assert "Montag, 30.11., 08:00 Uhr" in events[1]["message"]
    assert await outbox.flush() == 0  # nothing delivered twice
    await outbox.remote.close()


async def test_missing_row_is_inserted(db, postgrest):
    processor = make_processor(db, ManualClock("2026-11-28T10:00:00+01:00"), RecordingCarrier(), remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, KEY, 3.0))
    await processor.submit(body(request_id="b0c1d2e3-0000-4000-8000-000000000001"), "de")
    await outbox.flush()
    assert [r["id"] for r in postgrest.rows("requests")] == ["b0c1d2e3-0000-4000-8000-000000000001"]
    await outbox.remote.close()


async def test_outbox_keeps_changes_while_supabase_is_down_and_delivers_in_order(db, postgrest):
    clock = ManualClock("2026-11-23T09:15:00+01:00")  # Monday morning: called at once
    carrier = RecordingCarrier()
    processor = make_processor(db, clock, carrier, remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, KEY, 2.0))
    postgrest.stop()  # the cloud goes away

    await processor.submit(body(), "de")
    assert await processor.tick() == 1  # calls; status calling + call_started
    await _settle(processor)
    [(to, params)] = carrier.placed
    assert to == "+49307654321" and params["request_id"] == SAMPLE["request_id"]
    assert params["direction"] == "outbound"
    await processor.on_call_status(await _sid(processor), "busy", {"request_id": SAMPLE["request_id"]})
    assert await outbox.flush() == 0
    assert outbox.last_error and "ConnectError" in outbox.last_error
    pending = await processor.store.pending_outbox()
    assert len(pending) >= 6

    postgrest.start()  # back on the same port
    assert await outbox.flush() == len(pending)
    assert await processor.store.pending_outbox() == []
    local = [e["type"] for e in await processor.store.events(SAMPLE["request_id"])]
    remote = [e["type"] for e in postgrest.rows("events")]
    assert remote == local == ["request_received", "call_started", "call_failed"]
    [row] = postgrest.rows("requests")
    assert row["status"] == "waiting_for_callback"
    # the requests were made in recorded order: row upsert first, then its changes
    methods = [m for m, path in postgrest.log if "/requests" in path]
    assert methods[0] == "POST" and set(methods[1:]) == {"PATCH"}
    await processor.stop()
    await outbox.remote.close()


async def test_wrong_service_key_keeps_changes_pending(db, postgrest):
    processor = make_processor(db, ManualClock("2026-11-28T10:00:00+01:00"), RecordingCarrier(), remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, "wrong-key", 3.0))
    await processor.submit(body(), "de")
    assert await outbox.flush() == 0
    assert "Invalid API key" in (outbox.last_error or "")
    assert "wrong-key" not in (outbox.last_error or "")
    assert postgrest.rows("requests") == []
    await outbox.remote.close()


async def _sid(processor) -> str:
    job = await processor.store.open_job(SAMPLE["request_id"])
    return job["call_sid"]


async def _settle(processor) -> None:
    from requests_support import wait_for

    await wait_for(lambda: _sid(processor))


async def test_rejected_data_is_set_aside_after_retries_and_does_not_block(db, postgrest):
    def refuse(method, table, body):
        if table == "events" and isinstance(body, dict) and body.get("type") == "scheduled":
            return 400, {"code": "22P02", "message": "invalid input syntax", "details": None, "hint": None}
        return None

    postgrest.refuse = refuse
    processor = make_processor(db, ManualClock("2026-11-28T10:00:00+01:00"), RecordingCarrier(), remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, KEY, 3.0), max_rejections=3)
    await processor.submit(body(), "de")
    assert await outbox.flush() == 2  # row, request_received; the scheduled event is refused
    assert await outbox.flush() == 0
    assert await outbox.flush() == 0  # third refusal: set aside
    assert await processor.store.pending_outbox() == []
    kept = await db.fetchall("SELECT last_error FROM request_outbox WHERE last_error LIKE 'set aside%'")
    assert len(kept) == 1 and "invalid input syntax" in kept[0]["last_error"]
    await processor.store.add_event(SAMPLE["request_id"], "error", "later change")
    assert await outbox.flush() == 1  # later changes flow again
    assert [e["type"] for e in postgrest.rows("events")] == ["request_received", "error"]
    await outbox.remote.close()


@pytest.mark.postgres
async def test_two_instances_deliver_each_change_once_in_order_on_postgres(tmp_path, postgrest):
    import asyncio

    from requests_support import database_url

    async with database_url("postgres", tmp_path) as url:
        dbs = [await Database.connect(url) for _ in range(2)]
        clock = ManualClock("2026-11-28T10:00:00+01:00")
        processors = [make_processor(d, clock, RecordingCarrier(), remote=True) for d in dbs]
        outboxes = [Outbox(p.store, SupabaseOutcomeStore(postgrest.url, KEY, 3.0)) for p in processors]
        ids = [f"c0ffee00-0000-4000-8000-{i:012d}" for i in range(6)]
        for i, rid in enumerate(ids):
            await processors[i % 2].submit(body(request_id=rid), "de")
        delivered = 0
        for _ in range(5):
            delivered += sum(await asyncio.gather(*(o.flush() for o in outboxes)))
        assert delivered == 6 * 3  # row upsert and 2 events per request; none twice
        assert sorted(r["id"] for r in postgrest.rows("requests")) == ids
        for rid in ids:
            types = [e["type"] for e in postgrest.rows("events") if e["request_id"] == rid]
            assert types == ["request_received", "scheduled"]
        for o in outboxes:
            await o.remote.close()
        for d in dbs:
            await d.close()


async def test_a_column_the_migration_lacks_is_refused_as_postgrest_does(postgrest):
    """The protocol server knows supabase/migrations' columns: a typo in a write is PostgREST's 400 PGRST204
    through the real client, not a silently stored key."""
    import httpx
    from postgrest.exceptions import APIError

    from api.requests.store import REMOTE_FIELDS

    assert set(REMOTE_FIELDS) <= postgrest.columns["requests"]  # every field we send is a migration column
    remote = SupabaseOutcomeStore(postgrest.url, KEY, 3.0)
    rid = SAMPLE["request_id"]
    await remote.deliver("upsert_request", {"id": rid, "user_id": SAMPLE["user_id"], "title": "t"})
    with pytest.raises(APIError) as refused:
        await remote.deliver("update_request", {"id": rid, "fields": {"stauts": "booked"}})
    assert refused.value.code == "PGRST204"
    assert "'stauts' column of 'requests'" in refused.value.message
    with pytest.raises(APIError) as refused:
        await remote.deliver("insert_event", {"id": rid, "request_id": rid, "kind": "error", "message": ""})
    assert refused.value.code == "PGRST204"
    await remote.close()
    assert postgrest.rows("events") == []
    assert [r.get("status") for r in postgrest.rows("requests")] == [None]  # the typo changed nothing

    headers = {"apikey": KEY, "Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=postgrest.url, headers=headers) as client:
        r = await client.patch(f"/rest/v1/requests?id=eq.{rid}", json={"sumary": "x"})
        assert r.status_code == 400
        assert r.json() == {
            "code": "PGRST204",
            "details": None,
            "hint": None,
            "message": "Could not find the 'sumary' column of 'requests' in the schema cache",
        }
        r = await client.get("/rest/v1/requests?reqest_id=eq.1")
        assert (r.status_code, r.json()["code"]) == (400, "42703")
        r = await client.post("/rest/v1/request", json={"id": rid})
        assert (r.status_code, r.json()["code"]) == (404, "PGRST205")


async def test_a_column_missing_in_supabase_keeps_the_change_pending_and_named(db, postgrest):
    """A write the schema cache refuses (our typo, or a migration not yet applied) is no data error: the
    change waits (applying the migration makes it deliverable) and the error names the column."""
    processor = make_processor(db, ManualClock("2026-11-28T10:00:00+01:00"), RecordingCarrier(), remote=True)
    outbox = Outbox(processor.store, SupabaseOutcomeStore(postgrest.url, KEY, 3.0), max_rejections=1)
    await processor.submit(body(), "de")
    assert await outbox.flush() == 3
    async with db.transaction() as conn:  # the change a misspelt field would enqueue
        await processor.store._enqueue(
            conn, "update_request", {"id": SAMPLE["request_id"], "fields": {"sumary": "x"}}
        )
    assert await outbox.flush() == 0
    assert "PGRST204" in (outbox.last_error or "") and "sumary" in (outbox.last_error or "")
    assert len(await processor.store.pending_outbox()) == 1
    assert "sumary" not in postgrest.rows("requests")[0]
    postgrest.columns["requests"].add("sumary")  # the column arrives in Supabase
    assert await outbox.flush() == 1
    assert postgrest.rows("requests")[0]["sumary"] == "x"
    await outbox.remote.close()
