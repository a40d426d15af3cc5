"""``WS /twilio/media`` serves only streams of calls this app placed or answered (real sockets, real SQLite).

A stranger who knows a request id gets nothing: no token, a forged, reused or expired one, or one issued for
another request, call or direction closes the socket (1008, with the reason) before any briefing, request
lookup or write. With ``TWILIO_AUTH_TOKEN`` set the upgrade must also carry Twilio's signature of the
``ws(s)://`` URL. Streams per process are capped and a stream without a ``start`` is closed in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from conftest import ManualClock
from requests_support import SAMPLE
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from simulation import inbound_call
from simulation.media_stream_client import MediaStreamClient
from telephony.signature import SIGNATURE_HEADER, sign
from telephony.stream_tokens import TOKEN_PARAMETER, StreamRefused, StreamTokens

RID = SAMPLE["request_id"]
SUNDAY_NIGHT = "2026-11-22T03:00:00+01:00"  # outside business hours: the request waits, nothing calls it
TEST_TOKEN = "media-door-token-not-a-secret"


async def _stranger(url: str, params: dict[str, str], **connect) -> MediaStreamClient:
    """Open a stream as a stranger would and wait for the app to close it."""
    async with MediaStreamClient.connect(url, custom_parameters=params, continuous=False, **connect) as call:
        await call.wait_closed(timeout=10)
    return call


async def _request(server) -> dict:
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.get(f"/api/requests/{RID}")
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture
def no_twilio_env(monkeypatch):
    for key in ("TWILIO_AUTH_TOKEN", "LISA_MAX_STREAMS", "LISA_STREAM_START_TIMEOUT_S"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LISA_TELEPHONY", "loopback")
    return monkeypatch


async def test_a_stranger_never_reaches_a_request(app_server, no_twilio_env, caplog) -> None:
    server = await app_server(clock=ManualClock(SUNDAY_NIGHT))
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.post("/api/process-request", json=SAMPLE)
    assert resp.status_code == 200 and resp.json()["status"] == "scheduled", resp.text
    before = await _request(server)
    assert before["status"] == "outside_business_hours"

    tokens: StreamTokens = server.state.telephony.stream_tokens
    url = f"{server.ws_url}/twilio/media"
    outbound = {"direction": "outbound", "request_id": RID, "language": "de"}

    used = await tokens.issue("outbound", request_id=RID, call_sid="CAlegit")
    await tokens.redeem(used, direction="outbound", request_id=RID, call_sid="CAlegit")  # the real call's
    expired = await StreamTokens(server.state.db, ttl_s=0.05).issue("outbound", request_id=RID)
    other_request = await tokens.issue("outbound", request_id="another-request")
    other_call = await tokens.issue("outbound", request_id=RID, call_sid="CAsomeoneelse")
    inbound_only = await tokens.issue("inbound", call_sid="CAstranger")
    await asyncio.sleep(0.1)

    attempts = [
        ({}, "no stream token"),
        ({TOKEN_PARAMETER: "forged-" + "x" * 36}, "unknown stream token"),
        ({TOKEN_PARAMETER: used}, "already used"),
        ({TOKEN_PARAMETER: expired}, "expired"),
        ({TOKEN_PARAMETER: other_request}, "another request"),
        ({TOKEN_PARAMETER: other_call}, "another call"),
        ({TOKEN_PARAMETER: inbound_only}, "another direction"),
    ]
    for extra, reason in attempts:
        call = await _stranger(url, {**outbound, **extra}, call_sid="CAstranger")
        assert call.close_code == 1008, (reason, call.close_code, call.close_reason)
        assert reason in call.close_reason, (reason, call.close_reason)
        assert not call.chunks and not call.utterances  # not one byte of Lisa, let alone the request

    after = await _request(server)
    assert after["status"] == before["status"] == "outside_business_hours"
    assert after["events"] == before["events"]  # no call_started, no booking_confirmed, nothing
    assert await server.state.db.fetchall("SELECT call_sid FROM calls") == []
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) >= len(attempts)
    assert all("Mustermann" not in m and "+49" not in m for m in refusals)


async def test_inbound_stream_needs_the_token_of_its_call(app_server, no_twilio_env) -> None:
    """An inbound stream is served with the token of the TwiML answered for that call, once."""
    server = await app_server()
    carrier = server.state.telephony.carrier
    url = f"{server.ws_url}/twilio/media"
    async with carrier.call_in("+4915112345678", "+4930123456", continuous=False) as call:
        token = call.custom_parameters[TOKEN_PARAMETER]
        await call.wait_lisa_speaking(timeout=30)  # admitted: Lisa greets
        sid = call.call_sid
    again = await _stranger(url, {"direction": "inbound", TOKEN_PARAMETER: token}, call_sid=sid)
    assert again.close_code == 1008 and "already used" in again.close_reason
    unbound = await _stranger(url, {"direction": "inbound"})
    assert unbound.close_code == 1008 and "no stream token" in unbound.close_reason
    rows = await server.state.db.fetchall("SELECT call_sid FROM calls")
    assert [r["call_sid"] for r in rows] == [sid]


async def test_signature_on_the_upgrade_when_twilio_auth_token_is_set(app_server, monkeypatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURE", "true")
    monkeypatch.setenv("LISA_TELEPHONY", "loopback")
    server = await app_server()
    sid = "CA" + "5" * 32
    _twiml, stream_url, params = await inbound_call.ring(
        server.url, auth_token=TEST_TOKEN, from_number="+4915112345678", to_number="+4930123456", call_sid=sid
    )
    assert stream_url == f"ws://127.0.0.1:{server.port}/twilio/media" and params[TOKEN_PARAMETER]

    missing = await _closed(stream_url)
    assert missing == (1008, "invalid Twilio signature: missing")
    for wrong in (
        sign("another-token", stream_url, {}),
        sign(TEST_TOKEN, "wss://elsewhere/twilio/media", {}),
    ):
        assert await _closed(stream_url, {SIGNATURE_HEADER: wrong}) == (
            1008,
            "invalid Twilio signature: does not match",
        )

    # the refused upgrades never reached the token: signed properly, the call goes through
    signed = {SIGNATURE_HEADER: sign(TEST_TOKEN, stream_url, {})}
    async with MediaStreamClient.connect(
        stream_url, custom_parameters=params, call_sid=sid, headers=signed, continuous=False
    ) as call:
        await call.wait_lisa_speaking(timeout=30)
    # and the app's own loopback carrier signs its streams as Twilio would
    async with server.state.telephony.carrier.call_in("+4915112345678", "+4930123456") as call:
        await call.wait_lisa_speaking(timeout=30)


async def _raw(url: str, headers: dict[str, str] | None = None):
    return await ws_connect(url, open_timeout=5, additional_headers=headers)


async def _closed(url: str, headers: dict[str, str] | None = None) -> tuple[int | None, str | None]:
    """Open a socket (with ``headers`` on the upgrade); the close code and reason the app answers with."""
    ws = await _raw(url, headers)
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    return ws.close_code, ws.close_reason


async def test_a_stream_without_start_is_closed_in_time(app_server, no_twilio_env) -> None:
    no_twilio_env.setenv("LISA_STREAM_START_TIMEOUT_S", "1")
    server = await app_server()
    ws = await _raw(f"{server.ws_url}/twilio/media")
    await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    assert loop.time() - began < 4
    assert ws.close_code == 1008 and "no start message in time" in (ws.close_reason or "")


async def test_streams_per_process_are_capped(app_server, no_twilio_env, caplog) -> None:
    no_twilio_env.setenv("LISA_MAX_STREAMS", "2")
    no_twilio_env.setenv("LISA_STREAM_START_TIMEOUT_S", "30")
    server = await app_server()
    url = f"{server.ws_url}/twilio/media"
    count = server.state.calls.stream_count
    first, second = await _raw(url), await _raw(url)
    for _ in range(50):
        if count.open == 2:
            break
        await asyncio.sleep(0.05)
    assert count.open == 2
    third = await _raw(url)
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(third.recv(), 5)
    assert third.close_code == 1013 and third.close_reason == "too many media streams"
    assert any("LISA_MAX_STREAMS" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)

    await first.close()
    for _ in range(100):
        if count.open == 1:
            break
        await asyncio.sleep(0.05)
    fourth = await _raw(url)  # room again: served (and closed only for what it sends)
    await fourth.send("not json")
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(fourth.recv(), 5)
    assert fourth.close_code == 1008 and "protocol error" in (fourth.close_reason or "")
    await second.close()
    for _ in range(100):
        if count.open == 0:
            break
        await asyncio.sleep(0.05)
    assert count.open == 0 and count.refused_over_cap == 1


async def test_token_store_binds_and_is_single_use(db_url) -> None:
    """The store itself, shared by every worker on one database: two stores (two workers) see one truth."""
    from api.storage import Database

    db = await Database.connect(db_url)
    try:
        worker_a, worker_b = StreamTokens(db), StreamTokens(db)
        token = await worker_a.issue("outbound", request_id="r1")
        await worker_a.bind_call(token, "CA1")
        with pytest.raises(StreamRefused, match="another call"):
            await worker_b.redeem(token, direction="outbound", request_id="r1", call_sid="CA2")
        await worker_b.redeem(token, direction="outbound", request_id="r1", call_sid="CA1")
        with pytest.raises(StreamRefused, match="already used"):
            await worker_a.redeem(token, direction="outbound", request_id="r1", call_sid="CA1")
        # two streams racing for one token: exactly one wins
        token = await worker_a.issue("inbound", call_sid="CA3")
        results = await asyncio.gather(
            *(
                w.redeem(token, direction="inbound", request_id=None, call_sid="CA3")
                for w in (worker_a, worker_b)
            ),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["NoneType", "StreamRefused"]
        stored = await db.fetchall("SELECT token_hash FROM media_stream_tokens")
        assert stored and all(token not in row["token_hash"] for row in stored)  # only hashes are kept
        with pytest.raises(ValueError):
            await worker_a.issue("sideways")
    finally:
        with contextlib.suppress(Exception):
            await db.close()


@pytest.mark.voice
async def test_a_call_the_app_places_is_served(app_server, no_twilio_env) -> None:
    """The legitimate path: the scheduler places the request's call on the loopback carrier, which streams
    with the token it was issued; Lisa is briefed and talks, the token is spent on that call."""
    from doubles.party_voice import party_speech

    server = await app_server(clock=ManualClock("2026-11-23T09:15:00+01:00"))
    carrier = server.state.telephony.carrier
    hello = await asyncio.to_thread(party_speech, "Good morning, Smile Dental, how can I help you?")
    heard: list = []

    async def receptionist(call: MediaStreamClient) -> None:
        await call.send_audio(hello)
        heard.append(await call.wait_lisa_done(timeout=45))

    carrier.register_party(SAMPLE["number_to_call"], receptionist)
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.post("/api/process-request", json=SAMPLE)
    assert resp.json()["status"] == "accepted", resp.text
    for _ in range(600):
        if heard:
            break
        await asyncio.sleep(0.1)
    assert heard and heard[0], "Lisa answered the receptionist"
    [(sid, _to, params)] = carrier.placed
    assert TOKEN_PARAMETER not in params  # the token went to the stream only
    row = await server.state.db.fetchone(
        "SELECT direction, request_id, call_sid, used_at FROM media_stream_tokens"
    )
    assert row["direction"] == "outbound" and row["request_id"] == RID and row["call_sid"] == sid
    assert row["used_at"]
    await carrier.wait_idle(timeout=60)
    events = [e["type"] for e in (await _request(server))["events"]]
    assert "call_started" in events or "call_connected" in events, events


async def test_replayed_status_callbacks_apply_once_across_workers(db_url) -> None:
    from api.storage import Database
    from telephony.stream_tokens import AppliedStatuses

    db = await Database.connect(db_url)
    try:
        worker_a, worker_b = AppliedStatuses(db), AppliedStatuses(db)
        assert await worker_a.first_time("CA1", "in-progress")
        assert not await worker_b.first_time("CA1", "in-progress")
        assert await worker_b.first_time("CA1", "in-progress/machine_start")  # the AMD result is news
        assert await worker_a.first_time("CA2", "in-progress")
        assert not await worker_a.first_time("CA1", "in-progress/machine_start")
    finally:
        await db.close()
