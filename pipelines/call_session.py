"""Everything one phone call keeps while it runs: timing, Lisa's utterances and their marks, transcript.

The pipeline's processors and the serializer share one :class:`CallSession`. Times are ``time.monotonic()``
seconds; everything reported is in ms since the stream's ``start`` message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.conversation import Conversation

log = logging.getLogger(__name__)


def recording_problem(directory: str) -> str | None:
    """Why calls cannot be recorded into ``directory`` (cannot create it, not writable), or None."""
    path = Path(directory)
    probe = path / f".lisa-write-test-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"\0" * 4096)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


CONTINUE_WITHIN_S = 0.3  # a caller speaking this soon after Lisa's first audio went out had not heard her yet


@dataclass
class Utterance:
    """One piece of Lisa's audio, followed by a Twilio mark named ``mark``."""

    mark: str
    reply: int
    text: str
    duration_s: float
    queued_t: float
    first_audio_t: float | None = None
    mark_sent_t: float | None = None
    echoed_t: float | None = None
    cleared: bool = False

    @property
    def pending(self) -> bool:
        return self.echoed_t is None and not self.cleared


@dataclass
class TurnTiming:
    """One exchange: end of the caller's speech → STT final → first sentence → first TTS audio → sent."""

    reply: int
    user_end_t: float | None = None
    stt_final_t: float | None = None
    llm_first_t: float | None = None
    tts_first_t: float | None = None
    first_audio_out_t: float | None = None


@dataclass
class CallSession:
    call_sid: str
    stream_sid: str
    direction: str
    parameters: dict[str, str]
    conversation: Conversation
    started_t: float = field(default_factory=time.monotonic)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    timings: dict[int, TurnTiming] = field(default_factory=dict)
    replies: int = 0
    generating: bool = False  # Lisa's engine is producing a reply
    speech_in_flight: set[tuple[int, int]] = field(
        default_factory=set
    )  # (reply, index) on the way to the TTS
    caller_speaking: bool = False
    music_t: float | None = None  # when the caller's line last played music (hold music is not speech)
    beeps_t: list[float] = field(default_factory=list)  # when each beep on the caller's line ended
    last_activity_t: float = field(default_factory=time.monotonic)
    ended_by: str | None = None
    end_reason: str = ""
    protocol_error: str | None = None
    reply_text: dict[int, str] = field(default_factory=dict)  # reply -> everything Lisa meant to say
    heard: dict[int, str] = field(default_factory=dict)  # reply -> what the caller heard before barging in
    _awaiting_first_audio: list[int] = field(default_factory=list)
    _played: asyncio.Event = field(default_factory=asyncio.Event)
    caller_pcm: bytearray | None = None  # recording (8 kHz PCM) when enabled
    lisa_pcm: bytearray | None = None

    # ------------------------------------------------------------------ time

    def ms(self, t: float | None) -> float | None:
        return None if t is None else round((t - self.started_t) * 1000.0, 1)

    def touch(self) -> None:
        self.last_activity_t = time.monotonic()

    # ------------------------------------------------------------------ replies and utterances

    def new_reply(self, user_end_t: float | None = None, stt_final_t: float | None = None) -> int:
        self.replies += 1
        self.timings[self.replies] = TurnTiming(self.replies, user_end_t, stt_final_t)
        return self.replies

    def reply_audio_t(self, reply: int) -> float | None:
        """When the first audio of ``reply`` went out to the caller (None: none of it did)."""
        starts = [
            u.first_audio_t for u in self.utterances if u.reply == reply and u.first_audio_t is not None
        ]
        return min(starts) if starts else None

    def heard_any(self, reply: int, at: float) -> bool:
        """Whether the caller, speaking from ``at``, could have heard any of ``reply``: its first audio went out
        at least ``CONTINUE_WITHIN_S`` before (people take longer than that to react to what they hear)."""
        first_audio_t = self.reply_audio_t(reply)
        return first_audio_t is not None and at >= first_audio_t + CONTINUE_WITHIN_S

    def goes_on(self, at: float) -> bool:
        """The caller, speaking from ``at`` while Lisa answers their last turn, goes on with that turn: none of
        her answer can have reached them yet (a pause taken for the end of the turn)."""
        timing = self.timings.get(self.replies)
        if timing is None or timing.user_end_t is None or at < timing.user_end_t:
            return False
        return not self.heard_any(self.replies, at)

    def queue_utterance(self, reply: int, index: int, text: str, duration_s: float) -> Utterance:
        u = Utterance(f"lisa-{reply}-{index}", reply, text, duration_s, time.monotonic())
        self.utterances.append(u)
        timing = self.timings.get(reply)
        if timing and timing.tts_first_t is None:
            timing.tts_first_t = u.queued_t
            self._awaiting_first_audio.append(reply)
        self._played.clear()
        return u

    def on_audio_sent(self, pcm: bytes) -> None:
        now = time.monotonic()
        while self._awaiting_first_audio:
            timing = self.timings.get(self._awaiting_first_audio.pop(0))
            if timing and timing.first_audio_out_t is None:
                timing.first_audio_out_t = now
                break
        for u in self.utterances:
            if u.first_audio_t is None and u.mark_sent_t is None and not u.cleared:
                u.first_audio_t = now
                break
        if self.lisa_pcm is not None:
            self._record_lisa(pcm, now)

    def on_mark_sent(self, name: str) -> None:
        for u in self.utterances:
            if u.mark == name:
                u.mark_sent_t = time.monotonic()
                return

    def on_mark_echo(self, name: str) -> None:
        for u in self.utterances:
            if u.mark == name and not u.cleared:
                u.echoed_t = time.monotonic()
                self.touch()
        self._update_played()

    def speech_sent(self, reply: int, index: int) -> None:
        """A piece of Lisa's speech left for the TTS."""
        self.speech_in_flight.add((reply, index))
        self._played.clear()

    def speech_done(self, reply: int, index: int) -> None:
        """The TTS has queued (or dropped) a piece of Lisa's speech."""
        self.speech_in_flight.discard((reply, index))
        self._update_played()

    def _update_played(self) -> None:
        if not self.lisa_audio_pending:
            self._played.set()

    @property
    def lisa_audio_pending(self) -> bool:
        return bool(self.speech_in_flight) or any(u.pending for u in self.utterances[-50:])

    @property
    def lisa_busy(self) -> bool:
        """Lisa is talking (or about to): a reply is being produced or her audio has not been played yet."""
        return self.generating or self.lisa_audio_pending

    def music_playing(self, within_s: float = 1.0) -> bool:
        """Whether the caller's line played music in the last ``within_s`` seconds."""
        return self.music_t is not None and time.monotonic() - self.music_t <= within_s

    async def wait_beep(self, after_t: float, limit_s: float) -> bool:
        """Wait until a beep on the caller's line has ended after ``after_t`` (a mailbox's "speak after the
        tone"); False after ``limit_s`` without one."""
        deadline = time.monotonic() + limit_s
        while not any(t > after_t for t in self.beeps_t):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def wait_played(self, limit_s: float) -> bool:
        """Wait until all of Lisa's speech so far was played (its marks came back); False after ``limit_s``."""
        if not self.lisa_audio_pending:
            return True
        try:
            await asyncio.wait_for(self._played.wait(), limit_s)
            return True
        except TimeoutError:
            return False

    def pending_audio_s(self) -> float:
        return sum(u.duration_s for u in self.utterances[-50:] if u.pending)

    def barge_in(self, at: float) -> tuple[int | None, str]:
        """The caller spoke over Lisa at ``at``: drop her unplayed audio; returns (reply, what was heard)."""
        pending = [u for u in self.utterances if u.pending]
        flying = sorted(self.speech_in_flight)
        self.speech_in_flight.clear()  # the TTS drops what it has not spoken yet
        if not pending:
            if flying:
                self.heard[flying[0][0]] = ""
            self._update_played()
            return (flying[0][0], "") if flying else (None, "")
        reply = pending[0].reply
        heard: list[str] = []
        previous_end: float | None = None
        for u in self.utterances:
            if u.reply != reply:
                continue
            if u.echoed_t is not None and u.echoed_t <= at:
                heard.append(u.text)
                previous_end = u.echoed_t
                continue
            began = (
                max(t for t in (previous_end, u.first_audio_t) if t is not None)
                if (previous_end or u.first_audio_t)
                else None
            )
            if began is not None and u.duration_s > 0 and at > began:
                words = u.text.split()
                share = min(1.0, (at - began) / u.duration_s)
                heard.append(" ".join(words[: int(len(words) * share)]))
            break
        for u in pending:
            u.cleared = True
        self._update_played()
        return reply, " ".join(h for h in heard if h).strip()

    # ------------------------------------------------------------------ transcript and report

    def add_line(self, speaker: str, text: str, start_t: float, end_t: float, goes_on: bool = False) -> None:
        """A line of the transcript; ``goes_on``: the rest of the speaker's last line (a caller who went on
        before hearing Lisa's answer: one turn, one line). A line is replaced, never changed in place (the
        console compares the lines it has sent)."""
        text = text.strip()
        if not text:
            return
        last = self.transcript[-1] if self.transcript else None
        if (
            goes_on
            and last is not None
            and last["speaker"] == speaker
            and not last["text"].startswith("[DTMF")
        ):
            self.transcript[-1] = {**last, "text": f"{last['text']} {text}", "end_ms": self.ms(end_t)}
            return
        self.transcript.append(
            {"speaker": speaker, "text": text, "start_ms": self.ms(start_t), "end_ms": self.ms(end_t)}
        )

    def turn_report(self) -> list[dict[str, Any]]:
        rows = []
        for t in self.timings.values():
            if t.user_end_t is None:
                continue
            latency = (
                round((t.first_audio_out_t - t.user_end_t) * 1000.0, 1)
                if t.first_audio_out_t is not None
                else None
            )
            rows.append(
                {
                    "user_end_ms": self.ms(t.user_end_t),
                    "stt_final_ms": self.ms(t.stt_final_t),
                    "llm_first_ms": self.ms(t.llm_first_t),
                    "tts_first_ms": self.ms(t.tts_first_t),
                    "first_audio_out_ms": self.ms(t.first_audio_out_t),
                    "latency_ms": latency,
                }
            )
        return rows

    # ------------------------------------------------------------------ recording

    def record_caller(self, pcm: bytes) -> None:
        if self.caller_pcm is not None:
            self.caller_pcm.extend(pcm)

    def _record_lisa(self, pcm: bytes, now: float) -> None:
        assert self.lisa_pcm is not None
        at = int((now - self.started_t) * 8000) * 2
        at = max(at, getattr(self, "_lisa_cursor", 0))
        if len(self.lisa_pcm) < at:
            self.lisa_pcm.extend(b"\x00" * (at - len(self.lisa_pcm)))
        self.lisa_pcm[at : at + len(pcm)] = pcm
        self._lisa_cursor = at + len(pcm)

    def write_recording(self, directory: str) -> str | None:
        """Write both sides as a stereo WAV (caller left, Lisa right) into ``directory``; returns its path.
        When it cannot be written (unwritable, disk full) a warning is logged, nothing half-written is left
        and None is returned: a call is never lost for its recording."""
        if self.caller_pcm is None:
            return None
        import numpy as np

        caller = np.frombuffer(bytes(self.caller_pcm), dtype=np.int16)
        lisa = np.frombuffer(bytes(self.lisa_pcm or b""), dtype=np.int16)
        n = max(len(caller), len(lisa))
        stereo = np.zeros((n, 2), dtype=np.int16)
        stereo[: len(caller), 0] = caller
        stereo[: len(lisa), 1] = lisa
        path = Path(directory) / f"{self.call_sid}.wav"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f, wave.open(f, "wb") as w:
                w.setnchannels(2)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(stereo.tobytes())
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            log.warning(
                "call %s: recording not written (%s: %s); the call record is kept without it",
                self.call_sid,
                type(exc).__name__,
                exc.strerror or exc,
            )
            with contextlib.suppress(OSError):
                if path.is_file() and not path.is_symlink():
                    path.unlink()
            return None
        return str(path)

    def final_transcript(self) -> list[dict[str, Any]]:
        """Caller lines as heard, plus Lisa's replies with when they were played (interrupted ones cut)."""
        lines = list(self.transcript)
        for reply, text in self.reply_text.items():
            played = [u for u in self.utterances if u.reply == reply]
            starts = [u.first_audio_t for u in played if u.first_audio_t is not None]
            if not starts:
                continue
            ends = [u.echoed_t or u.mark_sent_t or u.first_audio_t for u in played]
            line: dict[str, Any] = {
                "speaker": "lisa",
                "text": self.heard.get(reply, text) if reply in self.heard else text,
                "start_ms": self.ms(min(starts)),
                "end_ms": self.ms(max(t for t in ends if t is not None)),
            }
            if reply in self.heard:
                line["interrupted"] = True
            lines.append(line)
        return sorted(lines, key=lambda r: r["start_ms"] or 0.0)
