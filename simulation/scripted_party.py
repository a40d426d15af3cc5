"""The scripted party: the other side of a phone call with Lisa, played from a scenario's ``party:`` list.

``ScriptedParty(turns, language, channel=None, first_speaker="lisa")`` is an async callable
``(call: MediaStreamClient) -> None``: the replay runner calls it for inbound calls and the loopback carrier
runs it for outbound calls. A turn is one of

- ``say: "text"`` — synthesized with the local Piper voice in :data:`PARTY_STYLE` (never Lisa's settings),
- ``audio: file.wav`` — a recording (any rate, mono; relative to ``base_dir``),
- ``silence_ms: 6000`` — the party says nothing for that long,
- ``dtmf: "0"`` — the party presses keys (a runner extension),
- ``hangup: true`` — the party hangs up,

with ``expect_dtmf: "1"`` on a turn (a phone menu) Lisa must press those keys within :data:`EXPECT_DTMF_S`
before the party goes on (the party hangs up with an error otherwise; keys come from the loopback carrier),

and starts after Lisa has finished speaking (her audio stopped and her marks came back), or with
``barge_in_after_ms`` that long after Lisa starts her next utterance, interrupting her. Like a real line,
the client sends a 20 ms frame every 20 ms for the whole call (silence between the party's turns); the
channel impairments (:mod:`simulation.impairments`) apply to every frame through the client's frame hook.

It records its own lines (``lines``, ms relative to the call start), the end of each turn and the first
audio byte of Lisa after it (``turn_latency_ms``), and everything it sent (``sent_audio``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.audio import read_wav
from simulation.impairments import FRAME_MS, Channel, Impairer, speech_rms
from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

log = logging.getLogger(__name__)

RATE = 8000
ACTIONS = ("say", "audio", "silence_ms", "dtmf", "hangup")
EXPECT_DTMF_S = 10.0  # how long a turn with expect_dtmf waits for Lisa's keys


class PartyTurn(BaseModel):
    """One entry of a scenario's ``party:`` list (unknown keys are kept and ignored)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    say: str | None = None
    audio: str | None = None
    silence_ms: int | None = Field(default=None, ge=0)
    dtmf: str | None = Field(default=None, pattern=r"^[0-9*#wW]+$")
    hangup: bool | None = None
    barge_in_after_ms: int | None = Field(default=None, ge=0)
    expect_dtmf: str | None = Field(default=None, pattern=r"^[0-9*#]+$")

    @model_validator(mode="after")
    def _one_action(self) -> PartyTurn:
        given = [a for a in ACTIONS if getattr(self, a) not in (None, False)]
        if len(given) != 1:
            shown = ", ".join(given) if given else "none"
            raise ValueError(f"a party turn needs exactly one of {', '.join(ACTIONS)} (got {shown})")
        if self.say is not None and not self.say.strip():
            raise ValueError("say must not be empty")
        return self

    @property
    def action(self) -> str:
        return next(a for a in ACTIONS if getattr(self, a) not in (None, False))


@dataclass
class TurnTiming:
    """Client-side timing of one party turn (ms since the call started)."""

    index: int
    action: str
    start_ms: float
    end_ms: float
    lisa_first_audio_ms: float | None = None

    @property
    def latency_ms(self) -> float | None:
        if self.lisa_first_audio_ms is None:
            return None
        return self.lisa_first_audio_ms - self.end_ms


@dataclass
class SentAudio:
    at_ms: float  # when the frame left (ms since the call started)
    pcm: bytes  # 8 kHz 16-bit mono, as the line carried it (impaired); dropped frames are absent


# Synthesized party lines, per process: same text and language -> same audio.
_SPEECH_CACHE: dict[tuple[str, str], bytes] = {}
_SPEECH_LOCKS: dict[tuple[str, str], asyncio.Lock] = {}


async def party_speech(text: str, language: str = "en") -> bytes:
    """8 kHz 16-bit PCM of ``text`` in the party's voice (cached per process)."""
    key = (language, text)
    if key in _SPEECH_CACHE:
        return _SPEECH_CACHE[key]
    lock = _SPEECH_LOCKS.setdefault(key, asyncio.Lock())
    async with lock:
        if key not in _SPEECH_CACHE:
            _SPEECH_CACHE[key] = await asyncio.to_thread(_synthesize_8k, text)
    return _SPEECH_CACHE[key]


def _synthesize_8k(text: str) -> bytes:
    from pipelines.local_models import PARTY_STYLE, synthesize

    pcm, rate = synthesize(text, PARTY_STYLE)
    return resample_pcm16(pcm, rate, RATE)


def voiced_margins_ms(pcm: bytes) -> tuple[float, float]:
    """Silence before and after the speech in 8 kHz PCM (20 ms frames quieter than 1/20 of the loudest)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    n = samples.size // 160
    if n == 0:
        return 0.0, 0.0
    rms = np.sqrt(np.mean(samples[: n * 160].reshape(n, 160) ** 2, axis=1))
    voiced = np.flatnonzero(rms >= max(rms.max() / 20, 1.0))
    if voiced.size == 0:
        return 0.0, 0.0
    return float(voiced[0] * 20), float((n - 1 - voiced[-1]) * 20)


def load_recording(path: Path) -> bytes:
    """8 kHz 16-bit PCM of a WAV file (any rate; stereo is mixed down)."""
    if not path.is_file():
        raise FileNotFoundError(f"party audio file not found: {path}")
    pcm, rate = read_wav(str(path))
    return resample_pcm16(pcm, rate, RATE)


@dataclass
class PartyRecord:
    """What the party did and saw, for reports (times in ms since the stream started)."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnTiming] = field(default_factory=list)
    sent_audio: list[SentAudio] = field(default_factory=list)
    hung_up: bool = False  # the party hung up (a hangup turn, or it gave up waiting at the end)
    lisa_hung_up: bool = False  # the server closed the stream
    error: str | None = None


class ScriptedParty:
    """Plays a scenario's party turns over one media stream (see the module docstring)."""

    def __init__(
        self,
        turns: Iterable[PartyTurn | Mapping[str, Any]],
        language: str = "en",
        channel: Channel | Mapping[str, Any] | None = None,
        first_speaker: Literal["lisa", "party"] = "lisa",
        base_dir: Path | str | None = None,
        reply_timeout_s: float = 15.0,
        linger_s: float = 8.0,
        settle_s: float = 2.0,
    ) -> None:
        self.turns = [t if isinstance(t, PartyTurn) else PartyTurn.model_validate(dict(t)) for t in turns]
        self.language = language
        self.channel = channel if isinstance(channel, Channel) or channel is None else Channel(**channel)
        self.first_speaker = first_speaker
        self.base_dir = Path(base_dir) if base_dir else Path.cwd()
        self.reply_timeout_s = reply_timeout_s
        self.linger_s = linger_s
        self.settle_s = settle_s
        self.record = PartyRecord()
        self.call: Any = None
        self.call_sid: str | None = None
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        self._impairer = Impairer(self.channel)
        self._grid0: float | None = None
        self._measures: list[asyncio.Task[None]] = []

    # -- public ---------------------------------------------------------------------------------------

    @property
    def lines(self) -> list[dict[str, Any]]:
        return self.record.lines

    @property
    def turn_latency_ms(self) -> list[int]:
        """End of each party turn (speech, audio, dtmf) -> first audio byte of Lisa after it."""
        return [round(t.latency_ms) for t in self.record.turns if t.latency_ms is not None]

    async def prepare(self) -> None:
        """Synthesize and load every line up front (so the call is not held up by synthesis), and set
        the line noise level from the party's speech."""
        levels = [speech_rms(pcm) for pcm in [await self._pcm_of(t) for t in self.turns] if pcm]
        if levels:
            self._impairer.set_speech_level(float(np.mean(levels)))

    async def __call__(self, call: Any) -> None:
        self.call = call
        self.call_sid = getattr(call, "call_sid", None)
        call.frame_hook = self._frame_hook
        self.started.set()
        try:
            await self.prepare()
            await self._play()
        except Exception as exc:  # a broken party must still hang up and report
            log.exception("scripted party failed")
            self.record.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.record.lisa_hung_up = bool(getattr(call, "closed_by_server", False))
            if not call.closed:
                self.record.hung_up = True
                with contextlib.suppress(Exception):
                    await call.stop()
            if self._measures:  # they end at once now that the call is closed
                _, pending = await asyncio.wait(self._measures, timeout=2)
                for task in pending:
                    task.cancel()
            self.done.set()

    # -- the script -----------------------------------------------------------------------------------

    async def _play(self) -> None:
        call = self.call
        last_end = 0.0
        for i, turn in enumerate(self.turns):
            if call.closed:
                return
            if turn.barge_in_after_ms is not None:
                lisa_start = await self._lisa_starts_after(last_end, self.reply_timeout_s)
                if lisa_start is not None:
                    wait = lisa_start + turn.barge_in_after_ms - call.now_ms()
                    if wait > 0:
                        await asyncio.sleep(wait / 1000)
            elif i > 0 and (self.turns[i - 1].silence_ms is not None or self.turns[i - 1].expect_dtmf):
                # after a silence (or keys Lisa pressed) there is nothing to answer: only finish hearing a
                # re-prompt, if any
                await self._wait_lisa_reply(last_end, timeout_s=0.3)
            elif not (i == 0 and self.first_speaker == "party"):
                await self._wait_lisa_reply(last_end)
            if call.closed:
                return
            keys_before = len(getattr(call, "digits_heard", ()))
            timing = await self._perform(i, turn)
            self.record.turns.append(timing)
            if turn.expect_dtmf and not await self._keys_pressed(i, turn.expect_dtmf, keys_before):
                return
            if turn.hangup:
                return
            # after a silence, Lisa's re-prompt counts from its start (she may speak up during it)
            last_end = timing.start_ms if turn.silence_ms is not None else timing.end_ms
        # the script is over: hear Lisa's reply out, then give her time to hang up. Like a person on the
        # line, the party does not put the phone down while Lisa is still talking: the linger counts from
        # her last audio (on a loaded machine her goodbye may come late, after the reply timeout)
        await self._wait_lisa_reply(last_end)
        while not call.closed:
            wait_s = self.linger_s - call.lisa_quiet_for_s
            if wait_s <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await call.wait_closed(wait_s)

    async def _keys_pressed(self, index: int, expected: str, since: int) -> bool:
        """Wait for Lisa to press ``expected`` (the keys heard after the first ``since``); False (with the
        error recorded) after :data:`EXPECT_DTMF_S` without them."""
        try:
            heard = await self.call.wait_digits(expected, since, EXPECT_DTMF_S)
        except TimeoutError as exc:
            self.record.error = (
                f"party[{index}].expect_dtmf: Lisa did not press {expected!r} within {EXPECT_DTMF_S:g} s "
                f"(pressed {str(exc) or 'nothing'!r})"
            )
            return False
        self.record.lines.append(_line(f"[hears keys {heard}]", self.call.now_ms(), self.call.now_ms()))
        return True

    async def _perform(self, index: int, turn: PartyTurn) -> TurnTiming:
        call = self.call
        action = turn.action
        start = call.now_ms()
        if action == "hangup":
            self.record.hung_up = True
            self.record.lines.append(_line("[hangs up]", start, start))
            await call.stop()
            return TurnTiming(index, action, start, start)
        if action == "silence_ms":
            await asyncio.sleep((turn.silence_ms or 0) / 1000)
            return TurnTiming(index, action, start, call.now_ms())
        if action == "dtmf":
            for digit in turn.dtmf or "":
                if digit in "wW":  # a pause, as in Twilio's sendDigits
                    await asyncio.sleep(0.5)
                    continue
                await call.send_dtmf(digit)
                await asyncio.sleep(0.1)
            end = call.now_ms()
            self.record.lines.append(_line(f"[dtmf {turn.dtmf}]", start, end))
            return self._measured(TurnTiming(index, action, start, end))
        pcm = await self._pcm_of(turn)
        lead_ms, trail_ms = voiced_margins_ms(pcm)
        sent = call.now_ms()
        with contextlib.suppress(ConnectionError):
            await call.send_audio(pcm, paced=True, sample_rate=RATE)
        done = call.now_ms()
        # the speech itself, without the silence a synthesizer or a recording has around it
        start, end = sent + lead_ms, max(sent + lead_ms, done - trail_ms)
        text = turn.say if turn.say is not None else f"[audio {turn.audio}]"
        self.record.lines.append(_line(text, start, end))
        return self._measured(TurnTiming(index, action, start, end))

    def _measured(self, timing: TurnTiming) -> TurnTiming:
        """Fill in Lisa's first audio after the turn (turn latency) in the background."""

        async def measure() -> None:
            timing.lisa_first_audio_ms = await self._lisa_starts_after(
                timing.end_ms, self.reply_timeout_s + 30
            )

        self._measures.append(asyncio.get_running_loop().create_task(measure()))
        return timing

    async def _pcm_of(self, turn: PartyTurn) -> bytes:
        if turn.say is not None:
            return await party_speech(turn.say, self.language)
        if turn.audio is not None:
            path = Path(turn.audio)
            return await asyncio.to_thread(
                load_recording, path if path.is_absolute() else self.base_dir / path
            )
        return b""

    # -- the line -------------------------------------------------------------------------------------

    async def _frame_hook(self, index: int, frame: bytes) -> bytes | None:
        """Impair each outgoing 20 ms μ-law frame: noise, drops, jitter; record what the line carried."""
        call = self.call
        if self._impairer.channel.jitter_ms > 0:
            now = time.monotonic()
            if self._grid0 is None or now - (self._grid0 + index * FRAME_MS / 1000) > 0.25:
                self._grid0 = now - index * FRAME_MS / 1000  # (re)anchor after a stall
            due = self._impairer.delivery_time(self._grid0 + index * FRAME_MS / 1000)
            if due > now:
                await asyncio.sleep(due - now)
        if self._impairer.drop():
            return None
        if self._impairer.channel.snr_db is not None:
            frame = pcm16_to_ulaw(self._impairer.add_line_noise(ulaw_to_pcm16(frame)))
        self.record.sent_audio.append(SentAudio(call.now_ms(), ulaw_to_pcm16(frame)))
        return frame

    # -- what Lisa does ---------------------------------------------------------------------------------

    async def _lisa_starts_after(self, after_ms: float, timeout_s: float) -> float | None:
        """When Lisa's first audio after ``after_ms`` (stream ms) arrived, waiting up to ``timeout_s``."""
        try:
            utt = await self.call.wait_lisa_speaking(timeout_s, after_ms=after_ms)
        except (TimeoutError, ConnectionError):
            return None
        firsts = [u.first_media_ms for u in self.call.utterances if u.first_media_ms >= after_ms]
        return min(firsts) if firsts else utt.first_media_ms

    async def _wait_lisa_reply(self, after_ms: float, timeout_s: float | None = None) -> None:
        """Wait until Lisa has answered (first audio after ``after_ms``) and finished, or the timeout."""
        if await self._lisa_starts_after(after_ms, timeout_s or self.reply_timeout_s) is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.call.wait_lisa_done(
                self.reply_timeout_s + 30, settle=self.settle_s, new_utterance=False
            )


def _line(text: str, start: float, end: float) -> dict[str, Any]:
    return {"speaker": "party", "text": text, "start_ms": round(start), "end_ms": round(end)}
