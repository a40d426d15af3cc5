"""ElevenLabs failing in the middle of a call (issue 15): its socket closing as a sentence arrives, or a sentence
never answered (a stall), hands that call's speech to the embedded Piper voice for the rest of the call: the
failed sentence is spoken again, whole, the caller hears every reply, a ``provider_failover`` event says so
and the call still books. The cloud stack against the protocol servers (fixtures of test_cloud_providers)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from call_support import app_stream
from doubles.app_calls import call_record, lisa_text
from doubles.call_hooks import RecordingHooks
from doubles.party_voice import say
from test_cloud_providers import BOOKING_LINES, cloud, dominant_hz, script_booking, start  # noqa: F401

from pipelines import inference
from pipelines.call_pipeline import ACTIVE_CALLS
from pipelines.local_tts import pad_to_frames
from telephony.audio_codec import pcm16_to_ulaw

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]

GREETING = ("Parkside Physiotherapy, this is Lisa.", "How can I help you?")
LATER_LINES = ("Tomorrow at ten is free.", "May I have your name?", "You're booked for Tuesday at ten, Anna.")


async def reply_done(call: Any, new_utterance: bool = True) -> None:
    """Wait until Lisa's whole reply was played: a pause between two of its sentences (Piper synthesizing on a
    busy machine) is not its end, so the call's session must say she is done too."""
    await call.wait_lisa_done(25, new_utterance=new_utterance)
    while (session := ACTIVE_CALLS.get(call.call_sid)) is not None and session.lisa_busy:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await call.wait_lisa_done(25, new_utterance=False)


async def booking_call(server: Any) -> Any:
    """The caller books over the cloud stack (``script_booking``); returns the finished call."""
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(10)
        await reply_done(call, new_utterance=False)
        for line in BOOKING_LINES:
            await say(call, line)
            await reply_done(call)
        await call.wait_closed(20)
    return call


def said_by_piper(call: Any, mark: str, text: str) -> bool:
    """The piece with ``mark`` is, byte for byte, Piper's rendition of ``text`` as the app synthesized it (its
    speech cache), μ-law as on the line: the whole sentence in Lisa's local voice. (Transcribing it instead
    depends on the rendition: Piper's noise is random, and Whisper tiny heard "booked" as "both" and a lone
    "Goodbye!" as "Bye", "5" or nothing in some of them.)"""
    pcm = inference._TTS_CACHE.get(text)
    piece = next(u for u in call.utterances if mark in u.marks)
    return pcm is not None and bytes(piece.ulaw) == pcm16_to_ulaw(pad_to_frames(pcm))


async def check_call(
    server: Any, providers: Any, hooks: RecordingHooks, call: Any, why: str, marks: list[str]
) -> list[str]:
    """Booked, one failover event (in the record too), every sentence played: ``marks`` came back in order
    (ElevenLabs' are ``lisa-<reply>-<sentence>``, Piper's ``lisa-<reply>-<sentence>0``), none by a clear.
    Returns what ElevenLabs spoke."""
    sid = call.call_sid
    record = await call_record(server, sid)
    assert record["outcome"]["status"] == "booked" and record["ended_by"] == "lisa"
    failovers = [e for e in hooks.events[sid] if e.type == "provider_failover"]
    assert len(failovers) == 1, failovers
    assert failovers[0].message.startswith(f"tts: {why}")
    assert failovers[0].message.endswith("; Piper speaks the rest of the call")
    assert "provider_failover" in [e["type"] for e in record["events"]]
    assert [m.name for m in call.marks] == marks and not call.clears
    assert all(line in lisa_text(record) for line in LATER_LINES), lisa_text(record)
    return [t.strip() for c in providers.elevenlabs.contexts() for t in c.spoken]


async def test_elevenlabs_dropping_mid_reply_hands_the_call_to_piper_and_it_books(app_server, cloud):  # noqa: F811
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.elevenlabs.fail_after(1, "drop")  # the greeting's second sentence: the socket closes as it arrives
    script_booking(cloud)
    call = await booking_call(server)

    marks = ["lisa-1-1", "lisa-1-20", "lisa-2-10", "lisa-2-20", "lisa-2-30", "lisa-3-10", "lisa-3-20"]
    spoken = await check_call(server, cloud, hooks, call, "elevenlabs failed", marks)
    assert spoken == [GREETING[0]]  # nothing after the failure went to ElevenLabs (it was back at once)
    assert cloud.elevenlabs.failed == [GREETING[1]]
    # the greeting's first sentence in ElevenLabs' voice (its 140 Hz tone), the failed one again by Piper
    greeting = next(u for u in call.utterances if "lisa-1-1" in u.marks)
    assert abs(dominant_hz(greeting.pcm()) - 140) < 5
    assert said_by_piper(call, "lisa-1-20", GREETING[1])


@pytest.mark.parametrize(
    ("after", "marks", "piper"),
    [
        # the greeting is spoken; the first answer never is
        (
            2,
            ["lisa-1-1", "lisa-1-2", "lisa-2-10", "lisa-2-20", "lisa-2-30", "lisa-3-10", "lisa-3-20"],
            {
                "lisa-2-10": "Let me check.",
                "lisa-2-20": "Tomorrow at ten is free.",
                "lisa-2-30": "May I have your name?",
            },
        ),
        # everything up to the goodbye reply, which Piper says before the call is hung up
        (
            5,
            ["lisa-1-1", "lisa-1-2", "lisa-2-1", "lisa-2-2", "lisa-2-3", "lisa-3-10", "lisa-3-20"],
            {"lisa-3-10": "You're booked for Tuesday at ten, Anna.", "lisa-3-20": "Goodbye!"},
        ),
    ],
    ids=["first-answer", "goodbye"],
)
async def test_a_stalled_elevenlabs_hands_the_call_to_piper_which_says_the_reply_whole(
    app_server,
    cloud,  # noqa: F811
    after: int,
    marks: list[str],
    piper: dict[str, str],
):
    hooks = RecordingHooks()
    server = await start(app_server, cloud, hooks=[hooks])
    cloud.elevenlabs.fail_after(after, "stall")
    script_booking(cloud)
    call = await booking_call(server)

    spoken = await check_call(server, cloud, hooks, call, "no audio within 1 s of a sentence", marks)
    sentences = [*GREETING, "Let me check.", *LATER_LINES]
    assert spoken == sentences[:after]  # nothing after the stall went to ElevenLabs
    assert cloud.elevenlabs.failed[0] == sentences[after]
    # Piper said the stalled sentence and the rest of its reply, each whole
    assert all(said_by_piper(call, mark, text) for mark, text in piper.items()), piper
