"""Lisa's dialogue engine as a pipecat processor: caller turns in, sentence-sized speech out.

It greets first on inbound calls (``engine.opening``) and waits for the callee on outbound ones, streams
each reply's sentences to the TTS as the engine produces them, keeps the engine's history to what the caller
heard after a barge-in (``engine.heard``), turns DTMF ``0`` into a request for a human, re-prompts an idle
caller and ends the call after a second silence or at the maximum call duration. After a reply it carries out
what the engine asked for: ``conv.transfer_to`` (carrier transfer) or ``conv.end_requested`` (the goodbye is
played, its mark comes back, then the call is hung up). A caller who goes on talking before any of Lisa's answer
reached them (a pause taken for the end of the turn: "Oh." … "we've just moved") was not answered: the
conversation goes back to before that answer, unless it changed anything outside (an event), and both parts are
answered as one turn. A caller turn's recognised words and their confidence
go to the engine with its text (``respond``/``preview`` ``words=``), so a brain can confirm a name heard unsure.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputDTMFFrame,
    InterruptionFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from agent import call_situations
from agent.conversation import Conversation, ConversationEvent, Language, Message, Mode
from agent.engine import Engine
from agent.phrases import phrase
from pipelines.call_session import CallSession
from pipelines.frames import CallerTurnFrame, LisaSpeechFrame
from pipelines.settings import VoiceSettings

log = logging.getLogger(__name__)

# Lisa's own lines here (re-prompt, goodbyes, a refused transfer) are ``call.*`` in prompts/<lang>/phrases.yaml.
# DTMF 0 stands for these words of the caller's: the brain understands them as a request for a human.
HUMAN_REQUEST = {
    Language.EN: "I would like to speak to a human, please.",
    Language.DE: "Ich möchte bitte mit einem Mitarbeiter sprechen.",
}

EndCall = Callable[[str, str], Awaitable[None]]  # (ended_by, reason)
EventHook = Callable[[ConversationEvent], Awaitable[None]]
Transfer = Callable[[str], Awaitable[bool | None]]  # False: the carrier refused or failed the transfer
SendDigits = Callable[[str], Awaitable[None]]  # press keys (DTMF) on the call, e.g. in a phone menu


@dataclasses.dataclass
class _Answered:
    """The last caller turn Lisa answered, and the conversation before her answer (to take it back)."""

    reply: int
    text: str
    words: tuple[tuple[str, float], ...]
    before: Conversation


class LisaProcessor(FrameProcessor):
    def __init__(
        self,
        session: CallSession,
        engine: Engine,
        settings: VoiceSettings,
        *,
        end_call: EndCall,
        transfer: Transfer,
        on_event: EventHook,
        prefetch: Callable[[str, int, bool], None] | None = None,
        send_digits: SendDigits | None = None,
        events_seen: int = 0,
    ) -> None:
        super().__init__(name="lisa")
        self._session = session
        self._engine = engine
        self._settings = settings
        self._end_call = end_call
        self._transfer = transfer
        self._on_event = on_event
        self._prefetch = prefetch
        self._send_digits = send_digits
        self._hold_since: float | None = None  # outbound: on hold since (music, a queue, "please hold")
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._watchdog: asyncio.Task | None = None
        self._events_seen = events_seen  # conversation events already reported (a resumed call's)
        self._idle_prompts = 0
        self._heard_applied: set[int] = set()
        self._answered: _Answered | None = None
        self.ending = False

    @property
    def conv(self) -> Conversation:
        return self._session.conversation

    # ------------------------------------------------------------------ frames

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CallerTurnFrame):
            self._on_caller_turn(frame)
            return
        if isinstance(frame, InputDTMFFrame):
            self._on_dtmf(frame.button.value)
            return
        if isinstance(frame, InterruptionFrame):
            await self.push_frame(frame, direction)
            s = self._session
            if s.generating and s.replies not in s.heard:
                s.heard[s.replies] = ""  # interrupted before any of it was played
            self._apply_heard()
            return
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            self._watchdog = self.create_task(self._watch(), "lisa-watchdog")
            if self.conv.mode is not Mode.OUTBOUND:
                self._spawn(self._reply(None))
            return
        if isinstance(frame, (EndFrame, CancelFrame)):
            await self._stop_tasks()
        await self.push_frame(frame, direction)

    def draft(self, text: str, words: Sequence[tuple[str, float]] = ()) -> None:
        """The caller paused after ``text`` and may be done: start synthesizing the first sentence Lisa
        would answer (the engine's preview; only for a deterministic brain). When the turn does end with
        this text her reply starts from the ready audio; when the caller goes on, a little work is wasted."""
        if self._prefetch is None or self.ending or self.conv.ended or self._lock.locked():
            return
        self._spawn(self._draft(text, words))

    async def _draft(self, text: str, words: Sequence[tuple[str, float]] = ()) -> None:
        sentence = await self._engine.preview(self.conv, text, list(words) or None)
        if sentence and self._prefetch is not None and not self.ending:
            self._prefetch(sentence, 1, True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.create_task(coro, "lisa-reply")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_tasks(self) -> None:
        for task in [*self._tasks, self._watchdog]:
            if task and not task.done():
                await self.cancel_task(task, timeout=1.0)

    def _on_caller_turn(self, frame: CallerTurnFrame) -> None:
        s = self._session
        start_t = s.started_t + frame.start_ms / 1000.0
        end_t = s.started_t + frame.end_ms / 1000.0
        last = self._answered
        goes_on = last is not None and not s.heard_any(last.reply, start_t)
        s.add_line("party", frame.text, start_t, end_t, goes_on=goes_on)
        self._idle_prompts = 0
        log.debug("call %s: caller said %r", s.call_sid, frame.text)
        stt_t = s.started_t + frame.stt_final_ms / 1000.0
        if last is not None and goes_on:
            self._spawn(self._reply(frame.text, end_t, stt_t, frame.words, continues=last))
            return
        self._spawn(self._reply(frame.text, end_t, stt_t, frame.words))

    def _take_back(self, last: _Answered) -> bool:
        """The caller went on before hearing Lisa's answer to ``last``: the conversation as it was before it,
        unless the answer was silence, did something outside the conversation (an event) or ended it. True
        when taken back."""
        conv = self.conv
        if not self._session.reply_text.get(last.reply):
            return False  # Lisa chose to say nothing (on hold, a queue message): nothing went unheard
        if conv.ended or conv.transfer_to or len(conv.events) != len(last.before.events):
            return False
        for f in dataclasses.fields(conv):
            setattr(conv, f.name, getattr(last.before, f.name))
        log.info("call %s: the caller went on before hearing Lisa; one turn", self._session.call_sid)
        return True

    def _on_dtmf(self, digit: str) -> None:
        s = self._session
        now = time.monotonic()
        s.add_line("party", f"[DTMF {digit}]", now, now)
        s.touch()
        if digit == "0":
            log.info("call %s: DTMF 0 - the caller asks for a human", s.call_sid)
            self._spawn(self._reply(HUMAN_REQUEST[self.conv.language], now, now))

    # ------------------------------------------------------------------ replies

    def machine_answered(self) -> None:
        """The carrier's answering-machine detection heard a mailbox's greeting end (``machine_end_*``):
        Lisa leaves her message (or none) and the call ends."""
        if not self.ending and not self.conv.ended:
            log.info("call %s: answering machine, greeting over", self._session.call_sid)
            self._spawn(self._reply(None, pieces=lambda: self._engine.machine_answered(self.conv)))

    async def _reply(
        self,
        text: str | None,
        user_end_t: float | None = None,
        stt_t: float | None = None,
        words: Sequence[tuple[str, float]] = (),
        pieces: Callable[[], AsyncIterator[str]] | None = None,
        continues: _Answered | None = None,
    ) -> None:
        """Lisa's reply to a caller turn (``text``), her opening (None), or what ``pieces`` says. ``continues``:
        the turn goes on from that one, whose answer the caller did not hear (both are answered together)."""
        async with self._lock:
            if self.ending or self.conv.ended:
                return
            if (
                text is not None
                and continues is not None
                and continues is self._answered
                and self._take_back(continues)
            ):
                text, words = f"{continues.text} {text}", (*continues.words, *words)
            if text is not None and pieces is None:
                self._answered = _Answered(
                    self._session.replies + 1, text, tuple(words), copy.deepcopy(self.conv)
                )
            else:
                self._answered = None
            s = self._session
            reply = s.new_reply(user_end_t, stt_t)
            timing = s.timings[reply]
            said: list[str] = []
            failed: Exception | None = None
            s.generating = True
            try:
                sentences = (  # inside the try: an engine may raise on the call as well as while iterating
                    pieces()
                    if pieces is not None
                    else self._engine.opening(self.conv)
                    if text is None
                    else self._engine.respond(self.conv, text, list(words) or None)
                )
                async for sentence in sentences:
                    if not said and call_situations.voicemail_greeting(self.conv):
                        await self._after_beep(user_end_t)
                    if timing.llm_first_t is None:
                        timing.llm_first_t = time.monotonic()
                    said.append(sentence)
                    if reply not in s.heard:
                        if self._prefetch:
                            self._prefetch(sentence, len(said), False)
                        s.speech_sent(reply, len(said))
                        await self.push_frame(LisaSpeechFrame(text=sentence, reply=reply, index=len(said)))
            except Exception as exc:  # the engine failing must not take other calls down
                log.exception("call %s: engine failed", s.call_sid)
                failed = exc
            finally:
                s.generating = False
            s.reply_text[reply] = " ".join(said)
            self._apply_heard()
            await self._flush_events()
            if failed is not None:  # the conversation's state is unknown now: apologise and end this call
                reason = f"error: engine failed ({type(failed).__name__})"
                await self.finish("system", reason, phrase(self.conv.language, "call.error_goodbye"))
                return
            await self._after_reply()

    async def _after_beep(self, greeting_end_t: float | None) -> None:
        """A mailbox: Lisa's message starts after its beep (or after ``lisa_beep_wait_s`` without one)."""
        after = greeting_end_t if greeting_end_t is not None else self._session.started_t
        if not await self._session.wait_beep(after, self._settings.lisa_beep_wait_s):
            log.info(
                "call %s: mailbox without a beep heard; leaving the message anyway", self._session.call_sid
            )
        await asyncio.sleep(0.3)

    async def say(self, text: str) -> int:
        """Speak a line of the pipeline's own (re-prompt, goodbye); it goes into the history too."""
        s = self._session
        reply = s.new_reply()
        self.conv.history.append(Message("assistant", text, self._engine.clock.now()))
        s.reply_text[reply] = text
        s.speech_sent(reply, 1)
        await self.push_frame(LisaSpeechFrame(text=text, reply=reply, index=1))
        return reply

    def _apply_heard(self) -> None:
        for reply, heard in list(self._session.heard.items()):
            if reply in self._heard_applied or reply not in self._session.reply_text:
                continue
            self._heard_applied.add(reply)
            if reply == self._session.replies:  # the engine's last reply is the one interrupted
                self._engine.heard(self.conv, heard)

    async def _flush_events(self) -> None:
        events = self.conv.events
        while self._events_seen < len(events):
            event = events[self._events_seen]
            self._events_seen += 1
            await self._on_event(event)

    async def _after_reply(self) -> None:
        conv = self.conv
        if conv.send_digits:
            digits, conv.send_digits = conv.send_digits, None
            await self._press(digits)
        if conv.transfer_to:
            number = conv.transfer_to
            self.ending = True
            await self._session.wait_played(self._session.pending_audio_s() + 3.0)
            if await self._transfer(number) is False:  # refused: she says so and the call goes on
                conv.transfer_to = None
                self.ending = False
                await self.say(phrase(conv.language, "call.transfer_failed"))
                return
            await self._end_call("lisa", "transferred")
        elif conv.end_requested:
            await self.finish("lisa", "completed")

    async def _press(self, digits: str) -> None:
        """Send DTMF keys through the carrier (a phone menu); a failure is logged and the call goes on."""
        s = self._session
        now = time.monotonic()
        s.add_line("lisa", f"[DTMF {digits}]", now, now)
        s.touch()
        if self._send_digits is None:
            log.warning("call %s: no way to send DTMF %s", s.call_sid, digits)
            return
        log.info("call %s: pressing %s", s.call_sid, digits)
        try:
            await self._send_digits(digits)
        except Exception:  # a key that did not go through: the menu repeats, and Lisa tries again
            log.warning("call %s: sending DTMF %s failed", s.call_sid, digits, exc_info=True)

    async def finish(self, ended_by: str, reason: str, goodbye: str | None = None) -> None:
        """End the call politely: optional goodbye, wait until it was played, then hang up."""
        if self.ending and goodbye is not None:
            return
        self.ending = True
        if goodbye:
            await self.say(goodbye)
        if not await self._session.wait_played(20.0):
            log.warning("call %s: goodbye not confirmed played; hanging up anyway", self._session.call_sid)
        await self._end_call(ended_by, reason)

    def end_politely(self, reason: str) -> None:
        """Someone outside the call ended it (a canceled request): goodbye, then hang up."""
        if not self.ending:
            self._spawn(self.finish("lisa", reason, phrase(self.conv.language, "call.cancel_goodbye")))

    # ------------------------------------------------------------------ idle caller, maximum duration

    def _holding(self, now: float) -> bool:
        """Outbound, on hold (music on the line, a queue message, "please hold"): Lisa stays quiet — no
        re-prompt into the music — and after ``lisa_hold_max_s`` gives up politely. True while holding."""
        conv, s = self.conv, self._session
        if conv.mode is not Mode.OUTBOUND:
            return False
        if s.music_playing() and not call_situations.on_hold(conv):
            log.info("call %s: music on the line; on hold", s.call_sid)
            call_situations.put_on_hold(conv)
        if not call_situations.on_hold(conv):
            self._hold_since = None
            return False
        if self._hold_since is None:
            self._hold_since = now
        s.touch()
        self._idle_prompts = 0
        waited = now - self._hold_since
        if waited >= self._settings.lisa_hold_max_s:
            log.info("call %s: on hold for %.0f s; giving up", s.call_sid, waited)
            self._hold_since = None
            self._spawn(self._reply(None, pieces=lambda: self._engine.hold_expired(conv, waited)))
        return True

    async def _watch(self) -> None:
        s = self._session
        while not self.ending:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            if now - s.started_t >= self._settings.lisa_max_call_s:
                log.info("call %s: maximum duration reached", s.call_sid)
                self._spawn(
                    self.finish("lisa", "max_duration", phrase(self.conv.language, "call.max_goodbye"))
                )
                return
            if s.lisa_busy or s.caller_speaking or self._lock.locked():
                continue
            if self._holding(now):
                continue
            if now - s.last_activity_t < self._settings.lisa_idle_reprompt_s:
                continue
            self._idle_prompts += 1
            s.touch()
            if self._idle_prompts == 1:
                log.info("call %s: caller silent, re-prompting", s.call_sid)
                async with self._lock:
                    await self.say(phrase(self.conv.language, "call.reprompt"))
            else:
                log.info("call %s: caller still silent, ending the call", s.call_sid)
                self._spawn(self.finish("lisa", "idle", phrase(self.conv.language, "call.idle_goodbye")))
                return
