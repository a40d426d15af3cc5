"""The scripted party over a real WebSocket: a small Twilio-media-streams server plays "Lisa" with tones.

The server answers each stretch of party speech (energy, then 300 ms of quiet) with a tone and a mark,
clears its audio when the party talks over it, and records what the party sent (frames, DTMF, stop).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from pipelines.audio import wav_bytes
from simulation.impairments import Channel
from simulation.media_stream_client import MediaStreamClient
from simulation.scripted_party import PartyTurn, ScriptedParty
from telephony.audio_codec import pcm16_to_ulaw, ulaw_to_pcm16
from telephony.media_stream import Dtmf, Media, OutboundMessages, Start, Stop, StreamTracker


def tone(ms: int, freq: float = 440.0, rate: int = 8000, amp: int = 8000) -> bytes:
    n = rate * ms // 1000
    return (np.sin(2 * math.pi * freq * np.arange(n) / rate) * amp).astype(np.int16).tobytes()


@dataclass
class ToneLisa:
    """Server-side "Lisa": greets, then answers each party turn after ``reply_delay_ms`` with a tone."""

    greeting_ms: int = 600
    reply_ms: int = 400
    reply_delay_ms: int = 150
    greet: bool = True
    frames: int = 0
    voiced_frames: int = 0
    frame_times: list[float] = field(default_factory=list)
    party_turn_ends: list[float] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    clears: int = 0
    stopped: bool = False
    t0: float = 0.0
    frame_rms: list[float] = field(default_factory=list)

    async def handler(self, ws: ServerConnection) -> None:
        tracker = StreamTracker()
        out: OutboundMessages | None = None
        speaking_until = 0.0
        voiced = False
        last_voice = 0.0
        tasks: list[asyncio.Task[None]] = []

        async def say(ms: int, delay_ms: int = 0) -> None:
            nonlocal speaking_until
            await asyncio.sleep(delay_ms / 1000)
            ulaw = pcm16_to_ulaw(tone(ms, 660.0))
            speaking_until = time.monotonic() + ms / 1000
            for i in range(0, len(ulaw), 160):
                await ws.send(out.media(ulaw[i : i + 160]))
            await ws.send(out.mark(f"lisa-{len(tasks)}"))

        async for raw in ws:
            msg = tracker.feed(raw)
            now = time.monotonic()
            if isinstance(msg, Start):
                self.t0 = now
                out = OutboundMessages(msg.stream_sid)
                if self.greet:
                    tasks.append(asyncio.create_task(say(self.greeting_ms)))
            elif isinstance(msg, Media):
                self.frames += 1
                self.frame_times.append(now)
                pcm = np.frombuffer(ulaw_to_pcm16(msg.payload), dtype=np.int16).astype(np.float64)
                rms = float(np.sqrt(np.mean(pcm**2)))
                self.frame_rms.append(rms)
                if rms > 1500:
                    self.voiced_frames += 1
                    if not voiced and now < speaking_until:  # barge-in: stop talking
                        self.clears += 1
                        speaking_until = now
                        await ws.send(out.clear())
                    voiced, last_voice = True, now
                elif voiced and now - last_voice > 0.3:
                    voiced = False
                    self.party_turn_ends.append((last_voice - self.t0) * 1000)
                    tasks.append(asyncio.create_task(say(self.reply_ms, self.reply_delay_ms)))
            elif isinstance(msg, Dtmf):
                self.digits.append(msg.digit)
                tasks.append(asyncio.create_task(say(self.reply_ms, self.reply_delay_ms)))
            elif isinstance(msg, Stop):
                self.stopped = True
        for task in tasks:
            task.cancel()


@pytest.fixture
async def tone_lisa() -> AsyncIterator[tuple[ToneLisa, str]]:
    lisa = ToneLisa()
    async with serve(lisa.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield lisa, f"ws://127.0.0.1:{port}/twilio/media"


@pytest.fixture
def beep_wav(tmp_path: Path) -> Path:
    """A 16 kHz WAV (the party resamples it to 8 kHz)."""
    path = tmp_path / "beep.wav"
    path.write_bytes(wav_bytes(tone(500, 300.0, rate=16000), 16000))
    return path


def test_party_turn_needs_exactly_one_action() -> None:
    assert PartyTurn(say="Hello").action == "say"
    assert PartyTurn(dtmf="0").action == "dtmf"
    assert PartyTurn(hangup=True, barge_in_after_ms=300).action == "hangup"
    for bad in ({}, {"say": "a", "audio": "b.wav"}, {"say": "  "}, {"dtmf": "x"}, {"silence_ms": -1}):
        with pytest.raises(ValueError):
            PartyTurn.model_validate(bad)


async def test_party_waits_for_lisa_then_speaks_and_measures_latency(tone_lisa, beep_wav) -> None:
    lisa, url = tone_lisa
    party = ScriptedParty(
        [{"audio": beep_wav.name}, {"audio": str(beep_wav)}], base_dir=beep_wav.parent, linger_s=0.5
    )
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
    assert party.record.error is None
    assert [t.action for t in party.record.turns] == ["audio", "audio"]
    first = party.record.turns[0]
    greeting = call.utterances[0]
    # the first turn started only after the greeting had played (600 ms tone)
    assert first.start_ms >= greeting.first_media_ms + 600 - 40
    assert len(party.turn_latency_ms) == 2
    for latency in party.turn_latency_ms:
        # the server answers 300 ms after the speech ends (its end-of-turn) + reply_delay_ms
        assert 300 <= latency <= 1500, party.turn_latency_ms
    assert [line["text"] for line in party.lines] == [f"[audio {beep_wav.name}]", f"[audio {beep_wav}]"]
    assert lisa.voiced_frames >= 2 * 20  # 2 x 500 ms of tone, 20 ms frames
    assert party.record.hung_up and not party.record.lisa_hung_up  # Lisa never hung up: the party did
    assert lisa.stopped
    # what the line carried is recorded with its time (for the stereo WAV)
    assert party.record.sent_audio and party.record.sent_audio[-1].at_ms > first.end_ms


async def test_barge_in_interrupts_lisa(tone_lisa, beep_wav) -> None:
    lisa, url = tone_lisa
    lisa.greeting_ms = 4000
    party = ScriptedParty([{"audio": str(beep_wav), "barge_in_after_ms": 700}], linger_s=0.3)
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
    turn = party.record.turns[0]
    greeting = call.utterances[0]
    assert 650 <= turn.start_ms - greeting.first_media_ms <= 1000
    assert lisa.clears == 1 and len(call.clears) == 1
    assert greeting.cleared


async def test_dtmf_silence_and_hangup(tone_lisa) -> None:
    lisa, url = tone_lisa
    party = ScriptedParty([{"dtmf": "0"}, {"silence_ms": 300}, {"hangup": True}])
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
        assert call.closed
    assert lisa.digits == ["0"]
    assert [t.action for t in party.record.turns] == ["dtmf", "silence_ms", "hangup"]
    assert party.record.turns[1].end_ms - party.record.turns[1].start_ms >= 290
    assert party.record.hung_up and lisa.stopped
    assert party.lines[0]["text"] == "[dtmf 0]" and party.lines[-1]["text"] == "[hangs up]"
    assert len(party.turn_latency_ms) == 1  # Lisa answered the key press


async def test_hangup_mid_sentence(tone_lisa) -> None:
    lisa, url = tone_lisa
    lisa.greeting_ms = 3000
    party = ScriptedParty([{"hangup": True, "barge_in_after_ms": 500}])
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
    assert lisa.stopped
    assert 450 <= party.record.turns[0].start_ms - call.utterances[0].first_media_ms <= 900


async def test_party_speaks_first_on_outbound_calls(tone_lisa, beep_wav) -> None:
    lisa, url = tone_lisa
    lisa.greet = False
    party = ScriptedParty([{"audio": str(beep_wav)}], first_speaker="party", linger_s=0.3)
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
    assert party.record.turns[0].start_ms < 300
    assert call.utterances and call.utterances[0].first_media_ms > party.record.turns[0].end_ms


async def test_dropped_frames_and_noise_reach_the_server(tone_lisa, beep_wav) -> None:
    lisa, url = tone_lisa
    lisa.greet = False
    channel = Channel(snr_db=20, drop_rate=0.3, seed=7)
    party = ScriptedParty([{"audio": str(beep_wav)}], channel=channel, first_speaker="party", linger_s=0.5)
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
        sent = call._frame_index  # frames the line produced (before the hook dropped some)
    assert 0.15 < 1 - lisa.frames / sent < 0.45
    quiet = [r for r in lisa.frame_rms if r < 1500]
    assert len(quiet) > 10 and min(quiet[5:]) > 50  # line noise between the words, not digital silence


async def test_jitter_delivers_frames_in_bursts(tone_lisa, beep_wav) -> None:
    lisa, url = tone_lisa
    lisa.greet = False
    party = ScriptedParty(
        [{"audio": str(beep_wav)}], channel=Channel(jitter_ms=80, seed=3), first_speaker="party", linger_s=0.2
    )
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 30)
    gaps = np.diff(np.array(lisa.frame_times)) * 1000
    assert (gaps < 5).sum() > 5  # frames arriving back to back (a burst)
    assert (gaps > 30).sum() > 5  # and held back
    # on average still real time: one 20 ms frame per 20 ms
    assert 15 < float(np.mean(gaps)) < 25


@pytest.mark.voice
async def test_say_is_synthesized_in_the_party_voice_and_cached(tone_lisa) -> None:
    from simulation.scripted_party import party_speech

    lisa, url = tone_lisa
    party = ScriptedParty([{"say": "Hello, I would like an appointment."}], linger_s=0.3)
    async with MediaStreamClient.connect(url) as call:
        await asyncio.wait_for(party(call), 60)
    assert party.record.error is None
    assert party.lines[0]["text"] == "Hello, I would like an appointment."
    assert lisa.voiced_frames > 20
    started = time.monotonic()
    again = await party_speech("Hello, I would like an appointment.")
    assert time.monotonic() - started < 0.05 and len(again) > 8000  # cached, > 0.5 s of 8 kHz audio


def test_turn_times_count_the_speech_not_the_silence_around_it() -> None:
    from simulation.scripted_party import voiced_margins_ms

    pcm = bytes(2 * 8 * 100) + tone(300) + bytes(2 * 8 * 240)  # 100 ms quiet, 300 ms tone, 240 ms quiet
    assert voiced_margins_ms(pcm) == (100.0, 240.0)
    assert voiced_margins_ms(bytes(3200)) == (0.0, 0.0)
    assert voiced_margins_ms(b"") == (0.0, 0.0)
