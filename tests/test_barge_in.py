"""README's barge-in threshold over a real call (embedded default: Silero VAD, Whisper, Piper, rule brain):
while Lisa speaks, a one-word backchannel ("yeah", "right") or a cough neither interrupts her nor becomes a
turn; two words ("sorry, wait") interrupt her (a Twilio ``clear``) and what she said is cut where it was heard.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from call_support import app_stream
from doubles.app_calls import call_record
from doubles.party_voice import say

from api.state import Overrides
from pipelines.settings import VoiceSettings
from simulation.media_stream_client import MediaStreamClient

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]

QUESTION = "What services do you offer?"  # a long answer (~8 s): room for noises over it


def cough(seed: int = 11) -> bytes:
    """A double cough as a phone line carries it (8 kHz): two loud bursts of shaped noise, 180 and 140 ms,
    sharp attack and fast decay, 120 ms apart — energy like speech, but no voice and no words."""
    rng = np.random.default_rng(seed)
    out = []
    for ms, gain in ((180, 9000.0), (140, 6000.0)):
        n = 8000 * ms // 1000
        t = np.arange(n) / 8000
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (ms / 1000 / 3))
        noise = np.convolve(rng.normal(0, 1, n), np.ones(4) / 4, mode="same")  # the line's low-pass
        out.append(noise / (noise.std() or 1) * envelope * gain)
        out.append(np.zeros(8000 * 120 // 1000))
    return np.clip(np.concatenate(out), -32768, 32767).astype(np.int16).tobytes()


async def start(app_server: Any) -> Any:
    return await app_server(overrides=Overrides(voice_settings=VoiceSettings(_env_file=None)))


async def wait_clear(call: MediaStreamClient, after_ms: float, limit_s: float) -> float:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        clears = [c for c in call.clears if c > after_ms]
        if clears:
            return clears[0]
        await asyncio.sleep(0.05)
    raise AssertionError("two words over Lisa did not interrupt her")


async def test_one_word_and_a_cough_do_not_interrupt_lisa_two_words_do(app_server):
    server = await start(app_server)
    async with app_stream(server) as call:
        greeting = await call.wait_lisa_speaking(5)
        await asyncio.sleep(0.6)
        await say(call, "Yeah.")  # a backchannel over the greeting
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        assert not call.clears and not greeting.cleared, "a one-word 'yeah' interrupted Lisa"

        await say(call, QUESTION)
        answer = await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])
        await asyncio.sleep(0.6)
        assert await call.send_audio(cough(), sample_rate=8000)
        await asyncio.sleep(1.0)
        assert not call.clears, "a cough interrupted Lisa"
        await say(call, "Right.")  # another single word, mid-answer
        await asyncio.sleep(1.0)
        assert not call.clears, "a one-word 'right' interrupted Lisa"
        assert call.lisa_speaking, "Lisa's answer ended before the two words: the test proves nothing"

        said_ms = call.now_ms()
        await say(call, "Sorry, wait.")  # two words: she stops
        await wait_clear(call, said_ms, 10)
        cleared = [u for u in call.utterances if u.cleared]  # the piece of the answer playing then
        assert cleared and cleared[-1].first_media_ms >= answer.first_media_ms
        assert cleared[-1].played_bytes < len(cleared[-1].ulaw)
        await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])  # the two words were a turn
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        sid = call.call_sid

    record = await call_record(server, sid)
    party = [line["text"].lower() for line in record["transcript"] if line["speaker"] == "party"]
    assert len(party) == 2 and "services" in party[0] and "wait" in party[1], party  # no yeah/right/cough
    interrupted = [line for line in record["transcript"] if line.get("interrupted")]
    assert len(interrupted) == 1 and "anything else" not in interrupted[0]["text"].lower(), record[
        "transcript"
    ]
