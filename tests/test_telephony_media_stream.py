"""Twilio Media Streams protocol: parsing/building, and MediaStreamClient against a real local WebSocket server."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from simulation.media_stream_client import MediaStreamClient
from telephony.audio_codec import pcm16_to_ulaw
from telephony.media_stream import (
    FRAME_BYTES,
    Clear,
    Connected,
    Dtmf,
    Mark,
    Media,
    OutboundMessages,
    OutMark,
    OutMedia,
    ProtocolError,
    Start,
    Stop,
    StreamTracker,
    TwilioMessages,
    parse_message,
    parse_outbound_message,
)


def tone(ms: int, freq: float = 440.0) -> bytes:
    n = 8000 * ms // 1000
    samples = (np.sin(2 * math.pi * freq * np.arange(n) / 8000) * 8000).astype(np.int16)
    return samples.tobytes()


# --------------------------------------------------------------------------- protocol


def test_twilio_messages_round_trip() -> None:
    tw = TwilioMessages("MZ1", "CA1", "AC1")
    assert isinstance(parse_message(tw.connected()), Connected)
    start = parse_message(tw.start({"direction": "outbound", "request_id": "r-1"}))
    assert isinstance(start, Start)
    assert (start.stream_sid, start.call_sid, start.account_sid) == ("MZ1", "CA1", "AC1")
    assert start.custom_parameters == {"direction": "outbound", "request_id": "r-1"}
    assert start.media_format.sample_rate == 8000 and start.media_format.encoding == "audio/x-mulaw"
    start.check_format()
    media = parse_message(tw.media(b"\x01\x02\xff" * 10, timestamp_ms=40))
    assert isinstance(media, Media)
    assert media.payload == b"\x01\x02\xff" * 10 and media.timestamp_ms == 40 and media.chunk == 1
    assert media.sequence_number == 2
    mark = parse_message(tw.mark('lisa-1-"0"'))
    assert isinstance(mark, Mark) and mark.name == 'lisa-1-"0"'
    dtmf = parse_message(tw.dtmf("0"))
    assert isinstance(dtmf, Dtmf) and dtmf.digit == "0"
    stop = parse_message(tw.stop())
    assert isinstance(stop, Stop) and stop.call_sid == "CA1" and stop.sequence_number == 5


def test_twilio_documented_messages_parse() -> None:
    """The examples from Twilio's Media Streams documentation."""
    start = parse_message(
        '{"event":"start","sequenceNumber":"1","start":{"accountSid":"ACXXX","streamSid":"MZXXX",'
        '"callSid":"CAXXX","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw",'
        '"sampleRate":8000,"channels":1},"customParameters":{"FirstName":"Jane","RemoteParty":"Bob"}},'
        '"streamSid":"MZXXX"}'
    )
    assert isinstance(start, Start) and start.tracks == ("inbound", "outbound")
    assert start.custom_parameters["RemoteParty"] == "Bob"
    media = parse_message(
        '{"event":"media","sequenceNumber":"3","media":{"track":"outbound","chunk":"1","timestamp":"5",'
        '"payload":"no+JhoaJjpzSHxAKBgYJDhtEopGKh4aIjZm7JhILBwYIDRg1qZSLh4aIjJawLBUMCAYIDBUsr5aMiIaHi5SpNRgN"},'
        '"streamSid":"MZXXX"}'
    )
    assert isinstance(media, Media) and media.track == "outbound" and len(media.payload) == 66
    dtmf = parse_message(
        '{"event":"dtmf","streamSid":"MZXXX","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}'
    )
    assert isinstance(dtmf, Dtmf) and dtmf.digit == "1"


def test_outbound_messages_round_trip() -> None:
    out = OutboundMessages("MZ9")
    media = parse_outbound_message(out.media(b"\x00\x7f\xff"))
    assert media == OutMedia("MZ9", b"\x00\x7f\xff")
    assert parse_outbound_message(out.mark("lisa-3-1")) == OutMark("MZ9", "lisa-3-1")
    assert parse_outbound_message(out.clear()) == Clear("MZ9")
    assert json.loads(out.media(b"\x00")) == {
        "event": "media",
        "streamSid": "MZ9",
        "media": {"payload": "AA=="},
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"foo": 1}', "missing field 'event'"),
        ('{"event": "dance"}', "unknown event 'dance'"),
        ('{"event": "media", "streamSid": "MZ1"}', "missing object field 'media'"),
        ('{"event": "media", "streamSid": "MZ1", "media": {"payload": "%%%"}}', "payload is not base64"),
        ('{"event": "media", "media": {"payload": "AA=="}}', "missing string field 'streamSid'"),
        ('{"event": "start", "start": {"streamSid": "MZ1"}}', "missing string field 'callSid'"),
        ('{"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "x"}}', "not a DTMF digit"),
        ('{"event": "mark", "streamSid": "MZ1", "mark": {}}', "missing string field 'name'"),
        ('{"event": "media", "streamSid": "MZ1", "sequenceNumber": "x", "media": {}}', "is not a number"),
    ],
)
def test_garbage_gets_a_clear_error(raw: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_message(raw)


def test_unsupported_media_format_is_refused() -> None:
    raw = json.loads(TwilioMessages("MZ1", "CA1", "AC1").start({}))
    raw["start"]["mediaFormat"]["sampleRate"] = 16000
    start = parse_message(json.dumps(raw))
    assert isinstance(start, Start)
    with pytest.raises(ProtocolError, match="unsupported media format"):
        start.check_format()


def test_tracker_enforces_order() -> None:
    tw = TwilioMessages("MZ1", "CA1", "AC1")
    tracker = StreamTracker()
    with pytest.raises(ProtocolError, match="media before start"):
        tracker.feed(tw.media(b"\xff", 0))
    tracker = StreamTracker()
    tracker.feed(tw.connected())
    tracker.feed(tw.start({}))
    assert tracker.stream_sid == "MZ1"
    with pytest.raises(ProtocolError, match="second start"):
        tracker.feed(tw.start({}))
    with pytest.raises(ProtocolError, match="another stream"):
        tracker.feed(TwilioMessages("MZ2", "CA1", "AC1").media(b"\xff", 0))
    tracker.feed(tw.media(b"\xff", 0))
    assert isinstance(tracker.feed(tw.stop()), Stop)
    with pytest.raises(ProtocolError, match="after stop"):
        tracker.feed(tw.media(b"\xff", 20))


# --------------------------------------------------------------------------- a tiny "Lisa" server


@dataclass
class Recorded:
    messages: list[tuple[float, object]] = field(default_factory=list)  # (monotonic, parsed)
    errors: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def of(self, kind: type) -> list:
        return [m for _, m in self.messages if isinstance(m, kind)]

    def times(self, kind: type) -> list[float]:
        return [t for t, m in self.messages if isinstance(m, kind)]


Behaviour = Callable[[ServerConnection, OutboundMessages, Recorded], Awaitable[None]]


async def _serve(behaviour: Behaviour | None, recorded: Recorded) -> AsyncIterator[str]:
    async def handler(ws: ServerConnection) -> None:
        tracker = StreamTracker()
        out: OutboundMessages | None = None
        task: asyncio.Task[None] | None = None
        try:
            async for raw in ws:
                try:
                    message = tracker.feed(raw)
                except ProtocolError as exc:
                    recorded.errors.append(str(exc))
                    await ws.close(1008, str(exc))
                    return
                recorded.messages.append((time.monotonic(), message))
                if isinstance(message, Start) and behaviour is not None:
                    out = OutboundMessages(message.stream_sid)
                    task = asyncio.create_task(behaviour(ws, out, recorded))
                if isinstance(message, Stop):
                    break
        finally:
            if task is not None:
                task.cancel()
            recorded.done.set()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/twilio/media"


@pytest.fixture
async def lisa_server():
    """Factory: start a local WebSocket server that plays ``behaviour`` after ``start``; yields its URL."""
    servers = []

    async def start(behaviour: Behaviour | None = None) -> tuple[str, Recorded]:
        recorded = Recorded()
        gen = _serve(behaviour, recorded)
        url = await gen.__anext__()
        servers.append(gen)
        return url, recorded

    yield start
    for gen in servers:
        await gen.aclose()


async def send_utterance(ws: ServerConnection, out: OutboundMessages, ms: int, mark: str) -> float:
    """Send ``ms`` of tone as 20 ms frames at once (faster than real time, as TTS does), then a mark."""
    ulaw = pcm16_to_ulaw(tone(ms))
    for i in range(0, len(ulaw), FRAME_BYTES):
        await ws.send(out.media(ulaw[i : i + FRAME_BYTES]))
    await ws.send(out.mark(mark))
    return time.monotonic()


# --------------------------------------------------------------------------- the client against it


async def test_client_streams_like_twilio(lisa_server) -> None:
    url, rec = await lisa_server()
    async with MediaStreamClient.connect(
        url,
        custom_parameters={"direction": "outbound", "request_id": "req-1"},
        call_sid="CA123",
        from_number="+4930111111",
        to_number="+4930222222",
        continuous=False,
    ) as call:
        began = time.monotonic()
        assert await call.send_audio(tone(400))
        paced_s = time.monotonic() - began
        assert await call.send_dtmf("0")
        assert await call.send_audio(tone(1000), paced=False)
    await asyncio.wait_for(rec.done.wait(), 5)

    assert isinstance(rec.messages[0][1], Connected)
    start = rec.of(Start)[0]
    assert start.call_sid == "CA123"
    assert start.custom_parameters == {
        "direction": "outbound",
        "request_id": "req-1",
        "from": "+4930111111",
        "to": "+4930222222",
    }
    media = rec.of(Media)
    assert len(media) == 20 + 50
    assert all(len(m.payload) == FRAME_BYTES for m in media)
    assert [m.timestamp_ms for m in media[:3]] == [0, 20, 40]
    assert [m.chunk for m in media[:3]] == [1, 2, 3]
    seqs = [m.sequence_number for _, m in rec.messages if hasattr(m, "sequence_number") and m.sequence_number]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert 0.35 <= paced_s <= 0.8, paced_s  # 400 ms of audio took ~400 ms on the line
    assert rec.of(Dtmf)[0].digit == "0"
    assert isinstance(rec.messages[-1][1], Stop)
    assert rec.errors == []


async def test_continuous_line_sends_silence_between_turns(lisa_server) -> None:
    url, rec = await lisa_server()
    async with MediaStreamClient.connect(url, call_sid="CA1") as call:
        await asyncio.sleep(0.5)
        await call.send_audio(tone(200))
    await asyncio.wait_for(rec.done.wait(), 5)
    media = rec.of(Media)
    silent = [m for m in media if m.payload == b"\xff" * FRAME_BYTES]
    assert len(silent) >= 15  # ~25 frames of line silence during the first 500 ms
    assert len(media) - len(silent) == 10
    ts = [m.timestamp_ms for m in media]
    assert ts == list(range(0, 20 * len(ts), 20))


async def test_marks_are_echoed_after_real_time_playback(lisa_server) -> None:
    sent_at: list[float] = []

    async def lisa(ws, out, rec) -> None:
        sent_at.append(await send_utterance(ws, out, 1000, "lisa-0-0"))

    url, rec = await lisa_server(lisa)
    async with MediaStreamClient.connect(url, continuous=False) as call:
        replies = await call.wait_lisa_done(timeout=5, settle=0.2)
        assert len(replies) == 1
        utt = replies[0]
        assert len(utt.ulaw) == 8000 and utt.marks == ["lisa-0-0"] and not utt.cleared
        assert call.marks[0].name == "lisa-0-0" and not call.marks[0].by_clear
        played_for = call.marks[0].echoed_ms - utt.first_media_ms
        assert 950 <= played_for <= 1400, played_for
        assert len(call.received_pcm()) == 16000
        assert sum(len(c.ulaw) for c in call.received_audio()) == 8000
    await asyncio.wait_for(rec.done.wait(), 5)
    echoes = rec.of(Mark)
    assert [m.name for m in echoes] == ["lisa-0-0"]
    delay = rec.times(Mark)[0] - sent_at[0]
    assert 0.9 <= delay <= 1.4, delay


async def test_clear_drops_unplayed_audio_and_echoes_pending_marks(lisa_server) -> None:
    cleared_at: list[float] = []

    async def lisa(ws, out, rec) -> None:
        await send_utterance(ws, out, 2000, "lisa-0-0")
        await asyncio.sleep(0.3)
        await ws.send(out.clear())
        cleared_at.append(time.monotonic())

    url, rec = await lisa_server(lisa)
    async with MediaStreamClient.connect(url, continuous=False) as call:
        replies = await call.wait_lisa_done(timeout=5, settle=0.2)
        utt = replies[0]
        assert utt.cleared
        assert utt.played_bytes is not None and 0.2 * 8000 <= utt.played_bytes <= 0.6 * 8000
        assert len(utt.played_pcm()) == 2 * utt.played_bytes
        assert len(call.clears) == 1
        assert call.marks[0].by_clear
        assert not call.lisa_speaking
    await asyncio.wait_for(rec.done.wait(), 5)
    delay = rec.times(Mark)[0] - cleared_at[0]
    assert -0.05 <= delay <= 0.2, delay  # echoed at the clear, not after the 2 s of audio


async def test_wait_lisa_done_waits_for_a_reply_to_the_party(lisa_server) -> None:
    async def lisa(ws, out, rec) -> None:
        await send_utterance(ws, out, 300, "greeting")
        heard = 0
        while heard < 5:  # answer once the caller has said something (5 non-silent frames)
            await asyncio.sleep(0.02)
            heard = sum(1 for m in rec.of(Media) if m.payload != b"\xff" * FRAME_BYTES)
        await asyncio.sleep(0.3)
        await send_utterance(ws, out, 500, "answer")

    url, rec = await lisa_server(lisa)
    async with MediaStreamClient.connect(url) as call:
        greeting = await call.wait_lisa_speaking(timeout=5, after_ms=0)
        assert greeting.index == 0
        await call.wait_lisa_done(timeout=5)
        await call.send_audio(tone(300))
        replies = await call.wait_lisa_done(timeout=5, settle=0.2)
        assert [u.marks for u in replies] == [["answer"]]
        assert [m.name for m in call.marks] == ["greeting", "answer"]


async def test_server_hang_up_closes_the_call(lisa_server) -> None:
    async def lisa(ws, out, rec) -> None:
        await send_utterance(ws, out, 200, "bye")
        await asyncio.sleep(0.4)
        await ws.close()

    url, rec = await lisa_server(lisa)
    async with MediaStreamClient.connect(url) as call:
        await call.wait_closed(timeout=5)
        assert call.closed and call.closed_by_server
        assert await call.send_audio(tone(100)) is False
        assert await call.send_dtmf("1") is False
        assert [m.name for m in call.marks] == ["bye"]


async def test_wait_lisa_done_times_out_when_lisa_is_silent(lisa_server) -> None:
    url, _ = await lisa_server()
    async with MediaStreamClient.connect(url, continuous=False) as call:
        with pytest.raises(TimeoutError, match="did not speak"):
            await call.wait_lisa_done(timeout=0.3)


async def test_frame_hook_drops_and_delays_frames(lisa_server) -> None:
    url, rec = await lisa_server()

    async def every_other(index: int, frame: bytes) -> bytes | None:
        if index % 2:
            return None
        await asyncio.sleep(0.005)  # jitter
        return frame

    async with MediaStreamClient.connect(url, frame_hook=every_other, continuous=False) as call:
        assert await call.send_audio(tone(400))
    await asyncio.wait_for(rec.done.wait(), 5)
    media = rec.of(Media)
    assert len(media) == 10
    assert [m.timestamp_ms for m in media[:3]] == [0, 40, 80]  # the gaps show where frames were lost


async def test_bad_server_messages_are_recorded_not_fatal(lisa_server) -> None:
    async def lisa(ws, out, rec) -> None:
        await ws.send("garbage")
        await ws.send(json.dumps({"event": "media", "streamSid": "other", "media": {"payload": "AA=="}}))
        await send_utterance(ws, out, 100, "ok")

    url, _ = await lisa_server(lisa)
    async with MediaStreamClient.connect(url, continuous=False) as call:
        await call.wait_lisa_done(timeout=5, settle=0.2)
        assert len(call.protocol_errors) == 2
        assert [m.name for m in call.marks] == ["ok"]


async def test_cancelled_send_stops_talking(lisa_server) -> None:
    url, rec = await lisa_server()
    async with MediaStreamClient.connect(url, continuous=False) as call:
        send = asyncio.create_task(call.send_audio(tone(2000)))
        await asyncio.sleep(0.3)
        send.cancel()
        with pytest.raises(asyncio.CancelledError):
            await send
        await asyncio.sleep(0.3)
        assert await call.send_audio(tone(100))  # the line still works
    await asyncio.wait_for(rec.done.wait(), 5)
    frames = len(rec.of(Media))
    assert 15 <= frames <= 30, frames  # ~0.3 s of the 2 s, plus the 100 ms after
