"""Deepgram stalling in the middle of a call (issue 15): a caller turn with speech and no word back within a
second is transcribed by the local Whisper, which hears the rest of the call; a ``provider_failover`` event;
the call still books. The cloud stack against the protocol servers (fixtures of test_cloud_providers)."""

from __future__ import annotations

import pytest
from call_support import app_stream
from doubles.app_calls import call_record
from doubles.call_hooks import RecordingHooks
from doubles.party_voice import say
from fakes.openai_protocol_server import stream, tool_call
from test_cloud_providers import BOOKING_LINES, cloud, start  # noqa: F401 - cloud is a fixture

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]


async def test_a_stalled_deepgram_hands_the_call_to_local_whisper_and_it_books(app_server, cloud):  # noqa: F811
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.deepgram.script(BOOKING_LINES[0])  # the second line gets nothing back: Deepgram stalls
    cloud.llm.script(
        stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"),
        stream("Let me check. ", tool_call("check_availability", {"start": "2026-11-24T10:00"})),
        stream("Tomorrow at ten is free. ", "May I have your name?"),
        stream(tool_call("book_appointment", {"start": "2026-11-24T10:00", "name": "Anna Miller"})),
        stream("You're booked for Tuesday at ten, Anna. ", "Goodbye!", tool_call("end_conversation", {})),
    )
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(20, new_utterance=False)
        for line in BOOKING_LINES:
            await say(call, line)
            await call.wait_lisa_done(25)
        await call.wait_closed(20)
        sid = call.call_sid
    record = await call_record(server, sid)
    assert record["outcome"]["status"] == "booked" and record["ended_by"] == "lisa"
    failovers = [e for e in hooks.events[sid] if e.type == "provider_failover"]
    assert len(failovers) == 1 and failovers[0].message.startswith("stt: no transcript within 1 s")
    user_turns = [m["content"] for m in cloud.llm.requests[-1].messages if m["role"] == "user"]
    assert BOOKING_LINES[0] in user_turns
    assert any("anna miller" in t.lower() for t in user_turns)  # heard by local Whisper
    events = record.get("events") or record["outcome"].get("events") or []
    assert "provider_failover" in [e["type"] for e in events]
