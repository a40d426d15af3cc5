"""The console's live bus: fan-out to every stream, a lagging stream resynced, and events reaching the other
workers' consoles through the PostgreSQL relay (chat notifications on the same channel are not console
events, and chat events are not relayed twice)."""

from __future__ import annotations

import asyncio

import pytest

from api.console.bus import QUEUE_SIZE, LiveBus


async def test_every_stream_gets_each_event_and_a_lagging_one_is_told_to_resync() -> None:
    bus = LiveBus()
    fast, slow = bus.subscribe(), bus.subscribe()
    heard: list[dict] = []
    bus.listeners.append(heard.append)
    bus.publish("request", {"request_id": "r1", "status": "calling"})
    event = fast.get_nowait()
    assert event["kind"] == "request" and event["status"] == "calling" and event["at"].endswith("+00:00")
    assert heard == [event]
    for i in range(QUEUE_SIZE + 5):  # ``slow`` never reads
        bus.publish("call_live", {"call_sid": "CA1", "from": i, "lines": []})
        while not fast.empty():
            fast.get_nowait()
    backlog = [slow.get_nowait() for _ in range(slow.qsize())]
    assert backlog[0] == {"kind": "resync"} and len(backlog) < QUEUE_SIZE  # the old backlog is gone
    bus.unsubscribe(fast)
    bus.publish("chat", {"event": {}})
    assert fast.empty() and bus.subscribers == 1
    bus.close()  # the app stops: every stream is told to end
    remaining = [slow.get_nowait() for _ in range(slow.qsize())]
    assert remaining[-1] == {"kind": "bye"} and bus.subscribers == 0


@pytest.mark.postgres
async def test_console_events_reach_the_other_workers_consoles(postgres_url) -> None:
    from api.chat.relay import PostgresRelay

    here, there = LiveBus(), LiveBus()
    relays = [PostgresRelay(postgres_url, bus.deliver_relayed) for bus in (here, there)]
    for bus, relay in zip((here, there), relays, strict=True):
        await relay.start()
        bus.relay = relay
    try:
        mine, theirs = here.subscribe(), there.subscribe()
        here.publish("chat", {"event": {"event": "message"}}, relay=False)  # the chat hub relays its own
        here.publish("request", {"request_id": "r1", "status": "booked"})
        relays[1].publish("managers", None, {"event": "takeover"})  # the chat relay's, not the console's
        got = await asyncio.wait_for(theirs.get(), 5)
        assert got["kind"] == "request" and got["status"] == "booked"
        assert [mine.get_nowait()["kind"] for _ in range(2)] == ["chat", "request"]
        await asyncio.sleep(0.5)
        assert theirs.empty() and mine.empty()  # nothing twice, no chat-relay payload as a console event
    finally:
        for relay in relays:
            await relay.stop()


class _RunningCall:
    """What the sampler reads of a running call: its transcript so far (counted) and its state."""

    caller_speaking = generating = False
    speech_in_flight = None

    def __init__(self) -> None:
        self.lines = [{"speaker": "caller", "text": "Hello?", "start_ms": 0.0}]
        self.reads = 0

    def final_transcript(self) -> list[dict]:
        self.reads += 1
        return list(self.lines)


async def test_the_call_sampler_works_only_while_a_console_watches(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.console.sources import CallFeed
    from pipelines import call_pipeline

    call = _RunningCall()
    monkeypatch.setattr(call_pipeline, "ACTIVE_CALLS", {"CA1": call})
    bus = LiveBus()
    feed = CallFeed(bus, sample_s=0.01)
    feed.start()
    try:
        await asyncio.sleep(0.1)
        assert call.reads == 0  # nobody watches (and no relay to other workers): no transcript is built
        stream = bus.subscribe()
        event = await asyncio.wait_for(stream.get(), 2)
        assert event["kind"] == "call_live" and event["from"] == 0 and event["lines"] == call.lines
        call.lines.append({"speaker": "lisa", "text": "Hi, this is Lisa.", "start_ms": 900.0})
        event = await asyncio.wait_for(stream.get(), 2)
        assert event["from"] == 1 and [line["text"] for line in event["lines"]] == ["Hi, this is Lisa."]
    finally:
        await feed.stop()
