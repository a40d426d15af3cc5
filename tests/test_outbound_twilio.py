"""Outbound requests on ``LISA_TELEPHONY=twilio``: the real twilio client against the local Twilio REST
protocol server, which plays Twilio's side with signed status callbacks to the app's ``/twilio/status``:
voicemail (answering-machine detection) and busy lines become ``waiting_for_callback``; cancel hangs up."""

from __future__ import annotations

import httpx
import pytest
from conftest import ManualClock
from fakes.twilio_rest_protocol_server import TwilioRestProtocolServer
from requests_support import SAMPLE, wait_for

ACCOUNT = "AC" + "2" * 32
TOKEN = "rest-token-for-request-tests"
PUBLIC = "https://lisa.example.com"
RID = SAMPLE["request_id"]


@pytest.fixture
def twilio():
    with TwilioRestProtocolServer(ACCOUNT, TOKEN) as server:
        yield server


@pytest.fixture
async def server(app_server, twilio, monkeypatch):
    for key, value in {
        "LISA_TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TWILIO_VALIDATE_SIGNATURE": "true",
        "LISA_ALLOW_UNAUTHENTICATED_TWILIO": "true",  # the API's bearer auth is not under test here
        "SCHEDULER_POLL_S": "0.05",
        "OUTBOUND_MAX_ATTEMPTS": "3",
    }.items():
        monkeypatch.setenv(key, value)
    return await app_server(api={"public_url": PUBLIC}, clock=ManualClock("2026-11-23T09:15:00+01:00"))


async def submit_and_get_call(server, twilio) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post("/api/process-request", json=SAMPLE)
    assert r.json()["status"] == "accepted"
    await wait_for(lambda: twilio.calls)
    [sid] = list(twilio.calls)
    call = twilio.calls[sid]
    assert call.to == "+49307654321"
    assert call.machine_detection  # answering-machine detection is asked for
    return sid


async def request(server) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return (await client.get(f"/api/requests/{RID}")).json()


async def test_voicemail_is_hung_up_and_waits_for_callback(server, twilio):
    sid = await submit_and_get_call(server, twilio)
    codes = await twilio.answer(sid, answered_by="machine_end_beep", rewrite_base=server.url)
    assert set(codes) == {200}
    data = await wait_for(lambda: _status(server, "waiting_for_callback"))
    assert twilio.calls[sid].status == "completed"  # hung up through the REST API
    assert data["events"][-1]["type"] == "call_failed"
    assert "voicemail" in data["events"][-1]["message"] and "attempt 1 of 3" in data["events"][-1]["message"]


async def test_busy_line_waits_for_callback(server, twilio):
    sid = await submit_and_get_call(server, twilio)
    await twilio.answer(
        sid, statuses=("initiated", "ringing", "busy"), answered_by=None, rewrite_base=server.url
    )
    data = await wait_for(lambda: _status(server, "waiting_for_callback"))
    assert data["events"][-1]["message"].startswith("The line was busy (attempt 1 of 3)")


async def test_cancel_while_ringing_hangs_up(server, twilio):
    sid = await submit_and_get_call(server, twilio)
    await twilio.answer(sid, statuses=("initiated", "ringing"), answered_by=None, rewrite_base=server.url)
    await wait_for(lambda: _has_call_sid(server))
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post(f"/api/requests/{RID}/cancel")
    assert r.status_code == 200
    assert twilio.calls[sid].status in ("completed", "canceled")
    await twilio.answer(sid, statuses=("canceled",), answered_by=None, rewrite_base=server.url)
    assert (await request(server))["status"] == "canceled"


async def _status(server, status: str):
    data = await request(server)
    return data if data["status"] == status else None


async def _has_call_sid(server):
    return (await request(server)).get("call_sid")
