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
from doubles.party_voice import phone_line, say, speech

from api.state import Overrides
from pipelines.settings import VoiceSettings
from simulation.media_stream_client import MediaStreamClient
from simulation.scripted_party import voiced_margins_ms

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


async def one_line(*parts: str | int) -> bytes:
    """8 kHz PCM of the party saying the strings of ``parts`` with exactly the pauses (ms) between them (each
    said part without the silence Piper puts around it)."""
    pcm = bytearray()
    for part in parts:
        if isinstance(part, int):
            pcm.extend(bytes(8000 * part // 1000 * 2))
            continue
        said = await phone_line(part)
        lead, tail = voiced_margins_ms(said)
        pcm.extend(said[int(lead * 8) * 2 : len(said) - int(tail * 8) * 2])
    return bytes(pcm)


def quick_turns() -> VoiceSettings:
    """Every finished sentence ends the turn after 0.2 s of silence (whatever Whisper's certainty): a pause
    of 0.4 s after one is sure to be taken for the end of the turn."""
    return VoiceSettings(
        _env_file=None, lisa_turn_fast_stop_s=0.2, lisa_turn_sure_stop_s=0.2, lisa_turn_sure_closing=0.0
    )


async def test_one_word_that_goes_on_before_lisa_was_heard_is_the_rest_of_the_turn(app_server):
    """ "Okay, thank you. [0.4 s] Goodbye.": Lisa takes the pause for the end of the turn and starts her answer;
    the one word over it, said before any of it can have reached the caller, is no backchannel but the rest of
    their turn: her answer is cut, both parts are answered as one (goodbye) and she ends the call."""
    server = await app_server(overrides=Overrides(voice_settings=quick_turns()))
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        said_ms = call.now_ms()
        assert await call.send_audio(await one_line("Okay, thank you.", 400, "Goodbye."), sample_rate=8000)
        await call.wait_closed(20)
        sid = call.call_sid

    assert [c for c in call.clears if c > said_ms], "Lisa's answer to the first part was not cut"
    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa", record
    lines = record["transcript"]
    party = [line["text"].lower() for line in lines if line["speaker"] == "party"]
    assert len(party) == 1 and "thank you" in party[0] and "goodbye" in party[0], party  # one turn, one line
    first = next(n for n, line in enumerate(lines) if line["speaker"] == "party")
    answers = [line for line in lines[first:] if line["speaker"] == "lisa"]
    assert answers and "goodbye" in answers[-1]["text"].lower(), lines
    # nothing said to the first part alone reached the caller whole
    assert all(line.get("interrupted") for line in answers[:-1]), lines


async def test_a_goodbye_over_lisas_goodbye_does_not_cut_it(app_server):
    """Lisa's last line (her goodbye) is not interrupted: with the caller's "Bye bye, thanks." over it, her
    goodbye is played to the end, then she hangs up (it may be before the caller is done)."""
    server = await start(app_server)
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        await say(call, "That's all, thank you. Goodbye.")
        await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])
        await asyncio.sleep(0.3)
        assert call.lisa_speaking, "Lisa's goodbye ended before the caller's: the test proves nothing"
        pcm, rate = await speech("Bye bye, thanks.")
        await call.send_audio(pcm, sample_rate=rate)  # False when Lisa hangs up while it is said
        await call.wait_closed(20)
        sid = call.call_sid

    assert not call.clears and not any(u.cleared for u in call.utterances), "the caller's goodbye cut Lisa's"
    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa", record
    assert not [line for line in record["transcript"] if line.get("interrupted")], record["transcript"]


async def test_a_goodbye_over_lisa_is_no_backchannel(app_server):
    """One word, but no backchannel: a caller's "Goodbye." over Lisa's answer (long after it reached them)
    interrupts her; she says goodbye and ends the call."""
    server = await start(app_server)
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False, settle=0.8)
        await say(call, QUESTION)
        await call.wait_lisa_speaking(20, after_ms=call.audio_sends[-1][1])
        await asyncio.sleep(1.0)
        said_ms = call.now_ms()
        await say(call, "Goodbye.")
        await wait_clear(call, said_ms, 10)
        await call.wait_closed(20)
        sid = call.call_sid

    record = await call_record(server, sid)
    assert record["ended_by"] == "lisa", record
    lines = record["transcript"]
    assert "bye" in [line["text"].lower() for line in lines if line["speaker"] == "party"][-1], lines
    assert "bye" in [line["text"].lower() for line in lines if line["speaker"] == "lisa"][-1], lines
