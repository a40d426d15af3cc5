"""The dialogue engine: one Lisa for chat, inbound calls and outbound booking calls."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from difflib import SequenceMatcher
from typing import Any

from rapidfuzz.distance import Indel

from agent import call_situations
from agent.brain import Brain, BrainUnavailable, TurnContext
from agent.business import BusinessProfile
from agent.calendar import Calendar, DryRunCalendar, InMemoryCalendar
from agent.clock import Clock
from agent.conversation import BookingRequest, Conversation, ConversationEvent, Language, Message, Mode
from agent.phrases import phrase
from agent.sentences import sentence_chunks
from agent.tools import Toolbox

log = logging.getLogger(__name__)

_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)  # a letter or digit ("10.30", a phone number, key "0")

LOOP_LIMIT = 3  # Lisa never gives the same reply this many times in a row
SAME_REPLY = 0.9  # replies at least this similar (after normalising) count as the same
# What the engine says instead of a third identical reply when the brain has no phrasing of its own
# (``loop_breaker``): first the reply rephrased with a way out, then the way out as a question
# (``engine.loop_*`` in ``prompts/<lang>/phrases.yaml``).


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


_NUMBERS = re.compile(r"\d+")


def same_reply(a: str, b: str) -> bool:
    """Whether two replies say the same (case, punctuation and tiny wording differences aside); replies that
    name other numbers (another time or date: "um 10:30 Uhr wäre prima" / "um 11 Uhr wäre prima") differ."""
    x, y = _norm(a), _norm(b)
    if x == y:
        return True
    if not x or not y or _NUMBERS.findall(a) != _NUMBERS.findall(b):
        return False
    # the longest common subsequence bounds difflib's ratio from above (its matching blocks are a common
    # subsequence): rapidfuzz's C++ answers most pairs, which differ, before difflib's costly index is built
    if Indel.normalized_similarity(x, y) < SAME_REPLY:
        return False
    return SequenceMatcher(None, x, y).ratio() >= SAME_REPLY


class Engine:
    """Drives conversations with a brain; falls back to a second brain when the first is unavailable."""

    def __init__(
        self,
        brain: Brain,
        business: BusinessProfile,
        clock: Clock | None = None,
        calendar: Calendar | None = None,
        fallback: Brain | None = None,
        max_input_chars: int = 1000,
        leave_voicemail: bool = True,
        brain_stall_s: float = 0.0,
    ) -> None:
        self.brain = brain
        self.leave_voicemail = leave_voicemail  # False: a mailbox gets no message (the call just ends)
        # on a phone call, a brain with no first sentence after this long is given up for the fallback (0: off)
        self.brain_stall_s = brain_stall_s
        self.fallback = fallback
        self.business = business
        self.clock = clock or Clock()
        self.calendar = calendar or InMemoryCalendar()
        self.max_input_chars = max_input_chars

    async def aclose(self) -> None:
        """Release what the brains hold (the LLM brain's HTTP connections) at shutdown."""
        for brain in {id(b): b for b in (self.brain, self.fallback) if b is not None}.values():
            close = getattr(brain, "aclose", None)
            if close is not None:
                await close()

    def new_conversation(
        self,
        mode: Mode | str,
        language: Language | str = Language.EN,
        request: BookingRequest | None = None,
        conversation_id: str | None = None,
    ) -> Conversation:
        conv = Conversation(mode=Mode(mode), language=Language(language), request=request)
        if conversation_id:
            conv.id = conversation_id
        return conv

    def toolbox(self, conv: Conversation) -> Toolbox:
        """The tools for ``conv`` (e.g. for a channel that settles the outcome when the line drops)."""
        return Toolbox(conv, self.business, self.calendar, self.clock)

    def _context(self, conv: Conversation) -> TurnContext:
        return TurnContext(clock=self.clock, business=self.business, tools=self.toolbox(conv))

    async def opening(self, conv: Conversation) -> AsyncIterator[str]:
        """Lisa's first words: a greeting for inbound calls and chats; nothing for outbound calls,
        where the callee speaks first."""
        if conv.mode is Mode.OUTBOUND:
            return
        async for sentence in self._run(conv, None):
            yield sentence

    async def respond(
        self, conv: Conversation, text: str, words: Sequence[tuple[str, float]] | None = None
    ) -> AsyncGenerator[str, None]:
        """Lisa's reply to one user turn, as sentence-sized chunks.

        ``words`` are the recognised words with their confidence (0–1) when the turn came from speech
        recognition; they are kept with the message (``meta["words"]``) for brains that check what they
        heard (e.g. confirm a name heard unsure). Text channels pass none."""
        text = (text or "").strip()
        if conv.ended:
            return
        meta = {"words": [[str(w), round(float(p), 3)] for w, p in words]} if words else {}
        conv.history.append(Message("user", text, self.clock.now(), meta))
        if conv.mode is Mode.OUTBOUND and len(text) <= self.max_input_chars:
            # phone menus, mailboxes, screeners, queues and hold before the brain (any brain)
            handled = await call_situations.respond(conv, text, self.toolbox(conv), self.leave_voicemail)
            if handled is not None:
                if handled:
                    async for sentence in sentence_chunks(_once(handled)):
                        yield sentence
                    conv.history.append(Message("assistant", handled, self.clock.now(), {"situation": True}))
                return
        if len(text) > self.max_input_chars:
            yield self._say(conv, phrase(conv.language, "engine.too_long"))
            return
        if not _MEANINGFUL.search(text):
            yield self._say(conv, phrase(conv.language, "engine.repeat"))
            return
        async for sentence in self._run(conv, text):
            yield sentence

    async def machine_answered(self, conv: Conversation) -> AsyncIterator[str]:
        """Outbound: the carrier's answering-machine detection heard a mailbox greeting end (the beep): Lisa
        leaves her short message (or none, see ``leave_voicemail``) and the call ends."""
        if conv.ended or conv.mode is not Mode.OUTBOUND:
            return
        said = await call_situations.leave_voicemail(conv, self.toolbox(conv), self.leave_voicemail)
        if said:
            async for sentence in sentence_chunks(_once(said)):
                yield sentence
            conv.history.append(Message("assistant", said, self.clock.now(), {"situation": True}))

    async def hold_expired(self, conv: Conversation, waited_s: float) -> AsyncIterator[str]:
        """Outbound: Lisa has held longer than she may; she says so and the call ends (waiting for callback)."""
        if conv.ended:
            return
        said = await call_situations.give_up_holding(conv, self.toolbox(conv), waited_s)
        async for sentence in sentence_chunks(_once(said)):
            yield sentence
        conv.history.append(Message("assistant", said, self.clock.now(), {"situation": True}))

    async def preview(
        self, conv: Conversation, text: str, words: Sequence[tuple[str, float]] | None = None
    ) -> str | None:
        """The first sentence Lisa would answer ``text`` with, worked out on a copy of the conversation
        with a calendar that writes nothing, so nothing changes. A voice channel starts synthesizing it
        while it is still unsure the caller has finished. Only a deterministic brain (the rule brain) is
        previewed: its real reply starts with the same sentence. None for other brains or on failure."""
        if not getattr(self.brain, "deterministic", False) or conv.ended:
            return None
        draft = copy.deepcopy(conv)
        engine = copy.copy(self)
        engine.calendar = DryRunCalendar(self.calendar)
        engine.fallback = None
        try:
            async with contextlib.aclosing(engine.respond(draft, text, words)) as sentences:
                async for sentence in sentences:
                    return sentence
        except Exception:  # a preview is only a guess
            log.debug("preview failed", exc_info=True)
        return None

    async def reply(self, conv: Conversation, text: str | None) -> str:
        """Convenience for text channels: the whole reply at once (``None`` = opening)."""
        pieces = self.opening(conv) if text is None else self.respond(conv, text)
        return " ".join([p async for p in pieces])

    def heard(self, conv: Conversation, spoken: str) -> None:
        """After a barge-in: keep in the history only what the caller actually heard of Lisa's last reply."""
        for message in reversed(conv.history):
            if message.role == "assistant":
                message.meta["interrupted"] = True
                message.meta["full_text"] = message.text
                message.text = spoken.strip()
                return

    def _say(self, conv: Conversation, text: str) -> str:
        said, meta = self._unlooped(conv, text)
        conv.history.append(Message("assistant", said, self.clock.now(), meta))
        return said

    # ------------------------------------------------------------------ loops (issue 10, class 9)
    @staticmethod
    def _original(message: Message) -> str:
        return str(message.meta.get("brain_text") or message.meta.get("full_text") or message.text)

    def _replies(self, conv: Conversation) -> list[Message]:
        return [m for m in conv.history if m.role == "assistant"]

    def _loop_ahead(self, conv: Conversation) -> bool:
        """Whether the last LOOP_LIMIT - 1 replies were the same (the next one must be checked whole)."""
        last = self._replies(conv)[-(LOOP_LIMIT - 1) :]
        return len(last) == LOOP_LIMIT - 1 and all(
            same_reply(self._original(m), self._original(last[0])) for m in last
        )

    def _unlooped(self, conv: Conversation, reply: str) -> tuple[str, dict[str, Any]]:
        """``reply``, or, when it would be the same reply a third time in a row, a rephrasing with a way out
        (a message or a colleague; outbound: calling back) and after that the way out as a question. The
        brain's own phrasing (``loop_breaker(conv, reply, stage, ctx)``) wins over the engine's. Returns what
        to say and the message meta (the brain's original reply when it was replaced)."""
        replies = self._replies(conv)
        streak = 1
        for message in reversed(replies):
            if not same_reply(self._original(message), reply):
                break
            streak += 1
        if streak < LOOP_LIMIT:
            return reply, {}
        said = [m.text for m in replies[-(LOOP_LIMIT - 1) :]]
        stages = ["rephrase", "escape"] if streak == LOOP_LIMIT else ["escape", "rephrase", "original"]
        for stage in stages:
            text = reply if stage == "original" else self._loop_text(conv, reply, stage)
            if not all(same_reply(text, s) for s in said):
                log.info("conversation %s: reply %d times in a row; %s", conv.id, streak, stage)
                return text, {"brain_text": reply, "loop": stage}
        return reply, {}

    def _loop_text(self, conv: Conversation, reply: str, stage: str) -> str:
        breaker = getattr(self.brain, "loop_breaker", None)
        if breaker is not None:
            try:
                text: str | None = breaker(conv, reply, stage, self._context(conv))
            except Exception:  # the engine's phrasing is there for that
                log.exception("loop_breaker of brain %s failed", self.brain.name)
                text = None
            if text:
                return text
        outbound = conv.mode is Mode.OUTBOUND
        if stage == "rephrase":
            way_out = phrase(
                conv.language, "engine.loop_way_out_outbound" if outbound else "engine.loop_way_out"
            )
            return f"{phrase(conv.language, 'engine.loop_rephrase', reply=reply)} {way_out}"
        return phrase(conv.language, "engine.loop_escape_outbound" if outbound else "engine.loop_escape")

    async def _run(self, conv: Conversation, text: str | None) -> AsyncIterator[str]:
        said: list[str] = []
        brains = [self.brain] + ([self.fallback] if self.fallback and self.fallback is not self.brain else [])
        phone = conv.mode in (Mode.INBOUND, Mode.OUTBOUND)
        if phone and conv.state.get("failover") and len(brains) > 1:
            brains = brains[1:]  # this call switched to the fallback for good
        # After two identical replies the next one is held back whole and compared before it is spoken.
        hold = text is not None and self._loop_ahead(conv)
        for index, brain in enumerate(brains):
            stall = (
                self.brain_stall_s if phone and index + 1 < len(brains) and self.brain_stall_s > 0 else None
            )
            try:
                pieces = sentence_chunks(brain.reply(conv, text, self._context(conv)))
                async for sentence in _first_within(pieces, stall):
                    said.append(sentence)
                    if not hold:
                        yield sentence
                break
            except Exception as exc:  # a failing brain must never leave the caller in silence
                fallback_note = "falling back" if index + 1 < len(brains) else "no fallback left"
                if isinstance(exc, BrainUnavailable):
                    log.warning("brain %s unavailable (%s); %s", brain.name, exc, fallback_note)
                else:
                    log.exception(
                        "brain %s failed on conversation %s; %s", brain.name, conv.id, fallback_note
                    )
                if index + 1 >= len(brains):
                    if not said:
                        said.append(phrase(conv.language, "engine.repeat"))
                        if not hold:
                            yield said[-1]
                    break
                if phone:
                    self._failover(conv, brain, brains[index + 1], exc)
                if not said:
                    said.append(phrase(conv.language, "engine.apology"))
                    if not hold:
                        yield said[-1]
        if not said:
            return
        reply, meta = " ".join(said), dict[str, Any]()
        if hold:
            reply, meta = self._unlooped(conv, reply)
            async for sentence in sentence_chunks(_once(reply)):
                yield sentence
        conv.history.append(Message("assistant", reply, self.clock.now(), meta))

    def _failover(self, conv: Conversation, failed: Brain, fallback: Brain, exc: Exception) -> None:
        """A phone call's brain failed or stalled: the fallback (the rule brain, from the same conversation
        state) answers for the rest of the call; a ``provider_failover`` event says so."""
        if conv.state.get("failover"):
            return
        why = str(exc) if isinstance(exc, BrainUnavailable) else type(exc).__name__
        conv.state["failover"] = {"from": failed.name, "to": fallback.name}
        message = (
            f"{failed.name} brain failed ({why}); the {fallback.name} brain answers for the rest of the call"
        )
        conv.events.append(ConversationEvent("provider_failover", message[:300], self.clock.now()))
        log.warning("provider_failover: conversation %s: %s", conv.id, message)


async def _once(text: str) -> AsyncIterator[str]:
    yield text


async def _first_within(pieces: AsyncIterator[str], limit_s: float | None) -> AsyncIterator[str]:
    """``pieces``, but :class:`BrainUnavailable` when the first does not come within ``limit_s`` (a stalled
    endpoint: the caller would hear silence). The stalled brain is cancelled and closed in the background,
    so its cleanup (a connection to drop) adds no silence."""
    iterator = aiter(pieces)
    if limit_s is not None:
        first = asyncio.ensure_future(anext(iterator))
        done, _ = await asyncio.wait({first}, timeout=limit_s)
        if not done:
            first.cancel()
            closing = asyncio.ensure_future(_close_stalled(first, iterator))
            _CLOSING.add(closing)
            closing.add_done_callback(_CLOSING.discard)
            raise BrainUnavailable(f"no reply within {limit_s:g} s")
        try:
            yield first.result()
        except StopAsyncIteration:
            return
    async for piece in iterator:
        yield piece


_CLOSING: set[asyncio.Future[None]] = set()  # stalled brains being closed


async def _close_stalled(first: asyncio.Future[str], iterator: AsyncIterator[str]) -> None:
    with contextlib.suppress(BaseException):
        await first
    close = getattr(iterator, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
