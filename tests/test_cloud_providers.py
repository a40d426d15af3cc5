"""Phone calls on the cloud stack — Deepgram STT, the LLM brain, ElevenLabs TTS — against local servers that
speak each provider's wire protocol (no key, no network): real speech over the real Twilio media WebSocket to
the real pipeline on a real uvicorn server, pipecat's own Deepgram and ElevenLabs services on the other side.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from call_support import app_stream
from doubles.app_calls import call_record
from doubles.call_hooks import RecordingHooks
from doubles.party_voice import say, speech
from fakes.deepgram_protocol_server import DeepgramProtocolServer
from fakes.elevenlabs_protocol_server import ElevenLabsProtocolServer
from fakes.openai_protocol_server import OpenAIProtocolServer, stream, tool_call

from api.state import Overrides
from pipelines.settings import VoiceSettings

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]

DEEPGRAM_KEY = "dg-test-key-0123456789abcdef"
ELEVENLABS_KEY = "xi-test-key-0123456789abcdef"
OPENAI_KEY = "sk-test-cloud-0123456789abcdef"
BERLIN = ZoneInfo("Europe/Berlin")
DEEPGRAM_HOLD_S = 1.5  # README: an unreachable Deepgram holds a call's start for at most this long
LOOP_LAG_S = 0.3  # what a README figure may be exceeded by: the event loop's lag on a loaded 2-core machine

BOOKING_LINES = [
    "I would like to book an appointment for tomorrow at ten.",
    "My name is Anna Miller.",
]


def dominant_hz(pcm: bytes, rate: int = 8000) -> float:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


class Cloud:
    """The three protocol servers and the settings that point Lisa at them."""

    def __init__(self) -> None:
        self.deepgram = DeepgramProtocolServer(api_key=DEEPGRAM_KEY, per_connection=False)
        self.elevenlabs = ElevenLabsProtocolServer(api_key=ELEVENLABS_KEY, ms_per_char=25)
        self.llm = OpenAIProtocolServer(api_key=OPENAI_KEY)

    def voice(self, **values: Any) -> VoiceSettings:
        base: dict[str, Any] = {
            "lisa_stt": "deepgram",
            "lisa_tts": "elevenlabs",
            "deepgram_api_key": DEEPGRAM_KEY,
            "deepgram_base_url": self.deepgram.url,
            "elevenlabs_api_key": ELEVENLABS_KEY,
            "elevenlabs_base_url": self.elevenlabs.url,
        }
        base.update(values)
        return VoiceSettings(_env_file=None, **base)

    def agent(self, **values: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "lisa_brain": "llm",
            "openai_api_key": OPENAI_KEY,
            "openai_base_url": self.llm.url,
            "openai_model": "test-model",
            "openai_timeout_s": 5.0,
            "openai_max_retries": 2,
            "openai_backoff_base_s": 0.01,
            "openai_backoff_max_s": 0.05,
        }
        base.update(values)
        return base


@pytest.fixture
async def cloud() -> AsyncIterator[Cloud]:
    c = Cloud()
    for line in BOOKING_LINES:
        await speech(line)
    async with c.deepgram, c.elevenlabs, c.llm:
        yield c


async def start(app_server: Any, cloud: Cloud, hooks: Sequence[Any] = (), **voice: Any) -> Any:
    """The app on the cloud providers (``voice``: further voice settings), ``hooks`` told of every call."""
    overrides = Overrides(voice_settings=cloud.voice(**voice), call_hooks=hooks)
    return await app_server(agent=cloud.agent(), overrides=overrides)


def script_booking(cloud: Cloud) -> None:
    cloud.deepgram.script(*BOOKING_LINES)
    cloud.llm.script(
        stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"),
        stream("Let me check. ", tool_call("check_availability", {"start": "2026-11-24T10:00"})),
        stream("Tomorrow at ten is free. ", "May I have your name?"),
        stream(tool_call("book_appointment", {"start": "2026-11-24T10:00", "name": "Anna Miller"})),
        stream(
            "You're booked for Tuesday at ten, Anna. ",
            "Goodbye!",
            tool_call("end_conversation", {"reason": "booked"}),
        ),
    )


async def test_cloud_call_greets_understands_books_and_hangs_up(app_server, cloud):
    server = await start(app_server, cloud)
    script_booking(cloud)
    async with app_stream(server, from_number="+4915112345678", to_number="+493055501000") as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(20, new_utterance=False)
        for line in BOOKING_LINES:
            await say(call, line)
            await call.wait_lisa_done(25)
        await call.wait_closed(20)
        assert call.closed_by_server
        sid = call.call_sid

    # Lisa's audio: 8 kHz μ-law from ElevenLabs' pcm_8000, a mark after each piece, all echoed, none cleared
    assert call.marks and all(not m.by_clear for m in call.marks)
    assert not call.clears
    pcm = call.received_pcm()
    assert len(pcm) > 2 * 8000  # over a second of Lisa's speech
    assert (
        abs(dominant_hz(pcm[: 8000 * 2]) - 140) < 5
    )  # ElevenLabs' 8 kHz tone, μ-law on the wire, no resampling
    (session,) = cloud.elevenlabs.sessions
    assert session.voice_id == VoiceSettings(_env_file=None).elevenlabs_voice_id
    assert session.params["output_format"] == "pcm_8000"
    spoken = " ".join(t for c in session.contexts.values() for t in c.spoken)
    assert "How can I help you?" in spoken and "Goodbye!" in spoken
    assert all(c.final_sent for c in session.contexts.values())
    assert sum(c.audio_bytes for c in session.contexts.values()) // 2 <= len(pcm) // 2 + 8000

    # Deepgram: linear16 at 8 kHz (no resampling), the caller's words recognised, the stream closed politely
    (listen,) = cloud.deepgram.sessions
    assert listen.params["encoding"] == "linear16" and listen.params["sample_rate"] == "8000"
    assert listen.finals == BOOKING_LINES, (listen.spans, call.audio_sends)
    # the caller's speech and each pause's first 0.6 s went, long silences did not (KeepAlive holds the stream)
    spoken_ms = sum(end - start for start, end in call.audio_sends)
    assert listen.audio_bytes == listen.audio_ms * 16 and spoken_ms < listen.audio_ms < call.line_ms * 0.8
    assert listen.audio_messages <= listen.audio_ms / 20
    assert "CloseStream" in listen.control

    # the LLM endpoint ran the tools; the booking is in the calendar and the call record
    assert cloud.llm.unused == 0
    assert [r.headers["authorization"] for r in cloud.llm.requests] == [f"Bearer {OPENAI_KEY}"] * 5
    user_turns = [m["content"] for m in cloud.llm.requests[-1].messages if m["role"] == "user"]
    assert BOOKING_LINES[0] in user_turns and BOOKING_LINES[1] in user_turns
    bookings = await server.state.engine.calendar.bookings_between(
        datetime(2026, 11, 24, tzinfo=BERLIN), datetime(2026, 11, 25, tzinfo=BERLIN)
    )
    assert [(b.start.astimezone(BERLIN).hour, b.name) for b in bookings] == [(10, "Anna Miller")]

    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa"
    assert record["outcome"]["status"] == "booked"
    party = [line["text"] for line in record["transcript"] if line["speaker"] == "party"]
    assert party == BOOKING_LINES
    assert "+4915112345678" not in json.dumps(record)
    assert len(record["turns"]) == len(BOOKING_LINES)
    for turn in record["turns"]:
        assert turn["latency_ms"] is not None and turn["latency_ms"] > 0
        assert (
            turn["user_end_ms"] <= turn["stt_final_ms"] <= turn["llm_first_ms"] <= turn["first_audio_out_ms"]
        )


async def wait_for(condition: Any, limit_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_stt_outage_is_retried_then_reported_and_the_other_call_books(app_server, cloud, caplog):
    caplog.set_level(logging.WARNING, logger="pipelines.providers")
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.llm.script(stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"))
    script_booking(cloud)
    async with app_stream(server) as broken:
        await broken.wait_lisa_speaking(10)
        async with app_stream(server) as good:
            await good.wait_lisa_speaking(10)
            await broken.wait_lisa_done(20, new_utterance=False)
            await good.wait_lisa_done(20, new_utterance=False)
            # Deepgram drops the first call's stream and refuses its reconnects
            cloud.deepgram.refuse_next(3, status=503)
            await cloud.deepgram.disconnect(cloud.deepgram.sessions[0])
            for line in BOOKING_LINES:
                await say(good, line)
                await good.wait_lisa_done(25)
            await good.wait_closed(20)
            assert good.closed_by_server
        refused = lambda: sum(status == 503 for _, status in cloud.deepgram.handshakes)  # noqa: E731
        await wait_for(lambda: refused() >= 2, 40, "refused reconnects")  # pipecat retries with backoff
        await wait_for(
            lambda: any("provider_failed" in r.getMessage() for r in caplog.records), 10, "a report"
        )
        assert not broken.closed  # a provider outage does not end the call by itself
        broken_sid, good_sid = broken.call_sid, good.call_sid

    good_record = await call_record(server, good_sid)
    assert good_record["ended_by"] == "lisa" and good_record["outcome"]["status"] == "booked"
    assert cloud.deepgram.sessions[1].finals == BOOKING_LINES
    broken_record = await call_record(server, broken_sid)
    assert broken_record["ended_by"] == "party"
    kinds = [e.type for e in hooks.events[broken_sid]]
    assert "provider_error" in kinds and "provider_failed" in kinds
    failed = next(e for e in hooks.events[broken_sid] if e.type == "provider_failed")
    assert failed.message.startswith("stt (deepgram)")
    assert not [e for e in hooks.events[good_sid] if e.type.startswith("provider_")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert broken_sid in logged and DEEPGRAM_KEY not in logged
    assert all(DEEPGRAM_KEY not in e.message for e in hooks.events[broken_sid])


async def test_providers_reconnect_after_refusal_and_dropped_streams(app_server, cloud):
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.elevenlabs.refuse_next(1, status=503)  # the connection made when the call starts
    cloud.deepgram.script(BOOKING_LINES[0])
    cloud.llm.script(
        stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"),
        stream("Of course. ", "Which day suits you?"),
    )
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)  # the greeting's synthesis reconnected
        await call.wait_lisa_done(20, new_utterance=False)
        await cloud.deepgram.disconnect(cloud.deepgram.sessions[0])
        await cloud.elevenlabs.disconnect(cloud.elevenlabs.sessions[0])
        await wait_for(lambda: len(cloud.deepgram.sessions) == 2, 20, "Deepgram reconnected")
        await say(call, BOOKING_LINES[0])
        reply = await call.wait_lisa_done(25)
        assert reply and not call.closed
        sid = call.call_sid

    assert [status for _, status in cloud.elevenlabs.handshakes][:3] == [
        503,
        101,
        101,
    ]  # refused, greeting, drop
    assert cloud.deepgram.sessions[1].finals == [BOOKING_LINES[0]]
    spoken = [t for c in cloud.elevenlabs.contexts() for t in c.spoken]
    assert any("Which day suits you?" in t for t in spoken)
    record = await call_record(server, sid)
    assert [line["text"] for line in record["transcript"] if line["speaker"] == "party"] == [BOOKING_LINES[0]]
    reported = [e.message for e in hooks.events[sid] if e.type == "provider_error"]
    assert any(m.startswith("tts (elevenlabs)") and "503" in m for m in reported), reported
    assert any(m.startswith("stt (deepgram)") and "NET-0001" in m for m in reported), reported
    assert not any(m.startswith("stt") and "503" in m for m in reported), reported  # each error is its own


async def test_caller_barges_in_over_cloud_speech(app_server, cloud):
    server = await start(app_server, cloud)
    question = "Sorry to interrupt but what are your opening hours on Saturday?"
    await speech(question)
    cloud.deepgram.script(question)
    cloud.llm.script(
        stream(
            "Parkside Physiotherapy, this is Lisa. ",
            "We offer physiotherapy, sports massage, manual therapy and lymphatic drainage for all ages. ",
            "How can I help you today?",
        ),
        stream("On Saturday we are open from nine to one. ", "Anything else?"),
    )
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await asyncio.sleep(0.3)
        await say(call, question)  # over Lisa's greeting: Deepgram's interim words interrupt her
        await wait_for(lambda: bool(call.clears), 10, "a clear")
        answer = await call.wait_lisa_speaking(15, after_ms=call.clears[0])
        await call.wait_lisa_done(20)
        assert not answer.cleared
        sid = call.call_sid

    assert len(call.clears) == 1
    cleared = [u for u in call.utterances if u.cleared]
    assert cleared and cleared[0].played_bytes < len(cleared[0].ulaw)
    (listen,) = cloud.deepgram.sessions
    interims = [m for m in listen.sent if m.get("type") == "Results" and not m["is_final"]]
    assert interims and listen.finals == [question]
    # synthesis runs ahead of playback; the clear cut what was not played yet, every context was closed
    spoken = [t for c in cloud.elevenlabs.contexts() for t in c.spoken]
    assert any("Saturday we are open" in t for t in spoken)
    assert all(c.closed for c in cloud.elevenlabs.contexts())
    assert question in [m["content"] for m in cloud.llm.requests[-1].messages if m["role"] == "user"]
    record = await call_record(server, sid)
    interrupted = [line for line in record["transcript"] if line.get("interrupted")]
    assert len(interrupted) == 1 and "How can I help you today?" not in interrupted[0]["text"]


async def first_deepgram_handshake(cloud: Cloud) -> float:
    """When Lisa first tried to reach Deepgram (time.monotonic(), polled every 2 ms)."""
    while not cloud.deepgram.handshakes:  # noqa: ASYNC110 - the protocol server records no times
        await asyncio.sleep(0.002)
    return time.monotonic()


async def test_lisa_greets_at_once_while_deepgram_refuses_and_the_outage_is_reported(app_server, cloud):
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.deepgram.refuse_next(3, status=503)
    cloud.llm.script(stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"))
    refused_at = asyncio.create_task(first_deepgram_handshake(cloud))
    async with app_stream(server) as call:
        greeting = await call.wait_lisa_speaking(10)
        # README: an unreachable Deepgram holds the call for at most 1.5 s (pipecat alone would wait out 8+ s of
        # retries): from Deepgram's first refusal to Lisa's greeting request to the LLM (the connect's own 1.2 s
        # and the rest of the pipeline's start), plus the event loop's lag on a loaded CI machine (measured
        # here: 0.02-0.24 s at load 8 on 2 cores; two CI runs saw 1.88 and 1.95 s with a 1.5 s connect wait)
        hold_s = cloud.llm.requests[0].at - await asyncio.wait_for(refused_at, 1)
        assert hold_s <= DEEPGRAM_HOLD_S + LOOP_LAG_S, f"Deepgram held the call {hold_s:.2f} s"
        # ... and the greeting's first audio follows that request after the fakes' fixed delays (no stream,
        # the ElevenLabs server's first byte) plus the same lag
        started = time.monotonic() - call.now_ms() / 1000
        to_audio_s = started + greeting.first_media_ms / 1000 - cloud.llm.requests[0].at
        assert to_audio_s <= cloud.elevenlabs.first_byte_delay_s + LOOP_LAG_S, (
            f"audio {to_audio_s:.2f} s later"
        )
        await wait_for(lambda: len(cloud.deepgram.handshakes) >= 3, 30, "Deepgram retried")
        await asyncio.sleep(0.5)
        sid = call.call_sid
    await call_record(server, sid)
    assert [status for _, status in cloud.deepgram.handshakes] == [503, 503, 503]
    assert "provider_failed" in [e.type for e in hooks.events[sid]]


async def test_deepgram_gets_speech_and_pause_starts_but_not_long_silence():
    """What the Deepgram service streams, frame by frame (its connection replaced by a recorder)."""
    from pipelines.providers import build_stt

    stt = build_stt(VoiceSettings(_env_file=None, lisa_stt="deepgram", deepgram_api_key="dg-test"))
    sent: list[bytes] = []

    class Recorder:
        async def send_media(self, audio: bytes) -> None:
            sent.append(audio)

    stt._connection = Recorder()
    rng = np.random.default_rng(7)
    speech = (rng.standard_normal(160) * 3000).astype(np.int16).tobytes()  # 20 ms, clearly not quiet
    quiet = bytes(320)
    line = [speech] * 25 + [quiet] * 100 + [speech] * 5  # 0.5 s speech, 2 s silence, speech again
    for frame in line:
        async for _ in stt.run_stt(frame):
            pass
    streamed = b"".join(sent)
    assert streamed[: 25 * 320] == speech * 25  # speech goes as it comes
    assert streamed[25 * 320 : 25 * 320 + 30 * 320] == quiet * 30  # then the pause's first 0.6 s
    held_back = len(b"".join(line)) - len(streamed)
    assert held_back == (100 - 30 - 10) * 320  # the rest of the silence, except its last 0.2 s ...
    assert streamed[-(15 * 320) :] == quiet * 10 + speech * 5  # ... which goes ahead of the next speech


# ----------------------------------------------------------------------------- turn logic vs Deepgram


def line_noise(seconds: float, rate: int, rms: float = 80.0, seed: int = 3) -> bytes:
    """A noisy line: steady hiss above the quiet-line level (so it is streamed to Deepgram) but no speech."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, rms, int(seconds * rate)), -32768, 32767).astype(np.int16).tobytes()


async def test_an_utterance_deepgram_finalises_in_parts_is_one_caller_turn(app_server, cloud):
    """Deepgram may close a segment before its endpointing fires: ``is_final`` with ``speech_final=false``,
    then the rest. Lisa answers once, to the whole text, not to the first part."""
    server = await start(app_server, cloud)
    parts = ("I would like to book an appointment.", "Tomorrow at ten would be great.")
    cloud.deepgram.script(parts)
    cloud.deepgram.split_gap_s = 0.3
    cloud.llm.script(
        stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"),
        stream("Tomorrow at ten is free. ", "May I have your name?"),
    )
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(20, new_utterance=False)
        await say(call, BOOKING_LINES[0])
        await call.wait_lisa_speaking(15, after_ms=call.audio_sends[-1][1])
        await call.wait_lisa_done(20, new_utterance=False)
        await asyncio.sleep(1.0)  # a second turn (the second part on its own) would have started by now
        sid = call.call_sid
    (listen,) = cloud.deepgram.sessions
    finals = [
        (m["channel"]["alternatives"][0]["transcript"], m["speech_final"])
        for m in listen.sent
        if m.get("type") == "Results" and m["is_final"]
    ]
    assert finals == [(parts[0], False), (parts[1], True)]
    user_turns = [[m["content"] for m in r.messages if m["role"] == "user"] for r in cloud.llm.requests]
    assert len(cloud.llm.requests) == 2, user_turns  # the greeting and one answer
    assert user_turns[-1] == [" ".join(parts)]
    record = await call_record(server, sid)
    assert [line["text"] for line in record["transcript"] if line["speaker"] == "party"] == [" ".join(parts)]


async def test_utterance_end_closes_a_turn_whose_final_had_no_speech_final(app_server, cloud):
    """A noisy line: Deepgram's endpointing never fires, so its final says ``speech_final=false`` and only
    ``UtteranceEnd`` (``utterance_end_ms`` of audio after the last word) tells the utterance is over. Lisa
    asks for it and ends the turn on it — not before (the text alone leaves the turn open), and not only
    when her own long-silence fallback (set to 4 s here) runs out."""
    server = await start(app_server, cloud, lisa_turn_max_silence_s=4.0)
    text = "I would like to book an appointment for tomorrow at ten"
    cloud.deepgram.script(text)
    cloud.deepgram.endpointing_fires = False
    cloud.deepgram.hold_threshold = 120.0  # the hiss does not hold the fake recogniser's speech open
    cloud.llm.script(
        stream("Parkside Physiotherapy, this is Lisa. ", "How can I help you?"),
        stream("Tomorrow at ten is free. ", "May I have your name?"),
    )
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(20, new_utterance=False)

        async def caller() -> None:
            await say(call, BOOKING_LINES[0])
            await call.send_audio(line_noise(4.5, 8000), sample_rate=8000)

        sending = asyncio.create_task(caller())
        answer = await call.wait_lisa_speaking(15, after_ms=call.now_ms())
        answered_at = call.t0 + answer.first_media_ms / 1000
        sending.cancel()
        await call.wait_lisa_done(20, new_utterance=False)
    (listen,) = cloud.deepgram.sessions
    assert listen.params["utterance_end_ms"] == "1000" and listen.params["interim_results"] == "true"
    finals = [m for m in listen.sent if m.get("type") == "Results" and m["is_final"]]
    assert [(m["channel"]["alternatives"][0]["transcript"], m["speech_final"]) for m in finals] == [
        (text, False)
    ]
    assert listen.utterance_ends, "Deepgram's UtteranceEnd never came"
    speech_end = listen.speech_end_times[0]
    assert answered_at > listen.utterance_ends[0]  # not on the open final itself
    assert answered_at - speech_end < 3.0  # on UtteranceEnd (~1 s), not on the 4 s fallback
    user_turns = [[m["content"] for m in r.messages if m["role"] == "user"] for r in cloud.llm.requests]
    assert len(cloud.llm.requests) == 2 and user_turns[-1] == [text]
