"""Phone calls end to end: real speech (Piper, the party's voice) over a real Twilio media WebSocket to the
real pipeline on a real uvicorn server, on the embedded default (Whisper tiny.en, rule brain, Piper)."""

from __future__ import annotations

import asyncio
import json
import time
import wave
from typing import Any

import httpx
import numpy as np
import pytest
from call_support import app_stream
from doubles.app_calls import call_record, lisa_text
from doubles.call_hooks import RecordingHooks
from doubles.carriers import RecordingCarrier
from doubles.party_voice import exchange, say, speech

from agent.conversation import BookingRequest
from api.state import Overrides
from pipelines.settings import VoiceSettings

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]


async def start(app_server: Any, overrides: Overrides | None = None, **voice: Any) -> Any:
    """The app with the embedded voice (``voice``: further ``VoiceSettings``) and ``overrides`` set before it
    starts (call hooks, a carrier, a request lookup)."""
    overrides = overrides or Overrides()
    overrides.voice_settings = VoiceSettings(_env_file=None, **voice)
    return await app_server(overrides=overrides)


def media_url(server: Any) -> str:
    return f"{server.ws_url}/twilio/media"


async def test_caller_books_an_appointment_and_lisa_hangs_up(app_server):
    hooks = RecordingHooks()
    server = await start(app_server, Overrides(call_hooks=[hooks]))
    lines = [
        "Hi, I would like to book an appointment.",
        "Wednesday at three in the afternoon.",
        "My name is Anna Miller.",
        "No, that's all. Thank you, bye.",
    ]
    for line in lines:
        await speech(line)
    async with app_stream(server, from_number="+4915112345678", to_number="+493055501000") as call:
        await call.wait_lisa_speaking(15)
        await call.wait_lisa_done(20, new_utterance=False, settle=1.0)
        for line in lines[:-1]:
            await exchange(call, line)
        await say(call, lines[-1])
        await call.wait_closed(20)
        closed_ms = call.now_ms()
        assert call.closed_by_server
        assert call.marks, "Lisa sent no marks"
        goodbye_mark = call.marks[-1]
        assert not goodbye_mark.by_clear and goodbye_mark.echoed_ms <= closed_ms
        assert not call.clears
        sid = call.call_sid

    record = await call_record(server, sid)
    ended = (await hooks.ended_of(sid))[sid]
    assert hooks.started == [sid] and list(hooks.ended) == [sid]
    assert (ended.ended_by, str(ended.conversation.outcome.status)) == ("lisa", "booked")
    assert "booking_confirmed" in hooks.event_types(sid)
    assert record["direction"] == "inbound"
    assert record["ended_by"] == "lisa" and record["reason"] == "completed"
    assert record["outcome"]["status"] == "booked"
    assert record["outcome"]["appointment"] == "2026-11-25T15:00"
    assert "+4915112345678" not in json.dumps(record) and record["from_masked"].endswith("678")
    party = [line for line in record["transcript"] if line["speaker"] == "party"]
    assert len(party) == len(lines)
    assert "Anna" in party[2]["text"]
    assert "goodbye" in lisa_text(record).lower()
    starts = [line["start_ms"] for line in record["transcript"]]
    assert starts == sorted(starts)
    assert len(record["turns"]) == len(lines)
    for turn in record["turns"]:
        assert turn["latency_ms"] is not None and turn["latency_ms"] > 0
        assert (
            turn["user_end_ms"] <= turn["stt_final_ms"] <= turn["llm_first_ms"] <= turn["first_audio_out_ms"]
        )

    async with httpx.AsyncClient(base_url=server.url) as client:
        listed = (await client.get("/api/calls")).json()["calls"]
        assert [c["call_sid"] for c in listed] == [sid]
        assert (await client.get("/api/calls/CAunknown")).status_code == 404


async def test_barge_in_clears_lisa_and_a_lone_okay_does_not(app_server):
    server = await start(app_server)
    question = "Sorry to interrupt, what are your opening hours on Saturday?"
    await speech(question)
    await speech("Okay.")
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await asyncio.sleep(0.5)
        started_ms = call.now_ms()
        await say(call, question)  # over Lisa's greeting
        deadline = time.monotonic() + 10
        while not call.clears and time.monotonic() < deadline:  # noqa: ASYNC110 - polling the client
            await asyncio.sleep(0.05)
        assert call.clears, "talking over Lisa did not clear her audio"
        assert call.clears[0] > started_ms  # cleared because of the question, not before it
        cleared = [u for u in call.utterances if u.cleared]
        assert cleared and cleared[-1].played_bytes < len(cleared[-1].ulaw)

        await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])  # her answer to the question
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        await say(call, "Hi, I would like to book an appointment.")
        answer = await call.wait_lisa_speaking(15, after_ms=call.audio_sends[-1][1])
        await asyncio.sleep(0.3)
        okay_ms = call.now_ms()
        await say(call, "Okay.")  # one word over Lisa: not an interruption
        await call.wait_lisa_done(20, new_utterance=False)
        assert not [c for c in call.clears if c > okay_ms], "a lone 'okay' interrupted Lisa"
        assert not answer.cleared
        sid = call.call_sid

    record = await call_record(server, sid)
    assert record["ended_by"] == "party"
    interrupted = [line for line in record["transcript"] if line.get("interrupted")]
    assert interrupted, record["transcript"]
    assert "How can I help you" not in interrupted[0]["text"]  # only what was heard before the barge-in
    party = [line["text"].lower() for line in record["transcript"] if line["speaker"] == "party"]
    assert any("saturday" in text for text in party) and not any(text.startswith("okay") for text in party)


async def test_silent_caller_is_reprompted_then_the_call_ends(app_server, tmp_path):
    server = await start(app_server, lisa_idle_reprompt_s=1.5, lisa_recording_dir=str(tmp_path / "rec"))
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False)
        await call.wait_closed(25)
        assert call.closed_by_server
        assert len(call.utterances) >= 3  # greeting, re-prompt, goodbye
        sid = call.call_sid
    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa" and record["reason"] == "idle"
    said = lisa_text(record)
    assert "still there" in said and "goodbye" in said.lower()
    with wave.open(record["recording"], "rb") as w:  # both sides: caller left, Lisa right
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    assert np.abs(frames[:, 1]).max() > 1000 and len(frames) > 8000 * 4


async def test_maximum_call_duration_is_enforced(app_server):
    server = await start(app_server, lisa_max_call_s=2.0)
    async with app_stream(server) as call:
        await call.wait_closed(25)
        assert call.closed_by_server
        sid = call.call_sid
    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa" and record["reason"] == "max_duration"
    assert "time limit" in lisa_text(record)


async def test_bad_message_closes_only_its_own_call(app_server):
    server = await start(app_server)
    async with (
        app_stream(server) as good,
        app_stream(server) as bad,
    ):
        await good.wait_lisa_speaking(5)
        await bad.wait_lisa_speaking(5)
        await bad._ws.send('{"event": "media", "streamSid": "' + bad.stream_sid + '", "media": {}}')
        await bad.wait_closed(10)
        assert bad.closed_by_server
        await good.wait_lisa_done(20, new_utterance=False)
        assert not good.closed
        await exchange(good, "Hi, I would like to book an appointment.")
        assert not good.closed
        bad_sid = bad.call_sid
    record = await call_record(server, bad_sid)
    assert record["ended_by"] == "system"
    assert "protocol error" in record["reason"] and "payload" in record["reason"]

    # garbage before any start: refused at once with the reason in the close frame
    from websockets.asyncio.client import connect

    async with connect(media_url(server)) as ws:
        await ws.send("this is not json")
        with pytest.raises(Exception):  # noqa: B017 - closed by the server
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1008 and "not JSON" in (ws.close_reason or "")


async def test_dtmf_zero_transfers_to_a_human(app_server):
    carrier = RecordingCarrier()
    server = await start(app_server, Overrides(carrier=carrier))
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False)
        assert await call.send_dtmf("0")
        await call.wait_closed(20)
        sid = call.call_sid
    assert carrier.transfers == [(sid, server.state.engine.business.transfer_number)] and not carrier.placed
    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa" and record["reason"] == "transferred"
    assert "put you through" in lisa_text(record)


async def test_outbound_call_waits_for_the_callee_and_briefs_from_the_request(app_server):
    request = BookingRequest(
        request_id="req-1",
        user_id="user-1",
        title="Dental check-up",
        description="A routine dental check-up",
        callback_number="+4915100000001",
        number_to_call="+493012345678",
        preferred_time="Wednesday afternoon",
        user_profile={"username": "Max Mustermann"},
    )
    looked_up: list[str] = []

    async def lookup(request_id: str) -> BookingRequest | None:
        looked_up.append(request_id)
        return request if request_id == "req-1" else None

    server = await start(app_server, Overrides(request_lookup=lookup))
    await speech("Good morning, Smile Dental, how can I help you?")
    params = {"direction": "outbound", "request_id": "req-1"}
    async with app_stream(server, custom_parameters=params) as call:
        await asyncio.sleep(1.5)
        assert not call.utterances, "Lisa spoke first on an outbound call"
        await exchange(call, "Good morning, Smile Dental, how can I help you?")
        sid = call.call_sid
    assert looked_up == ["req-1"]
    record = await call_record(server, sid)
    assert record["direction"] == "outbound" and record["request_id"] == "req-1"
    assert "Max Mustermann" in lisa_text(record) or "check-up" in lisa_text(record).lower()


async def test_caller_dropping_the_line_ends_the_call_as_party(app_server):
    server = await start(app_server)
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call._ws.close()  # the line drops mid-greeting: no ``stop`` message
        sid = call.call_sid
    record = await call_record(server, sid)
    assert record["ended_by"] == "party" and record["ended_at"]
    async with app_stream(server) as again:  # the app serves the next call
        await again.wait_lisa_speaking(5)
