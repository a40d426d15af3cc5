"""Pieces of the voice pipeline that need no speech models: what the caller heard after a barge-in, the
Twilio serializer on garbage and out-of-order messages, text splitting and the call records API."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import numpy as np
import pytest
from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
)

from agent.conversation import Conversation, Language, Mode
from api.calls.store import CallStore
from api.storage import Database
from pipelines.call_session import CallSession
from pipelines.local_tts import first_phrase_split, pad_to_frames
from pipelines.serializer import TwilioStreamSerializer
from pipelines.turn_detector import sentence_finished, word_count
from telephony.audio_codec import pcm16_to_ulaw, ulaw_to_pcm16
from telephony.media_stream import OutboundMessages, StreamTracker, TwilioMessages


def session() -> CallSession:
    conv = Conversation(mode=Mode.INBOUND, language=Language.EN)
    return CallSession("CA1", "MZ1", "inbound", {}, conv)


def test_barge_in_keeps_what_was_played_and_the_share_of_the_current_piece():
    s = session()
    reply = s.new_reply()
    first = s.queue_utterance(reply, 1, "Hello there.", 1.0)
    second = s.queue_utterance(reply, 2, "one two three four five six seven eight nine ten", 4.0)
    now = time.monotonic()
    first.first_audio_t, first.echoed_t = now - 3.0, now - 2.0  # played completely
    second.first_audio_t = now - 2.5  # sent early; playback began when the first mark came back
    assert s.lisa_busy
    got_reply, heard = s.barge_in(now)  # 2 s into a 4 s piece: half of its words
    assert got_reply == reply
    assert heard == "Hello there. one two three four five"
    assert not s.lisa_audio_pending and second.cleared


def test_barge_in_before_any_audio_hears_nothing_and_drops_speech_in_flight():
    s = session()
    reply = s.new_reply()
    s.speech_sent(reply, 1)
    assert s.lisa_busy
    assert s.barge_in(time.monotonic()) == (reply, "")
    assert not s.lisa_audio_pending


async def test_wait_played_follows_the_marks():
    s = session()
    reply = s.new_reply(time.monotonic(), time.monotonic())
    s.speech_sent(reply, 1)
    u = s.queue_utterance(reply, 1, "Goodbye!", 0.5)
    s.reply_text[reply] = "Goodbye!"
    s.speech_done(reply, 1)
    s.on_audio_sent(b"\x00" * 320)
    s.on_mark_sent(u.mark)
    assert not await s.wait_played(0.05)
    asyncio.get_running_loop().call_later(0.05, s.on_mark_echo, u.mark)
    assert await s.wait_played(2.0)
    turn = s.turn_report()[0]
    assert turn["latency_ms"] is not None and turn["first_audio_out_ms"] >= turn["tts_first_ms"]
    assert s.final_transcript()[0]["speaker"] == "lisa"


def _serializer() -> tuple[TwilioStreamSerializer, CallSession, list[tuple[str, str]], TwilioMessages]:
    s = session()
    ended: list[tuple[str, str]] = []
    tracker = StreamTracker()
    twilio = TwilioMessages("MZ1", "CA1", "AC1")
    tracker.feed(twilio.connected())
    tracker.feed(twilio.start({"direction": "inbound"}))
    return TwilioStreamSerializer(tracker, s, lambda by, why: ended.append((by, why))), s, ended, twilio


async def test_serializer_turns_twilio_messages_into_frames():
    ser, s, ended, twilio = _serializer()
    frame = await ser.deserialize(twilio.media(b"\xff" * 160, 0))
    assert isinstance(frame, InputAudioRawFrame) and frame.sample_rate == 8000 and len(frame.audio) == 320
    dtmf = await ser.deserialize(twilio.dtmf("0"))
    assert isinstance(dtmf, InputDTMFFrame) and dtmf.button.value == "0"
    reply = s.new_reply()
    u = s.queue_utterance(reply, 1, "Hi.", 0.1)
    assert await ser.deserialize(twilio.mark(u.mark)) is None and u.echoed_t is not None
    assert await ser.deserialize(twilio.stop()) is None
    assert ended == [("party", "stream stopped")]


async def test_a_quiet_line_enters_the_pipeline_100_ms_at_a_time_and_sound_flushes_it():
    ser, _s, _ended, twilio = _serializer()
    silence, tone = (
        b"\xff" * 160,
        pcm16_to_ulaw((np.sin(np.arange(160) / 3) * 8000).astype(np.int16).tobytes()),
    )
    sizes = []
    for i in range(58):  # 1.16 s of quiet line
        frame = await ser.deserialize(twilio.media(silence, i * 20))
        sizes.append(len(frame.audio) if frame else 0)
    assert sizes[:50] == [320] * 50  # the first second goes through frame by frame
    assert sizes[50:55] == [0, 0, 0, 0, 1600] and sizes[55:] == [0, 0, 0]  # then 100 ms at a time
    frame = await ser.deserialize(twilio.media(tone, 58 * 20))  # speech: what was held comes along at once
    assert frame is not None and len(frame.audio) == 4 * 320 and frame.audio[-320:] == ulaw_to_pcm16(tone)
    frame = await ser.deserialize(twilio.media(silence, 59 * 20))  # the pause after it is not batched
    assert frame is not None and len(frame.audio) == 320


async def test_serializer_ends_only_this_call_on_garbage_and_ignores_the_rest():
    ser, s, ended, twilio = _serializer()
    assert await ser.deserialize("{not json") is None
    assert ended and ended[0][0] == "system" and "not JSON" in ended[0][1]
    assert await ser.deserialize(twilio.media(b"\xff" * 160, 20)) is None  # nothing after the error
    assert len(ended) == 1 and "not JSON" in (s.protocol_error or "")


async def test_serializer_rejects_another_stream_and_a_second_start():
    for bad in (
        json.dumps({"event": "media", "streamSid": "MZother", "media": {"payload": "//8="}}),
        TwilioMessages("MZ1", "CA1", "AC1").start({}),
    ):
        ser, _s, ended, _ = _serializer()
        await ser.deserialize(bad)
        assert ended and ended[0][0] == "system"


async def test_serializer_writes_twilio_media_clear_and_marks():
    ser, s, _ended, _ = _serializer()
    out = OutboundMessages("MZ1")
    media = await ser.serialize(
        OutputAudioRawFrame(audio=b"\x00\x00" * 160, sample_rate=8000, num_channels=1)
    )
    assert media == out.media(b"\xff" * 160)
    assert await ser.serialize(InterruptionFrame()) == out.clear()
    mark = await ser.serialize(OutputTransportMessageFrame(message={"event": "mark", "name": "lisa-1-10"}))
    assert json.loads(mark) == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "lisa-1-10"}}


def test_text_helpers():
    assert first_phrase_split("Sure, what day and time would suit you?") == [
        "Sure,",
        "what day and time would suit you?",
    ]
    assert first_phrase_split("Thank you for calling, goodbye!") == ["Thank you for calling, goodbye!"]
    assert first_phrase_split("Hello.") == ["Hello."]
    assert len(pad_to_frames(b"\x01" * 321)) == 640
    assert sentence_finished("Okay, thank you. Bye!") and not sentence_finished("I would like to")
    assert not sentence_finished("Well...")
    assert word_count("Mhm.") == 1 and word_count("I'd like a - an appointment") == 4 + 1


@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_call_store_round_trip(db_url):
    db = await Database.connect(db_url)
    try:
        store = CallStore(db)
        kwargs = dict(
            stream_sid="MZ1",
            direction="inbound",
            from_masked="+49******678",
            to_masked="+49****000",
            request_id=None,
            conversation_id="c1",
            language="en",
        )
        await store.started(call_sid="CA1", **kwargs)
        await store.started(call_sid="CA1", **kwargs)  # a reconnecting stream starts the record over
        await store.ended(
            "CA1",
            ended_by="lisa",
            reason="completed",
            outcome={"status": "booked"},
            transcript=[{"speaker": "party", "text": "Grüß Gott", "start_ms": 1.0, "end_ms": 2.0}],
            turns=[{"latency_ms": 512.0}],
        )
        record = await store.get("CA1")
        assert record["outcome"] == {"status": "booked"} and record["ended_by"] == "lisa"
        assert record["transcript"][0]["text"] == "Grüß Gott" and record["turns"][0]["latency_ms"] == 512.0
        assert [c["call_sid"] for c in await store.list()] == ["CA1"]
        assert await store.get("CA2") is None
    finally:
        await db.close()


async def test_calls_api(app_server):
    server = await app_server()
    await CallStore(server.state.db).started(
        call_sid="CAx",
        stream_sid="MZx",
        direction="outbound",
        from_masked="",
        to_masked="+49****678",
        request_id="r1",
        conversation_id="c",
        language="de",
    )
    async with httpx.AsyncClient(base_url=server.url) as client:
        listed = (await client.get("/api/calls")).json()["calls"]
        assert listed[0]["call_sid"] == "CAx" and listed[0]["ended_at"] is None
        assert (await client.get("/api/calls/CAx")).json()["request_id"] == "r1"
        missing = await client.get("/api/calls/CAnope")
        assert missing.status_code == 404 and "CAnope" in missing.json()["detail"]
        assert (await client.get("/api/calls", params={"limit": 0})).status_code == 422


@pytest.mark.parametrize(
    ("decoded", "kept"),
    [
        ("And the name of the patient, please. Please.", "And the name of the patient, please."),
        ("Thanks, bye. Bye.", "Thanks, bye."),
        ("Monday at ten. Monday at ten. Monday at", "Monday at ten."),  # a decoder loop
        ("Yes. Tuesday at ten works.", "Yes. Tuesday at ten works."),
        ("Ten. Then what?", "Ten. Then what?"),
    ],
)
def test_whisper_echoes_and_loops_are_cut(decoded, kept):
    from pipelines.local_models import _first_pass

    assert _first_pass(decoded) == kept
