"""The TTS stall watchdog (``pipelines.tts_failover.CloudSpeech``) on a real event loop: a sentence with no
cloud audio within the stall limit fails over to Piper; when the watchdog itself fires late (the process's
event loop was behind, blocked here for real), the cloud's audio may be sitting unread in the socket, so the
readers get another moment (up to ``LAG_GRACE`` stall limits) before the call is handed to Piper."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from agent.conversation import Conversation, Language, Mode
from pipelines import tts_failover
from pipelines.call_session import CallSession
from pipelines.frames import LisaSpeechFrame
from pipelines.tts_failover import CloudSpeech

STALL_S = 0.3


def block_loop(seconds: float) -> None:
    """Hold the event loop (what an overloaded process does to every call on it)."""
    time.sleep(seconds)


class AudioOut:
    """Where the failover frame goes: kept, so the test sees whether the call was handed to Piper."""

    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def queue_frame(self, frame: Any) -> None:
        self.frames.append(frame)

    def create_task(self, coroutine: Any, name: str) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(coroutine, name=name)


def _speech() -> CloudSpeech:
    session = CallSession("CA1", "MZ1", "inbound", {}, Conversation(Mode.INBOUND, Language.EN))
    speech = CloudSpeech(session, STALL_S)
    speech.out = AudioOut()  # type: ignore[assignment]  # the failover's receiving end
    speech.to_cloud(LisaSpeechFrame(text="How can I help you?", reply=1, index=1))
    return speech


async def test_no_audio_within_the_stall_limit_fails_over():
    speech = _speech()
    await asyncio.sleep(STALL_S + 0.15)
    assert speech.failed and speech.session.conversation.events[-1].type == "provider_failover"


async def test_a_loop_that_was_behind_gives_the_readers_a_moment_and_their_audio_counts():
    speech = _speech()
    block_loop(STALL_S + 0.3)  # the watchdog fires 0.3 s late
    await asyncio.sleep(0.01)
    assert not speech.failed
    speech.progress_t = time.monotonic()  # the audio that waited in the socket is read now
    await asyncio.sleep(STALL_S * 0.8)
    assert not speech.failed


async def test_a_stall_under_a_lagging_loop_still_fails_over_within_the_grace():
    speech = _speech()
    block_loop(STALL_S + 0.3)
    await asyncio.sleep(tts_failover.LAG_GRACE * STALL_S)
    assert speech.failed
