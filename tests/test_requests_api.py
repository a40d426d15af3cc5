"""``POST /api/process-request`` and friends through the real app (uvicorn, SQLite/PostgreSQL, the loopback
carrier): validation, idempotency, auth, cancel, the Supabase path, restarts and two instances."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from conftest import ManualClock
from fakes.postgrest_protocol_server import PostgrestProtocolServer
from requests_support import SAMPLE, database_url, wait_for

RID = SAMPLE["request_id"]
MONDAY = "2026-11-23T09:15:00+01:00"
SATURDAY = "2026-11-28T11:00:00+01:00"


@pytest.fixture(autouse=True)
def fast_requests(monkeypatch):
    monkeypatch.setenv("SCHEDULER_POLL_S", "0.05")
    monkeypatch.setenv("OUTBOX_RETRY_S", "0.1")
    monkeypatch.setenv("OUTBOUND_MAX_ATTEMPTS", "1")


async def get(server, rid=RID, **kw) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        return await client.get(f"/api/requests/{rid}", **kw)


async def post(server, path, **kw) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        return await client.post(path, **kw)


async def final_status(server, rid=RID, statuses=("booked", "failed", "canceled", "waiting_for_callback")):
    async def done():
        r = await get(server, rid)
        return r.json() if r.status_code == 200 and r.json()["status"] in statuses else None

    return await wait_for(done, within=20)


async def test_accepted_call_with_nobody_answering_fails_with_the_reason(app_server):
    server = await app_server(clock=ManualClock(MONDAY))
    r = await post(server, "/api/process-request", json=SAMPLE)
    assert r.status_code == 200
    assert r.json() == {"status": "accepted", "request_id": RID, "message": "Request is being processed"}
    data = await final_status(server)  # no party registered on the loopback carrier: no-answer
    assert data["status"] == "failed"
    assert [e["type"] for e in data["events"]] == ["request_received", "call_started", "call_failed"]
    assert data["events"][1]["message"] == "Voice AI started calling +49 30 7654321 (attempt 1 of 1)"
    assert data["events"][2]["message"].startswith("Nobody answered (attempt 1 of 1)")
    assert data["updated_at"] >= data["created_at"]
    [(_, to, params)] = server.state.telephony.carrier.placed
    assert to == "+49307654321" and params["request_id"] == RID and params["direction"] == "outbound"
    assert params["language"] == "en"  # a German request, but the embedded Whisper hears English only
    assert (await get(server)).json()["language"] == "de"  # summaries stay in the request's language


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"number_to_call": "call me maybe"}, "number_to_call"),
        ({"callback_number": "12"}, "callback_number"),
        ({"user_profile": "Max"}, "user_profile"),
        ({"request_id": ""}, "request_id"),
    ],
)
async def test_bad_body_gets_422_naming_the_field_and_leaves_no_row(app_server, change, field):
    server = await app_server(clock=ManualClock(MONDAY))
    body = {**SAMPLE, **change}
    if change.get("title", "") is None:
        del body["title"]
    r = await post(server, "/api/process-request", json=body)
    assert r.status_code == 422
    assert r.json()["status"] == "error" and field in r.json()["error"]
    assert any(field in d["loc"] for d in r.json()["detail"])
    rows = await server.state.db.fetchall("SELECT id FROM requests")
    assert rows == []
    assert not server.state.telephony.carrier.placed


async def test_malformed_json_is_422(app_server):
    server = await app_server()
    r = await post(
        server, "/api/process-request", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"].startswith("body")
    r = await post(server, "/api/process-request", json=[SAMPLE])
    assert r.status_code == 422


async def test_missing_number_to_call_is_recorded_as_failed(app_server):
    server = await app_server(clock=ManualClock(MONDAY))
    r = await post(server, "/api/process-request", json={**SAMPLE, "number_to_call": None})
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "request_id": RID,
        "error": "number_to_call is required to place a call",
    }
    data = (await get(server)).json()
    assert data["status"] == "failed"
    assert [e["type"] for e in data["events"]] == ["request_received", "error"]
    assert not server.state.telephony.carrier.placed


async def test_outside_business_hours_is_scheduled_and_repeats_are_idempotent(app_server):
    server = await app_server(clock=ManualClock(SATURDAY))
    first, second = await asyncio.gather(
        post(server, "/api/process-request", json=SAMPLE), post(server, "/api/process-request", json=SAMPLE)
    )
    answers = sorted([first.json(), second.json()], key=lambda a: "request_status" in a)
    assert answers[0]["status"] == "scheduled" and answers[0]["scheduled_for"] == "2026-11-30T08:00:00+01:00"
    assert answers[1]["status"] == "scheduled" and answers[1]["request_status"] == "outside_business_hours"
    data = (await get(server)).json()
    assert data["status"] == "outside_business_hours"
    assert [e["type"] for e in data["events"]] == ["request_received", "scheduled"]
    assert "Montag, 30.11., 08:00 Uhr" in data["events"][1]["message"]
    jobs = await server.state.db.fetchall("SELECT * FROM request_jobs")
    assert len(jobs) == 1
    other_user = {**SAMPLE, "user_id": "someone-else"}
    r = await post(server, "/api/process-request", json=other_user)
    assert r.status_code == 409


async def test_cancel(app_server):
    server = await app_server(clock=ManualClock(SATURDAY))
    await post(server, "/api/process-request", json=SAMPLE)
    r = await post(server, f"/api/requests/{RID}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert (await get(server)).json()["status"] == "canceled"
    again = await post(server, f"/api/requests/{RID}/cancel")  # idempotent: the request as it is
    assert again.status_code == 200
    assert again.json() == {
        "status": "canceled",
        "request_id": RID,
        "message": "Request is already canceled; nothing to cancel",
        "request_status": "canceled",
    }
    assert (await post(server, "/api/requests/nope/cancel")).status_code == 404
    assert (await get(server, "nope")).status_code == 404
    jobs = await server.state.db.fetchall("SELECT result FROM request_jobs")
    assert [j["result"] for j in jobs] == ["canceled"]


async def test_bearer_auth(app_server):
    secret = "test-jwt-secret-of-at-least-32-bytes!!"
    server = await app_server(
        api={"auth_enabled": True, "supabase_jwt_secret": secret}, clock=ManualClock(SATURDAY)
    )

    def token(sub: str) -> dict[str, str]:
        claims = {"sub": sub, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600}
        return {"Authorization": "Bearer " + jwt.encode(claims, secret, algorithm="HS256")}

    assert (await post(server, "/api/process-request", json=SAMPLE)).status_code == 401
    bad = {
        "Authorization": "Bearer "
        + jwt.encode({"sub": SAMPLE["user_id"]}, "wrong-secret-wrong-secret-wrong!!")
    }
    assert (await post(server, "/api/process-request", json=SAMPLE, headers=bad)).status_code == 401
    forever = {"sub": SAMPLE["user_id"], "role": "authenticated", "aud": "authenticated"}  # no exp
    r = await post(
        server,
        "/api/process-request",
        json=SAMPLE,
        headers={"Authorization": "Bearer " + jwt.encode(forever, secret)},
    )
    assert r.status_code == 401 and "exp" in r.text
    r = await post(server, "/api/process-request", json=SAMPLE, headers=token("another-user"))
    assert r.status_code == 403 and "user_id" in r.json()["error"]
    assert await server.state.db.fetchall("SELECT id FROM requests") == []
    r = await post(server, "/api/process-request", json=SAMPLE, headers=token(SAMPLE["user_id"]))
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    assert (await get(server, headers=token(SAMPLE["user_id"]))).status_code == 200
    assert (await get(server, headers=token("another-user"))).status_code == 403
    assert (await get(server)).status_code == 401
    r = await post(server, f"/api/requests/{RID}/cancel", headers=token("another-user"))
    assert r.status_code == 403
    async with httpx.AsyncClient(base_url=server.url) as client:
        mine = await client.get("/api/requests", headers=token(SAMPLE["user_id"]))
        assert [r["id"] for r in mine.json()["requests"]] == [RID]
        theirs = await client.get("/api/requests", headers=token("another-user"))
        assert theirs.json() == {"requests": []}
        spying = await client.get(f"/api/requests?user_id={SAMPLE['user_id']}", headers=token("another-user"))
        assert spying.status_code == 403
        assert (await client.get("/api/requests")).status_code == 401


async def test_supabase_outcome_store_through_the_app(app_server):
    key = "service-role-key"
    postgrest = PostgrestProtocolServer(key).start()
    try:
        server = await app_server(
            api={"supabase_url": postgrest.url, "supabase_service_key": key}, clock=ManualClock(MONDAY)
        )
        r = await post(server, "/api/process-request", json={**SAMPLE, "request_id": "test-uuid"})
        assert r.status_code == 422 and r.json()["error"].startswith("request_id: must be a UUID")
        await post(server, "/api/process-request", json=SAMPLE)

        def remote_failed():
            rows = postgrest.rows("requests")
            return rows and rows[0]["status"] == "failed" and len(postgrest.rows("events")) == 3

        await wait_for(remote_failed, within=20)
        assert [e["type"] for e in postgrest.rows("events")] == [
            "request_received",
            "call_started",
            "call_failed",
        ]
        assert key not in str(postgrest.rows("requests"))
    finally:
        postgrest.stop()


async def test_restart_outside_business_hours_calls_at_monday_opening(app_server, tmp_path):
    db = f"sqlite:///{tmp_path}/restart.db"
    first = await app_server(database_url=db, clock=ManualClock(SATURDAY))
    assert (await post(first, "/api/process-request", json=SAMPLE)).json()["status"] == "scheduled"
    await first.stop()

    clock = ManualClock("2026-11-30T07:59:59+01:00")
    second = await app_server(database_url=db, clock=clock)
    await asyncio.sleep(0.3)
    assert (await get(second)).json()["status"] == "outside_business_hours"
    assert not second.state.telephony.carrier.placed
    clock.advance(2)  # Monday 08:00:01
    data = await final_status(second)
    assert [e["type"] for e in data["events"]] == [
        "request_received",
        "scheduled",
        "call_started",
        "call_failed",
    ]
    assert len(second.state.telephony.carrier.placed) == 1


@pytest.mark.postgres
async def test_two_app_instances_on_one_postgres_call_each_request_once(app_server, tmp_path):
    async with database_url("postgres", tmp_path) as url:
        clock = ManualClock(SATURDAY)
        servers = [await app_server(database_url=url, clock=clock) for _ in range(2)]
        ids = [f"5e5e5e5e-0000-4000-8000-{i:012d}" for i in range(8)]
        for i, rid in enumerate(ids):
            r = await post(servers[i % 2], "/api/process-request", json={**SAMPLE, "request_id": rid})
            assert r.json()["status"] == "scheduled"
        clock.advance(2 * 24 * 3600 - 3 * 3600 + 60)  # Monday 08:01: both schedulers see every job due
        for rid in ids:
            await final_status(servers[0], rid)
        placed = [p[2]["request_id"] for s in servers for p in s.state.telephony.carrier.placed]
        assert sorted(placed) == sorted(ids)
        for rid in ids:
            data = (await get(servers[1], rid)).json()
            assert [e["type"] for e in data["events"]].count("call_started") == 1
        for s in servers:
            await s.stop()
