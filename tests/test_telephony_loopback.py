"""LoopbackCarrier: simulated parties on a real media WebSocket, with Twilio-like call status reports.

Here the WebSocket is a small local server that plays Lisa's side of the protocol and records what it
receives; the end-to-end run through the app's own ``/twilio/media`` is in ``test_telephony_loopback_app.py``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import numpy as np
import pytest
from call_support import record_call_statuses
from websockets.asyncio.server import ServerConnection, serve

from api.cli.inprocess_server import free_port
from simulation.far_end import SimulatedFarEnd
from simulation.media_stream_client import MediaStreamClient
from telephony.audio_codec import pcm16_to_ulaw
from telephony.carrier import Carrier, CarrierError
from telephony.loopback import LoopbackCarrier
from telephony.media_stream import FRAME_BYTES, Media, OutboundMessages, Start, StreamTracker
from telephony.status import StatusBus

SILENT = b"\xff" * FRAME_BYTES


def tone_ulaw(ms: int) -> bytes:
    n = 8 * ms
    return pcm16_to_ulaw((np.sin(2 * math.pi * 440 * np.arange(n) / 8000) * 8000).astype(np.int16).tobytes())


def tone_pcm(ms: int) -> bytes:
    n = 8 * ms
    return (np.sin(2 * math.pi * 300 * np.arange(n) / 8000) * 8000).astype(np.int16).tobytes()


class FakeLisa:
    """Lisa's side of the media protocol: greets, answers once per party utterance, records everything."""

    def __init__(self) -> None:
        self.starts: list[Start] = []
        self.heard_frames: dict[str, int] = {}
        self.on_start: Callable[[str, ServerConnection, OutboundMessages], Awaitable[None]] | None = None
        self.closed_calls: list[str] = []

    async def handler(self, ws: ServerConnection) -> None:
        tracker = StreamTracker()
        out: OutboundMessages | None = None
        call_sid = ""
        voiced = 0
        answered_at = 0
        answers = 0
        try:
            async for raw in ws:
                message = tracker.feed(raw)
                if isinstance(message, Start):
                    self.starts.append(message)
                    call_sid = message.call_sid
                    out = OutboundMessages(message.stream_sid)
                    await self.say(ws, out, 300, "greeting")
                    if self.on_start is not None:
                        asyncio.create_task(self.on_start(call_sid, ws, out))
                elif isinstance(message, Media) and out is not None:
                    if message.payload != SILENT:
                        voiced += 1
                        self.heard_frames[call_sid] = voiced
                    elif voiced > answered_at:  # the party paused after speaking: answer
                        answered_at = voiced
                        answers += 1
                        await self.say(ws, out, 300, f"answer-{answers}")
        finally:
            self.closed_calls.append(call_sid)

    @staticmethod
    async def say(ws: ServerConnection, out: OutboundMessages, ms: int, mark: str) -> None:
        audio = tone_ulaw(ms)
        for i in range(0, len(audio), FRAME_BYTES):
            await ws.send(out.media(audio[i : i + FRAME_BYTES]))
        await ws.send(out.mark(mark))


@pytest.fixture
async def lisa():
    fake = FakeLisa()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        fake.url = f"ws://127.0.0.1:{port}/twilio/media"
        yield fake


@pytest.fixture
def statuses():
    return []


def carrier_for(lisa: FakeLisa, statuses: list) -> LoopbackCarrier:
    bus = StatusBus()
    record_call_statuses(bus, statuses)
    return LoopbackCarrier(
        lambda: lisa.url, far_end=SimulatedFarEnd(), statuses=bus, from_number="+15005550006"
    )


def of(statuses: list, sid: str) -> list[str]:
    return [s for c, s, _ in statuses if c == sid]


async def test_party_talks_with_lisa_and_hangs_up(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)
    assert isinstance(carrier, Carrier)
    heard: list[list[str]] = []

    async def receptionist(call: MediaStreamClient) -> None:
        greeting = await call.wait_lisa_done(timeout=5)
        heard.append([m for u in greeting for m in u.marks])
        await call.send_audio(tone_pcm(400))
        reply = await call.wait_lisa_done(timeout=5)
        heard.append([m for u in reply for m in u.marks])

    carrier.register_party("+49 30 765-4321", receptionist)
    sid = await carrier.place_call("+49307654321", {"request_id": "req-1"})
    await carrier.wait_idle(timeout=15)

    assert heard == [["greeting"], ["answer-1"]]
    start = lisa.starts[0]
    assert start.call_sid == sid
    assert start.custom_parameters == {
        "direction": "outbound",
        "request_id": "req-1",
        "to": "+49307654321",
        "from": "+15005550006",
    }
    assert of(statuses, sid) == ["queued", "ringing", "in-progress", "completed"]
    answered = next(info for c, s, info in statuses if s == "in-progress")
    assert answered["AnsweredBy"] == "human" and answered["request_id"] == "req-1"
    done = statuses[-1][2]
    assert done["EndedBy"] == "party" and done["request_id"] == "req-1"
    assert lisa.closed_calls == [sid]


async def test_no_party_means_no_answer(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)
    sid = await carrier.place_call("+4930111", {"request_id": "r"})
    await carrier.wait_idle(timeout=5)
    assert of(statuses, sid) == ["queued", "ringing", "no-answer"]
    assert lisa.starts == []
    with pytest.raises(CarrierError, match="not a phone number"):
        await carrier.place_call("", {})


async def test_lisa_hangs_up_through_the_carrier(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)
    party_saw_close = asyncio.Event()

    async def chatty(call: MediaStreamClient) -> None:
        await call.wait_lisa_done(timeout=5)
        while await call.send_audio(tone_pcm(200)):  # talks until the line goes dead
            pass
        if call.closed_by_server:
            party_saw_close.set()

    async def hang_up_soon(call_sid, ws, out) -> None:
        await asyncio.sleep(0.6)
        await carrier.hangup(call_sid)

    lisa.on_start = hang_up_soon
    carrier.register_party("+4930222", chatty)
    sid = await carrier.place_call("+4930222", {"request_id": "r"})
    await carrier.wait_idle(timeout=10)
    assert party_saw_close.is_set()
    assert of(statuses, sid)[-1] == "completed" and statuses[-1][2]["EndedBy"] == "lisa"
    await carrier.hangup(sid)  # again, after the end: harmless
    await carrier.hangup("CA-unknown")


async def test_server_closing_the_socket_ends_the_call(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)

    async def waits_forever(call: MediaStreamClient) -> None:
        await asyncio.sleep(30)  # never notices: cancelled after the grace period

    async def close_socket(call_sid, ws, out) -> None:
        await asyncio.sleep(0.3)
        await ws.close()

    lisa.on_start = close_socket
    carrier.register_party("+4930333", waits_forever)
    import simulation.far_end as far_end

    far_end.PARTY_GRACE_S, old = 0.2, far_end.PARTY_GRACE_S
    try:
        sid = await carrier.place_call("+4930333", {})
        await carrier.wait_idle(timeout=10)
    finally:
        far_end.PARTY_GRACE_S = old
    assert of(statuses, sid)[-1] == "completed" and statuses[-1][2]["EndedBy"] == "lisa"


async def test_transfer_ends_the_stream_and_is_recorded(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)

    async def party(call: MediaStreamClient) -> None:
        await call.wait_closed(timeout=10)

    async def transfer(call_sid, ws, out) -> None:
        await asyncio.sleep(0.2)
        await carrier.transfer(call_sid, "+4930999999")

    lisa.on_start = transfer
    carrier.register_party("+4930444", party)
    sid = await carrier.place_call("+4930444", {})
    await carrier.wait_idle(timeout=10)
    assert carrier.transfers == [(sid, "+4930999999")]
    assert statuses[-1][1] == "completed" and statuses[-1][2]["TransferredTo"] == "+4930999999"
    with pytest.raises(CarrierError, match="not in progress"):
        await carrier.transfer(sid, "+4930999999")


async def test_a_crashing_party_or_listener_does_not_disturb_other_calls(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)

    async def broken_listener(call_sid, status, info):
        raise RuntimeError("listener bug")

    carrier.statuses.listeners.insert(0, broken_listener)

    async def crashing(call: MediaStreamClient) -> None:
        raise RuntimeError("party bug")

    async def fine(call: MediaStreamClient) -> None:
        await call.wait_lisa_done(timeout=5)
        await call.send_audio(tone_pcm(400))
        await call.wait_lisa_done(timeout=5)

    carrier.register_party("+4930555", crashing)
    carrier.register_party("+4930666", fine)
    bad = await carrier.place_call("+4930555", {})
    good = await carrier.place_call("+4930666", {})
    await carrier.wait_idle(timeout=15)
    assert of(statuses, bad)[-1] == "completed"
    assert of(statuses, good) == ["queued", "ringing", "in-progress", "completed"]
    assert lisa.heard_frames[good] >= 10


async def test_unreachable_media_stream_fails_the_call(statuses) -> None:
    carrier = LoopbackCarrier(
        f"ws://127.0.0.1:{free_port()}/twilio/media", far_end=SimulatedFarEnd(), from_number="+1500"
    )
    record_call_statuses(carrier.statuses, statuses)

    async def party(call: MediaStreamClient) -> None:
        raise AssertionError("never connected")

    carrier.register_party("+4930777", party)
    sid = await carrier.place_call("+4930777", {})
    await carrier.wait_idle(timeout=10)
    assert of(statuses, sid)[-1] == "failed"
    assert "media stream" in statuses[-1][2]["ErrorMessage"]
    await carrier.close()


async def test_concurrent_calls_stay_apart(lisa, statuses) -> None:
    carrier = carrier_for(lisa, statuses)
    replies: dict[str, list[str]] = {}

    def party_for(number: str):
        async def party(call: MediaStreamClient) -> None:
            await call.wait_lisa_done(timeout=10)
            await call.send_audio(tone_pcm(300))
            reply = await call.wait_lisa_done(timeout=10)
            replies[call.call_sid] = [m for u in reply for m in u.marks]

        return party

    numbers = [f"+49301000{i:02d}" for i in range(8)]
    for number in numbers:
        carrier.register_party(number, party_for(number))
    sids = await asyncio.gather(*(carrier.place_call(n, {"request_id": f"req-{n}"}) for n in numbers))
    await carrier.wait_idle(timeout=30)
    assert len(set(sids)) == 8
    for sid, number in zip(sids, numbers, strict=True):
        assert of(statuses, sid) == ["queued", "ringing", "in-progress", "completed"]
        assert replies[sid] == ["answer-1"]
        assert all(info["request_id"] == f"req-{number}" for c, _, info in statuses if c == sid)
    assert sorted(s.call_sid for s in lisa.starts) == sorted(sids)
