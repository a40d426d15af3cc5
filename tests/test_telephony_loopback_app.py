"""The loopback carrier end to end: the app's own carrier rings a simulated party, which talks with Lisa
over the app's real ``/twilio/media`` WebSocket and voice pipeline (embedded models)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from call_support import record_call_statuses
from doubles.party_voice import party_speech

from simulation.media_stream_client import MediaStreamClient

pytestmark = pytest.mark.voice


async def test_party_reached_through_the_app_carrier_talks_with_lisa(app_server) -> None:
    server = await app_server()
    carrier = server.state.telephony.carrier
    assert carrier.name == "loopback"
    statuses = record_call_statuses(server.state.telephony.statuses)
    question = await asyncio.to_thread(party_speech, "What are your opening hours?")
    seen: dict[str, object] = {}

    async def caller(call: MediaStreamClient) -> None:
        # inbound: Lisa greets first (two sentences, synthesized one after the other: allow a pause between)
        greeting = await call.wait_lisa_done(timeout=20, settle=1.2)
        seen["greeting"] = greeting
        await call.send_audio(question)
        seen["answer"] = await call.wait_lisa_done(timeout=30)
        seen["marks"] = list(call.marks)

    carrier.register_party("+4930123456", caller)
    sid = await carrier.place_call("+4930123456", {"direction": "inbound", "from": "+4915199999"})
    await carrier.wait_idle(timeout=90)

    assert [s for c, s, _ in statuses if c == sid] == ["queued", "ringing", "in-progress", "completed"], (
        statuses
    )
    greeting = seen["greeting"]
    answer = seen["answer"]
    # Lisa said something substantial (her first phrase alone may be ~0.5 s: "Hello,")
    assert greeting and sum(u.duration_ms for u in greeting) > 1000
    assert answer and sum(u.duration_ms for u in answer) > 500
    assert seen["marks"], "Lisa's marks were echoed after playback"
    assert statuses[-1][2]["EndedBy"] == "party"

    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(50):  # the record is finalised right after the stream closes
            resp = await client.get(f"/api/calls/{sid}")
            if resp.status_code == 200 and resp.json().get("ended_at"):
                break
            await asyncio.sleep(0.1)
        assert resp.status_code == 200, resp.text
        record = resp.json()
    assert record["direction"] == "inbound"
    assert "+4915199999" not in resp.text  # numbers are masked
    lisa_lines = [t["text"] for t in record["transcript"] if t["speaker"] == "lisa"]
    assert len(lisa_lines) >= 2, record["transcript"]


async def test_lisa_hangs_up_through_the_loopback_carrier(app_server) -> None:
    server = await app_server()
    carrier = server.state.telephony.carrier
    statuses = record_call_statuses(server.state.telephony.statuses)
    bye = await asyncio.to_thread(party_speech, "That's all, thank you. Goodbye!")
    closed_by_lisa: list[bool] = []

    async def caller(call: MediaStreamClient) -> None:
        await call.wait_lisa_done(timeout=20)
        await call.send_audio(bye)
        await call.wait_lisa_done(timeout=30)
        await call.wait_closed(timeout=15)
        closed_by_lisa.append(call.closed_by_server)

    carrier.register_party("+4930654321", caller)
    sid = await carrier.place_call("+4930654321", {"direction": "inbound"})
    await carrier.wait_idle(timeout=90)
    final = [(s, info) for c, s, info in statuses if c == sid][-1]
    assert final[0] == "completed"
    assert final[1]["EndedBy"] == "lisa", final
    assert closed_by_lisa == [True]


async def test_dtmf_zero_transfers_through_the_loopback_carrier(app_server) -> None:
    server = await app_server()
    carrier = server.state.telephony.carrier
    statuses = record_call_statuses(server.state.telephony.statuses)
    transferred: list[bool] = []

    async def caller(call: MediaStreamClient) -> None:
        await call.wait_lisa_done(timeout=20)
        assert await call.send_dtmf("0")
        await call.wait_closed(timeout=30)  # Lisa says she connects us, then the stream ends
        transferred.append(call.closed_by_server)

    carrier.register_party("+4930777888", caller)
    sid = await carrier.place_call("+4930777888", {"direction": "inbound"})
    await carrier.wait_idle(timeout=90)
    assert transferred == [True]
    assert len(carrier.transfers) == 1 and carrier.transfers[0][0] == sid
    assert carrier.transfers[0][1].replace(" ", "") == "+49305550199"  # the business profile's number
    final = [info for c, s, info in statuses if c == sid and s == "completed"]
    assert final and final[0]["EndedBy"] == "lisa" and final[0]["TransferredTo"]
