"""The operator console's HTTP side through the real app (uvicorn, SQLite): sign-in and its cookie, CSRF,
sign-out, the page's CSP, the live stream, requests (cancel, call now, retry), chats and bookings."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest
from conftest import ManualClock
from requests_support import SAMPLE, wait_for
from team_chat_support import team_env  # noqa: F401 - a fixture

from agent.calendar import Booking
from api.bookings.store import DatabaseCalendar
from api.console.routes import RequestStatus
from api.requests.models import STATUSES

SECRET = "console-test-secret-0123456789abcdef-xyz"
SATURDAY = "2026-11-28T11:00:00+01:00"
MONDAY = "2026-11-23T09:15:00+01:00"
RID = SAMPLE["request_id"]


def token(role: str = "service_role", sub: str | None = None, **claims) -> str:
    body = {"role": role, "exp": int(time.time()) + 600, **claims}
    if sub:
        body["sub"] = sub
    return jwt.encode(body, SECRET, algorithm="HS256")


@pytest.fixture(autouse=True)
def fast_requests(monkeypatch):
    monkeypatch.setenv("SCHEDULER_POLL_S", "0.05")
    monkeypatch.setenv("OUTBOUND_MAX_ATTEMPTS", "1")


async def auth_on(app_server, **kw):
    return await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET}, **kw)


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign ``client`` in with a service-role token; the session's CSRF token."""
    r = await client.post("/console/api/session", json={"token": token()})
    assert r.status_code == 200, r.text
    return r.json()["csrf"]


async def test_sign_in_exchanges_a_token_once_for_an_httponly_samesite_cookie(app_server):
    server = await auth_on(app_server)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.get("/console/api/session")).status_code == 401
        assert (await client.get("/console/api/calls")).status_code == 401
        assert (await client.get("/console/api/calls/CA1/timeline.svg")).status_code == 401
        bad = await client.post("/console/api/session", json={"token": "not-a-jwt"})
        assert bad.status_code == 401 and "sign-in refused" in bad.json()["detail"]
        user = await client.post(
            "/console/api/session", json={"token": token("authenticated", "u1", aud="authenticated")}
        )
        assert user.status_code == 403
        missing = await client.post("/console/api/session", json={})
        assert missing.status_code == 401 and "give a token" in missing.json()["detail"]
        r = await client.post("/console/api/session", json={"token": token()})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "lisa_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert "path=/console" in cookie
        body = r.json()
        assert body["auth"] == "on" and body["role"] == "service_role" and len(body["csrf"]) > 20
        assert body["timezone"] == "Europe/Berlin"
        assert token() not in r.text  # the token is never echoed
        again = await client.get("/console/api/session")
        assert again.status_code == 200 and again.json()["csrf"] == body["csrf"]
        assert (await client.get("/console/api/calls")).json() == {"calls": []}
        stored = await server.state.db.fetchall("SELECT token_hash FROM console_sessions")
        assert len(stored) == 1 and client.cookies["lisa_console"] not in stored[0]["token_hash"]
    async with httpx.AsyncClient(
        base_url=server.url, timeout=10
    ) as script:  # no cookie: a header per request
        service = {"Authorization": f"Bearer {token()}"}
        user = {"Authorization": f"Bearer {token('authenticated', 'u1', aud='authenticated')}"}
        assert (await script.get("/console/api/counters", headers=service)).status_code == 200
        assert (await script.get("/console/api/counters", headers=user)).status_code == 403
        bad = {"Authorization": "Bearer nonsense"}
        assert (await script.get("/console/api/counters", headers=bad)).status_code == 401
        who = await script.get("/console/api/session", headers=service)
        assert who.status_code == 200 and who.json()["csrf"] == "" and "set-cookie" not in who.headers
        # a header is never sent by the browser on its own: no CSRF token needed with it
        assert (await script.post("/console/api/requests/nope/cancel", headers=service)).status_code == 404


async def test_writes_need_the_csrf_token_and_our_origin_and_sign_out_ends_the_session(app_server):
    server = await auth_on(app_server, clock=ManualClock(SATURDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = await sign_in(client)
        r = await client.post(
            "/api/process-request", json=SAMPLE, headers={"Authorization": f"Bearer {token()}"}
        )
        assert r.status_code == 200
        cancel = f"/console/api/requests/{RID}/cancel"
        no_csrf = await client.post(cancel)
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
        wrong = await client.post(cancel, headers={"X-CSRF-Token": "x" * 32})
        assert wrong.status_code == 403
        other_site = await client.post(
            cancel, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
        )
        assert other_site.status_code == 403 and "cross-origin" in other_site.json()["detail"]
        assert (await client.get(f"/console/api/requests/{RID}")).json()["status"] == "outside_business_hours"
        ok = await client.post(cancel, headers={"X-CSRF-Token": csrf, "Origin": server.url})
        assert ok.status_code == 200 and ok.json()["status"] == "canceled"
        assert (await client.delete("/console/api/session")).status_code == 403  # sign-out is a write too
        out = await client.delete("/console/api/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200 and "lisa_console=" in out.headers["set-cookie"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as stale:  # the old cookie, replayed
        stale.cookies.set("lisa_console", client.cookies.get("lisa_console") or "gone", path="/console")
        assert (await stale.get("/console/api/requests")).status_code == 401


async def test_with_auth_off_the_console_opens_directly_and_the_page_has_a_strict_csp(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        page = await client.get("/console")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "sha256-" not in csp  # no inline script or style at all
        assert "media-src 'self'" in csp  # the recordings' audio player
        assert page.headers["x-frame-options"] == "DENY"
        for name, kind in (("console.js", "javascript"), ("console.css", "css")):
            asset = await client.get(f"/console/static/{name}")
            assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert (await client.get("/console/static/..%2Fsessions.py")).status_code == 404
        r = await client.get("/console/api/session")
        assert r.status_code == 200 and r.json()["auth"] == "off" and r.json()["operator"] == "auth off"
        assert "httponly" in r.headers["set-cookie"].lower()
        counters = (await client.get("/console/api/counters")).json()
        assert counters == {
            "calls_in_progress": 0,
            "chats_active": 0,
            "requests_waiting": 0,
            "requests_calling": 0,
            "requests_booked_today": 0,
            "bookings_today": 0,
        }
        assert (await client.post("/console/api/requests/x/cancel")).status_code == 403  # CSRF, auth off too


async def read_events(response: httpx.Response, into: list[dict]) -> None:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            into.append(json.loads(line[6:]))


async def test_the_live_stream_carries_request_changes_and_fresh_counters(app_server):
    server = await app_server(clock=ManualClock(SATURDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = (await client.get("/console/api/session")).json()["csrf"]
        events: list[dict] = []
        async with client.stream("GET", "/console/api/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_events(stream, events))
            try:
                await wait_for(lambda: events or None, within=5)
                assert events[0]["kind"] == "counters"
                assert (await client.post("/api/process-request", json=SAMPLE)).status_code == 200

                def request_event(status):
                    return lambda: next(
                        (e for e in events if e["kind"] == "request" and e["status"] == status), None
                    )

                created = await wait_for(request_event("outside_business_hours"), within=5)
                assert created["request_id"] == RID and created["title"] == SAMPLE["title"]
                counted = await wait_for(
                    lambda: next(
                        (
                            e
                            for e in events
                            if e["kind"] == "counters" and e["counters"]["requests_waiting"] == 1
                        ),
                        None,
                    ),
                    within=5,
                )
                assert counted["counters"]["requests_calling"] == 0
                r = await client.post(f"/console/api/requests/{RID}/cancel", headers={"X-CSRF-Token": csrf})
                assert r.status_code == 200
                await wait_for(request_event("canceled"), within=5)
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)


async def test_request_page_names_the_next_call_and_refuses_call_now_outside_hours(app_server):
    server = await app_server(clock=ManualClock(SATURDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = (await client.get("/console/api/session")).json()["csrf"]
        await client.post("/api/process-request", json=SAMPLE)
        detail = (await client.get(f"/console/api/requests/{RID}")).json()
        assert detail["status"] == "outside_business_hours"
        assert detail["next_attempt_at"].startswith("2026-11-30T07:00")  # Monday 08:00 Berlin
        assert detail["number_to_call"] == "+49******321" and "user_id" not in detail
        assert detail["calls"] == [] and detail["events"][0]["type"] == "request_received"
        refused = await client.post(f"/console/api/requests/{RID}/call-now", headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 409 and "outside business hours" in refused.json()["detail"]
        not_failed = await client.post(f"/console/api/requests/{RID}/retry", headers={"X-CSRF-Token": csrf})
        assert not_failed.status_code == 409
        listed = (
            await client.get("/console/api/requests", params={"status": "outside_business_hours"})
        ).json()
        assert [r["id"] for r in listed["requests"]] == [RID]
        assert (await client.get("/console/api/requests", params={"status": "booked"})).json() == {
            "requests": []
        }
        assert (await client.get("/console/api/requests", params={"day": "2026-11-27"})).json() == {
            "requests": []
        }
        bad = await client.get("/console/api/requests", params={"status": "nonsense"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
        assert get_args(RequestStatus) == STATUSES  # the filter's choices are seed 002's statuses
        assert (await client.get("/console/api/requests/nope")).status_code == 404
        assert (
            await client.post("/console/api/requests/nope/cancel", headers={"X-CSRF-Token": csrf})
        ).status_code == 404


async def test_call_now_brings_a_waiting_retry_forward_and_retry_gives_a_failed_request_one_more_call(
    app_server, monkeypatch
):
    monkeypatch.setenv("OUTBOUND_MAX_ATTEMPTS", "2")  # a first no-answer waits 15 minutes for the second call
    server = await app_server(clock=ManualClock(MONDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = (await client.get("/console/api/session")).json()["csrf"]
        await client.post("/api/process-request", json=SAMPLE)  # nobody answers on the loopback carrier

        def status_is(status, attempts):
            async def check():
                d = (await client.get(f"/console/api/requests/{RID}")).json()
                return d if d["status"] == status and d["attempts"] == attempts else None

            return check

        waiting = await wait_for(status_is("waiting_for_callback", 1), within=20)
        assert waiting["next_attempt_at"] == "2026-11-23T08:30:00.000+00:00"  # 15 min later: 09:30 Berlin
        r = await client.post(f"/console/api/requests/{RID}/call-now", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        failed = await wait_for(status_is("failed", 2), within=20)
        assert "Call brought forward by the operator" in [e["message"] for e in failed["events"]]
        assert len(server.state.telephony.carrier.placed) == 2
        retry = await client.post(f"/console/api/requests/{RID}/retry", headers={"X-CSRF-Token": csrf})
        assert retry.status_code == 200 and retry.json()["action"] == "retry"
        again = await wait_for(status_is("failed", 3), within=20)
        assert "Retry requested by the operator" in [e["message"] for e in again["events"]]
        assert len(server.state.telephony.carrier.placed) == 3


async def test_chats_as_the_manager_and_bookings_of_a_day_and_a_week(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = (await client.get("/console/api/session")).json()["csrf"]
        chat_id = (await client.post("/api/v1/sessions", json={"language": "en"})).json()["session_id"]
        listed = (await client.get("/console/api/chats")).json()["chats"]
        assert [c["session_id"] for c in listed] == [chat_id]
        sent = await client.post(
            f"/console/api/chats/{chat_id}/send",
            json={"content": "Hello from the desk"},
            headers={"X-CSRF-Token": csrf},
        )
        assert sent.status_code == 200 and sent.json()["taken_over_by"] == "Manager"
        messages = (await client.get(f"/console/api/chats/{chat_id}/messages")).json()
        assert messages["messages"][-1]["content"] == "Hello from the desk"
        assert messages["messages"][-1]["sender"] == "manager"
        released = await client.post(f"/console/api/chats/{chat_id}/release", headers={"X-CSRF-Token": csrf})
        assert released.status_code == 200 and released.json()["taken_over_by"] is None
        empty = await client.post(
            f"/console/api/chats/{chat_id}/send", json={"content": ""}, headers={"X-CSRF-Token": csrf}
        )
        assert empty.status_code == 422
        assert (await client.get("/console/api/chats/unknown/messages")).status_code == 404

        berlin = ZoneInfo("Europe/Berlin")
        calendar = DatabaseCalendar(server.state.db)
        for day, hour, name in ((23, 10, "Max"), (23, 23, "Late Night"), (25, 9, "Erika")):
            start = datetime(2026, 11, day, hour, 0, tzinfo=berlin)
            assert await calendar.add(Booking(start, start + timedelta(minutes=30), name, "cleaning"))
        day = (await client.get("/console/api/bookings", params={"day": "2026-11-23"})).json()
        assert [b["name"] for b in day["bookings"]] == ["Max", "Late Night"]  # 23:00 Berlin is that day
        week = (await client.get("/console/api/bookings", params={"day": "2026-11-23", "days": 7})).json()
        assert [b["name"] for b in week["bookings"]] == ["Max", "Late Night", "Erika"]
        counters = (await client.get("/console/api/counters")).json()
        assert counters["bookings_today"] == 2 and counters["chats_active"] == 1  # Lisa's clock: Mon 23 Nov
        groups = (await client.get("/console/api/groups")).json()
        assert groups == {"groups": [], "available": True}


async def test_calls_list_detail_and_actions_on_an_unknown_or_ended_call(app_server):
    server = await app_server()
    store = server.state.calls.store
    await store.started(
        call_sid="CA1",
        stream_sid="MZ1",
        direction="inbound",
        from_masked="+49******321",
        to_masked="+49******199",
        request_id=None,
        conversation_id="c1",
        language="en",
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        csrf = (await client.get("/console/api/session")).json()["csrf"]
        [call] = (await client.get("/console/api/calls")).json()["calls"]
        assert call["state"] == "in_progress" and call["from_masked"] == "+49******321"
        assert (await client.get("/console/api/counters")).json()["calls_in_progress"] == 1
        turns = [
            {"user_end_ms": 1000 + 4000 * i, "stt_final_ms": 1200 + 4000 * i, "llm_first_ms": 1500 + 4000 * i,
             "tts_first_ms": 1800 + 4000 * i, "first_audio_out_ms": 1820 + 4000 * i, "latency_ms": 820}
            for i in range(3)
        ]  # fmt: skip
        await store.ended(
            "CA1", ended_by="party", reason="caller hung up", transcript=[], turns=turns, outcome={}
        )
        detail = (await client.get("/console/api/calls/CA1")).json()
        assert (
            detail["state"] == "ended" and detail["ended_by"] == "party" and detail["recording_url"] is None
        )
        ended = await client.post("/console/api/calls/CA1/hang-up", headers={"X-CSRF-Token": csrf})
        assert ended.status_code == 409
        assert (
            await client.post("/console/api/calls/CA9/transfer", headers={"X-CSRF-Token": csrf})
        ).status_code == 404
        assert (
            await client.post("/console/api/calls/CA1/explode", headers={"X-CSRF-Token": csrf})
        ).status_code == 422
        assert (await client.get("/console/api/calls/CA1/recording")).status_code == 404
        assert (await client.get("/console/api/calls/nope")).status_code == 404
        chart = await client.get("/console/api/calls/CA1/timeline.svg")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
        svg = chart.text
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg.lower()
        # one stacked bar per turn: four segments each (end of speech → STT → token → audio → sent)
        assert {f"turn {n}" for n in (1, 2, 3)} <= set(re.findall(r"turn \d", svg))
        for n in (1, 2, 3):
            assert len(re.findall(rf'id="turn-{n}-stage-\d"', svg)) == 4
        assert "STT final" in svg and "first byte sent" in svg and "820 ms" in svg
        assert (await client.get("/console/api/calls/nope/timeline.svg")).status_code == 404


async def read_stream(response: httpx.Response, into: list[dict]) -> None:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            into.append(json.loads(line[6:]))


async def test_one_request_followed_live_by_its_owner_until_its_status_is_final(app_server):
    server = await auth_on(app_server, clock=ManualClock(SATURDAY))
    owner = {"Authorization": f"Bearer {token('authenticated', SAMPLE['user_id'], aud='authenticated')}"}
    stranger = {"Authorization": f"Bearer {token('authenticated', 'someone-else', aud='authenticated')}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.post("/api/process-request", json=SAMPLE, headers=owner)).status_code == 200
        resource = (await client.get(f"/api/requests/{RID}", headers=owner)).json()
        assert resource["status"] == "outside_business_hours"
        assert resource["next_attempt_at"] == "2026-11-30T07:00:00.000+00:00"  # Monday 08:00 Berlin
        path = f"/api/requests/{RID}/events"
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=stranger)).status_code == 403
        assert (await client.get("/api/requests/unknown/events", headers=owner)).status_code == 404
        seen: list[dict] = []
        async with client.stream("GET", path, headers=owner) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_stream(stream, seen))
            await wait_for(lambda: seen or None, within=5)
            assert seen[0]["status"] == "outside_business_hours" and seen[0]["next_attempt_at"]
            canceled = await client.post(f"/api/requests/{RID}/cancel", headers=owner)
            assert canceled.status_code == 200
            await asyncio.wait_for(reader, 5)  # the stream ends after the final status
        assert seen[-1]["status"] == "canceled" and seen[-1]["next_attempt_at"] is None
        assert seen[-1]["events"][: len(resource["events"])] == resource["events"]  # the timeline only grows


@pytest.mark.usefixtures("team_env")
async def test_team_chat_operators_sign_in_with_their_password_members_do_not(app_server):
    from team_chat_support import register

    server = await auth_on(app_server)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        anna = await register(client, "Anna")
        member = await client.post(
            "/console/api/session", json={"email": anna["email"], "password": anna["password"]}
        )
        assert member.status_code == 403 and "not an operator" in member.json()["detail"]
        by_token = await client.post("/console/api/session", json={"token": anna["accessToken"]})
        assert by_token.status_code == 403
        await server.state.db.execute(
            "UPDATE team_users SET role = 'operator' WHERE email = :e", {"e": anna["email"]}
        )
        wrong = await client.post("/console/api/session", json={"email": anna["email"], "password": "nope"})
        assert wrong.status_code == 401 and "sign-in refused" in wrong.json()["detail"]
        ok = await client.post(
            "/console/api/session", json={"email": anna["email"], "password": anna["password"]}
        )
        assert ok.status_code == 200 and ok.json()["role"] == "operator" and ok.json()["operator"] == "Anna"
        assert (await client.get("/console/api/counters")).status_code == 200
