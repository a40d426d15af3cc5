"""The caller's turns from 8 kHz audio: Silero VAD + smart turn v3 + STT started during the pause.

How a turn ends: early in a pause (~64 ms on a call to the business, ~100 ms on Lisa's own calls) the
processor transcribes what the caller said so far (in the inference threads). The transcript ending a sentence
(Whisper punctuates; :func:`sentence_finished` reads "My name is.", "It's for." or a phone number read out so
far as unfinished) → the turn ends when the pause reaches ``turn_fast_stop_s`` if Whisper was sure of that
sentence's end (its probability of . ? ! after the last word at least ``turn_sure_closing``; it hears the voice
as well as the words: a speaker who goes on after "I'd like to book an appointment" says it differently from
one who ends there), the sentence has three words or more and the call is one the fastest stop applies to
(:meth:`TurnDetector._fast_call`: not Lisa's own calls, not an answer to her spelling a word); else
``turn_sure_stop_s`` for a sure one ("Yes." and "That's all." often lead into more);
``turn_text_stop_s`` when Whisper was unsure. A transcript that does not end a sentence asks smart turn:
"complete" → at ``vad_stop_s``, unless the transcript plainly goes on (a trailing comma, "and", "to", digits:
:func:`left_open`), else at ``turn_max_silence_s``. Measured on the labelled set of ``tests/data/turn_taking``
with ``bench/turn_taking.py``: smart turn v3 tells ends from pauses no better than chance on that set's 8 kHz
synthetic voice, Whisper's closing probability does (README, "Turn-taking"). Speech resuming drops the pending
result. The pause's transcript also goes to ``on_draft`` at once, so Lisa's first sentence can be synthesized
while the pause runs on (see ``LisaProcessor.draft``).

A short stop sometimes ends a turn in a pause between two of the caller's sentences ("Okay, thank you.
[0.4 s] Goodbye."). A caller who goes on before any of Lisa's answer can have reached them
(:meth:`CallSession.goes_on`) is not talking over her: their words are the rest of the turn, however few.
They interrupt her answer and ``LisaProcessor`` answers both parts as one.

Barge-in: while Lisa is talking, the caller's speech is transcribed every few hundred ms; once it has
``min_interrupt_words`` words Lisa is interrupted (pipecat ``InterruptionFrame`` → Twilio ``clear``). A
cough or a lone "mhm" never reaches that count, so it neither interrupts her nor becomes a turn. A caller's
"Goodbye." over her is no backchannel: one word of taking leave interrupts her (she says goodbye). Her last line
(a goodbye, "I'll put you through") is never interrupted: "bye bye" over it is only written down.

With a streaming cloud STT upstream (Deepgram) the processor takes the text from its transcription frames
instead of transcribing itself. A final transcript that arrives in a pause and ends a sentence ends the turn
at once (Deepgram's endpointing has waited for the silence already); one that leaves it open asks smart
turn ("complete" ends it too); without a final the turn ends after ``turn_max_silence_s``. Deepgram may
finalise one utterance in parts: a final with ``speech_final: false`` says more of it follows, so it neither
ends the turn nor asks smart turn; the turn waits for the part with ``speech_final`` or for Deepgram's
``UtteranceEnd`` (:class:`UtteranceEndFrame`; on a noisy line endpointing never fires and only that comes),
and its text is all the parts.

A turn goes downstream with its words and their confidence (Whisper's mean token probability, Deepgram's
word confidence). The local end-of-turn transcription is biased with the call's context (``context()``, the
Whisper prompt of :mod:`pipelines.stt_context`); the barge-in partials that only count words are not (a
prompt can make Whisper echo it on a cough, and a partial only needs the word count).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    StartFrame,
    TranscriptionFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from agent.call_situations import is_farewell, is_non_speech
from agent.conversation import ConversationEvent, Mode
from pipelines import inference
from pipelines.call_session import CallSession
from pipelines.frames import ARRIVED, CallerTurnFrame, UtteranceEndFrame
from pipelines.line_sounds import MUSIC_SHARE, LineSounds, music_share
from pipelines.providers import ProviderErrorFrame
from pipelines.settings import VoiceSettings
from pipelines.vad import WINDOW_BYTES, WINDOW_S, CallerVAD

log = logging.getLogger(__name__)

SPEECH_CONFIDENCE = 0.5
START_WINDOWS = 3  # ~100 ms of speech starts a caller turn
PRE_ROLL_WINDOWS = 10  # ~320 ms of audio before the detected start goes to STT
PARTIAL_EVERY_S = 0.35  # while Lisa talks: transcribe the caller this often to count words
MAX_TURN_S = 28.0  # a turn longer than this is cut (Whisper's window)
STALL_SPEECH_S = 0.8  # cloud STT: this much speech without a word back within 1 s is a stalled service
SPECULATE_WINDOWS = 3  # ~100 ms into a pause the transcription starts (before the turn is known to end)
FAST_SPECULATE_WINDOWS = 2  # ~64 ms where the fastest stop applies: its transcript must be in before it
FAST_WORDS = 3  # a shorter sentence ("Yes." "That's all.") often leads into more: no fastest stop


# words a sentence hardly ends on (en + de): articles, conjunctions, possessives, fillers, a few prepositions
# (not "an" or "am": "Ich rufe an.", "Yes, I am."). A recogniser closes "My name is" or "I'd like to, um" with
# a full stop when the caller pauses there.
OPEN_WORDS = frozenset({
    "a", "the", "and", "or", "but", "because", "if", "than", "of", "my", "your", "our", "their",
    "to", "for", "with", "from", "about", "into", "under",
    "um", "uh", "uhm", "er", "erm", "hmm",
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder", "aber",
    "weil", "wenn", "dass", "mein", "meine", "meinen", "meiner", "für", "von", "vom", "im", "beim", "zum",
    "zur", "wegen", "äh", "ähm", "öhm", "ehm",
})  # fmt: skip
# "... name is." / "Mein Name ist." / "It's." : the thing itself is still to come
_OPEN_ENDING = re.compile(
    r"(\b(name|number|code|address|email|date of birth|birthday|nummer|adresse|telefonnummer|postleitzahl)"
    r"\s+(is|was|ist|lautet)|^(it's|it is|that's|es ist|das ist))[.!?]*$",
    re.IGNORECASE,
)
# digits being read out: a group of three or more, or two numbers in a row at the end ("017.", "4 5 6.")
_READING_DIGITS = re.compile(r"(\d{3,}|\d+[\s,.-]+\d+)[.!?]*$")


def sentence_finished(text: str) -> bool:
    """Whisper punctuates: a transcript ending in . ? or ! reads as a finished sentence, unless it stops at a
    word no sentence ends on ("My name is.", "Eier, Milch und.", "Um.") or in a number being read out."""
    text = text.strip()
    if not text or text[-1:] not in ".?!" or text.endswith("..."):
        return False
    return not left_open(text)


def left_open(text: str) -> bool:
    """The transcript stops where the caller plainly has more to say: after a comma, a word no sentence ends
    on, "my name is", or in a number being read out (smart turn hearing such a pause as finished is not
    trusted)."""
    text = text.strip()
    words = re.findall(r"[\w']+", text.lower())
    if not words or text.endswith(",") or words[-1] in OPEN_WORDS:
        return True
    return bool(_OPEN_ENDING.search(text) or _READING_DIGITS.search(text))


# Lisa spelled a word back ("C-A-L-C-I-C") or asked for it spelled (en + de)
_ASKS_SPELLING = re.compile(r"\b[^\W\d_](?:-[^\W\d_]){2,}\b|\bspell|buchstabier", re.IGNORECASE)


def spelling(text: str) -> bool:
    """The transcript ends in letters being spelled out ("K, O, W." "M-A-R."; not "4 p.m."): more may follow."""
    letters = re.findall(r"[^\W\d_]+", text.lower())[-2:]
    return len(letters) == 2 and all(len(w) == 1 for w in letters) and letters not in (["a", "m"], ["p", "m"])


# a sentence that ends in thanks: on the phone a goodbye often follows after a comma's pause ("Thanks, bye."),
# and cut off into a turn of its own, Whisper tiny hears that lone "bye" as anything ("5")
_THANKS_LAST = re.compile(
    r"\b(?:thanks|thank you|cheers|danke|dankeschön|vielen dank)(?: (?:so much|very much|a lot|sehr|schön))?\W*$",
    re.IGNORECASE,
)


def thanks_last(text: str) -> bool:
    """The transcript ends in a thanks ("You have my number. Thanks!", "Danke schön."): a goodbye may follow."""
    return bool(_THANKS_LAST.search(text.strip()))


def word_count(text: str) -> int:
    return len([w for w in text.split() if any(c.isalnum() for c in w)])


class TurnDetector(FrameProcessor):
    """Consumes caller audio, pushes :class:`CallerTurnFrame` downstream, interrupts Lisa on barge-in."""

    def __init__(
        self,
        session: CallSession,
        settings: VoiceSettings,
        *,
        local_stt: bool = True,
        on_draft: Callable[[str, Sequence[tuple[str, float]]], None] | None = None,
        context: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(name="turn-detector")
        self._session = session
        self._on_draft = on_draft  # told the transcript (and its words) of each pause that may end the turn
        self._context = context  # the Whisper prompt of the call as it stands (names, business)
        self._settings = settings
        self._local_stt = local_stt
        self._vad: CallerVAD | None = None
        self._sounds = LineSounds()  # hold music and beeps on the caller's line
        self._buffer = bytearray()
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_WINDOWS)
        self._speaking = False
        self._start_count = 0
        self._silence = 0
        self._audio = bytearray()
        self._turn_start_t = 0.0
        self._speech_end_t = 0.0
        self._generation = 0  # bumped whenever the caller speaks again: stale results are dropped
        self._check: asyncio.Task | None = None
        # generation, text, silence that ends the turn, smart turn's verdict, words with confidence
        self._check_result: tuple[int, str, float, bool, tuple[tuple[str, float], ...]] | None = None
        self._partial: asyncio.Task | None = None
        self._partial_at = 0
        self._interrupted = False
        self._finishing = False
        self._cloud_final: list[str] = []
        self._cloud_words: list[tuple[str, float]] = []
        self._cloud_interim = ""
        self._final_in_pause = False  # cloud STT: a final transcript arrived during the current pause
        self._cloud_open = False  # cloud STT: the last final had no speech_final (more of it follows)
        self._utterance_ended = False  # cloud STT: UtteranceEnd came in the current pause

    def can_generate_metrics(self) -> bool:
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self._on_audio(frame.audio, frame.metadata.get(ARRIVED))
            return
        if isinstance(frame, TranscriptionFrame) and not self._local_stt:
            self._cloud_final.append(frame.text)
            self._cloud_words.extend(cloud_words(frame.result))
            self._final_in_pause = self._speaking and self._silence > 0
            self._cloud_open = not closes_utterance(frame.result)
            if self._cloud_final_ends_turn():
                self._schedule_finish()
            else:
                self._maybe_start_check()  # a final that leaves the turn open: ask smart turn
            return
        if isinstance(frame, UtteranceEndFrame):
            if not self._local_stt and self._speaking and self._cloud_final:
                self._cloud_open, self._utterance_ended = False, True
                if self._cloud_final_ends_turn():
                    self._schedule_finish()
            return
        if isinstance(frame, InterimTranscriptionFrame) and not self._local_stt:
            self._cloud_interim = frame.text
            return
        if isinstance(frame, ProviderErrorFrame) and frame.stage == "stt" and frame.permanent:
            self._fail_over(f"{frame.provider} failed ({frame.error[:120]})")
        if isinstance(frame, StartFrame):
            self._vad = await asyncio.to_thread(CallerVAD)
        elif isinstance(frame, (EndFrame, CancelFrame)):
            self._cancel_tasks()
        await self.push_frame(frame, direction)

    def _cancel_tasks(self) -> None:
        for task in (self._check, self._partial):
            if task and not task.done():
                task.cancel()

    # ------------------------------------------------------------------ VAD state machine

    async def _on_audio(self, pcm: bytes, arrived: float | None = None) -> None:
        """``arrived``: when the frame's last byte came off the line (``ARRIVED`` in its metadata). Turn times
        are taken from it, so a loop that is behind shows up in the latency instead of hiding in it."""
        self._buffer.extend(pcm)
        while len(self._buffer) >= WINDOW_BYTES:
            window = bytes(self._buffer[:WINDOW_BYTES])
            del self._buffer[:WINDOW_BYTES]
            if self._vad is None:
                continue  # still loading: drop whole windows, so the window grid stays on the stream's start
            # the window's last sample came in before the bytes still buffered behind it
            at = None if arrived is None else arrived - len(self._buffer) / 16000
            self._listen(window, at)
            speech = await self._vad.score(window) >= SPEECH_CONFIDENCE
            await self._on_window(window, speech, at)

    def _listen(self, window: bytes, at: float | None) -> None:
        """Music and beeps on the line (they are not speech: see :mod:`pipelines.line_sounds`). Only on outbound
        calls: hold music, queues, mailboxes' beeps and menus are what Lisa meets when she calls a business; a
        caller who rang in is not listened to for them (a fifth of the event loop's work per call at 100 cloud
        calls). A "turn" that was music is dropped on every call (``_not_speech``)."""
        if self._session.conversation.mode is not Mode.OUTBOUND:
            return
        beeps = self._sounds.beeps
        self._sounds.feed(window)
        now = time.monotonic() if at is None else at
        if self._sounds.music:
            self._session.music_t = now
        if self._sounds.beeps > beeps:
            self._session.beeps_t.append(now)

    async def _on_window(self, window: bytes, speech: bool, at: float | None = None) -> None:
        now = time.monotonic() if at is None else at
        if not self._speaking:
            self._pre_roll.append(window)
            self._start_count = self._start_count + 1 if speech else 0
            if self._start_count >= START_WINDOWS:
                self._begin_turn(now)
            return
        self._audio.extend(window)
        if speech:
            if self._silence:
                self._generation += 1  # the caller went on: whatever was pending is stale
                self._check_result = None
                self._utterance_ended = False
            self._silence = 0
            self._final_in_pause = False
            self._session.caller_speaking = True
            self._maybe_check_partial()
            if len(self._audio) / 16000 > MAX_TURN_S:
                self._speech_end_t = now
                self._schedule_finish()
            return
        self._silence += 1
        if self._silence == 1:
            self._speech_end_t = now - WINDOW_S
        silence_s = self._silence * WINDOW_S
        self._maybe_start_check()  # transcribe during the pause already: often it is the end of the turn
        check = self._check_result
        fresh = check is not None and check[0] == self._generation
        finished = (check is not None and fresh and silence_s >= check[2]) or self._cloud_final_ends_turn()
        if finished or silence_s >= self._settings.lisa_turn_max_silence_s:
            self._schedule_finish()

    def _maybe_start_check(self) -> None:
        """Start the end-of-turn check of this pause unless it has a result or is running already."""
        if self._silence < FAST_SPECULATE_WINDOWS:
            return
        # the call's kind is asked once per pause (at the fast window), not on every window of it
        if self._silence < SPECULATE_WINDOWS and not self._fast_call():
            return
        if not self._wants_check():
            return
        if self._check_result is not None and self._check_result[0] == self._generation:
            return
        running = self._check and not self._check.done() and self._check_generation == self._generation
        if not running:
            self._start_check()

    def _wants_check(self) -> bool:
        """Local STT: always (the pause is transcribed at once). Cloud STT: smart turn only once the pause's
        final transcript is in and leaves the turn open (no final, no check: the long stop applies)."""
        if self._local_stt:
            return True
        return (
            self._final_in_pause
            and not self._cloud_open
            and not sentence_finished(" ".join(self._cloud_final))
        )

    def _schedule_finish(self) -> None:
        if not self._finishing:
            self._finishing = True
            self.create_task(self._finish(), "turn-finish")

    def _begin_turn(self, now: float) -> None:
        self._speaking = True
        self._session.caller_speaking = True
        self._start_count = 0
        self._silence = 0
        self._audio = bytearray(b"".join(self._pre_roll))
        self._pre_roll.clear()
        self._turn_start_t = now - START_WINDOWS * WINDOW_S
        self._generation += 1
        self._check_result = None
        self._partial_at = 0
        self._interrupted = False
        self._cloud_final.clear()
        self._cloud_words.clear()
        self._cloud_interim = ""
        self._final_in_pause = False
        self._cloud_open = self._utterance_ended = False

    # ------------------------------------------------------------------ end-of-turn check (STT + smart turn)

    _check_generation = -1

    def _start_check(self) -> None:
        self._check_generation = self._generation
        self._check = self.create_task(self._run_check(self._generation, bytes(self._audio)), "turn-check")

    async def _run_check(self, generation: int, audio: bytes) -> None:
        try:
            if self._local_stt:
                await self.start_ttfb_metrics()
                heard = await inference.transcribe(audio, self._context_prompt())
                await self.stop_ttfb_metrics()
                text, words, closing = heard.text, heard.words, heard.closing
                complete, probability = False, 0.0
                if text and not sentence_finished(text) and generation == self._generation:
                    complete, probability = await inference.turn_complete(audio)  # only when it matters
            else:
                text, words, closing = "", (), None
                complete, probability = await inference.turn_complete(audio)
        except Exception:  # a failed inference must not end the call
            log.exception("call %s: end-of-turn check failed", self._session.call_sid)
            return
        if generation != self._generation or not self._speaking:
            return
        # how much silence ends this turn: see stop_for and the module docstring
        stop_s = self.stop_for(text, complete, closing)
        self._check_result = (generation, text, stop_s, complete, words)
        if self._on_draft and text and not self._session.lisa_busy:
            self._on_draft(text, words)
        log.debug("turn check: complete=%s p=%.2f text=%r", complete, probability, text)
        if self._silence * WINDOW_S >= stop_s or self._cloud_final_ends_turn():
            self._schedule_finish()

    def stop_for(self, text: str, complete: bool, closing: float | None = None) -> float:
        """The silence that ends a turn whose pause transcript is ``text``, smart turn's verdict ``complete``
        and Whisper's probability of a sentence's end after the last word ``closing`` (None: not known)."""
        settings = self._settings
        if sentence_finished(text):
            if closing is None:  # not known (a turn longer than the short window)
                return settings.lisa_turn_sure_stop_s
            if closing < settings.lisa_turn_sure_closing:
                return settings.lisa_turn_text_stop_s
            if (
                word_count(text) >= FAST_WORDS
                and self._fast_call()
                and not spelling(text)
                and not thanks_last(text)
            ):
                return settings.lisa_turn_fast_stop_s
            return settings.lisa_turn_sure_stop_s
        if complete and not (text and left_open(text)):
            return settings.lisa_vad_stop_s
        return settings.lisa_turn_max_silence_s

    def _fast_call(self) -> bool:
        """The fastest stop applies to a caller who rang in and whose words Whisper hears here, unless Lisa's
        last line spelled a word out or asked for spelling: the answer is letters with pauses ("No. Kowalczyk.
        [pause] K, O, W …"), and a sentence's end before them is no turn's end. Not on Lisa's own calls to a
        business: menus, offers read out and names spelled at the other end's pace are cut at it, and there
        no one waits on her for a human's pace (README, "Turn-taking")."""
        conversation = self._session.conversation
        if not self._local_stt or conversation.mode is Mode.OUTBOUND:
            return False
        last = next((m.text for m in reversed(conversation.history) if m.role == "assistant"), "")
        return not _ASKS_SPELLING.search(last)

    def _cloud_final_ends_turn(self) -> bool:
        """Cloud STT: the final transcript came in during this pause and ends a sentence, or smart turn
        heard a finished turn: the turn ends now rather than after the VAD stop (Deepgram's endpointing
        has already waited for the silence). Never in the first ~100 ms of a pause, never while the last final
        says more of the utterance follows (no speech_final); Deepgram's UtteranceEnd ends it in any case."""
        if self._local_stt or self._silence < SPECULATE_WINDOWS:
            return False
        if self._utterance_ended:
            return bool(self._cloud_final)
        if not self._final_in_pause or self._cloud_open:
            return False
        if sentence_finished(" ".join(self._cloud_final)):
            return True
        result = self._check_result
        return result is not None and result[0] == self._generation and result[3]

    async def _finish(self) -> None:
        if not self._speaking:
            self._finishing = False
            return
        try:
            generation = self._generation
            if self._local_stt:
                if self._check_result is None or self._check_result[0] != generation:
                    if not self._check or self._check.done() or self._check_generation != generation:
                        self._start_check()
                    check = self._check
                    await asyncio.shield(check) if check else None
                if self._generation != generation:
                    return  # the caller spoke again while we waited: the turn goes on
                text = self._check_result[1] if self._check_result else ""
                words = self._check_result[4] if self._check_result else ()
            else:
                text = await self._cloud_text()
                words = tuple(self._cloud_words) if self._cloud_final else ()
                if not text.strip() and self._speech_end_t - self._turn_start_t >= STALL_SPEECH_S:
                    # speech (longer than a cough), but not a word from the cloud within a second: it
                    # stalled; local Whisper hears this turn and the rest of the call
                    self._fail_over("no transcript within 1 s of the end of speech")
                    heard = await inference.transcribe(bytes(self._audio), self._context_prompt())
                    text, words = heard.text, heard.words
            stt_final_t = time.monotonic()
            start_t, end_t = self._turn_start_t, self._speech_end_t
            audio = bytes(self._audio)
            self._reset()
            if self._not_speech(text, audio):
                return
            await self._deliver(text, start_t, end_t, stt_final_t, words)
        finally:
            self._finishing = False

    def _fail_over(self, why: str) -> None:
        """The cloud speech recognition failed or stalled: this call's turns are transcribed by the local
        Whisper from now on (a ``provider_failover`` event of the call)."""
        if self._local_stt:
            return
        self._local_stt = True
        message = f"stt: {why}; local Whisper transcribes the rest of the call"
        log.warning("provider_failover: call %s: %s", self._session.call_sid, message)
        conversation = self._session.conversation
        conversation.events.append(ConversationEvent("provider_failover", message, datetime.now(UTC)))

    def _not_speech(self, text: str, audio: bytes) -> bool:
        """A "turn" that was hold music or a tone, whatever speech recognition made of it ("[Music]", "♪",
        or words it dreamt up in the melody): not a turn."""
        if text.strip() and is_non_speech(text):
            log.debug("call %s: %r is no speech", self._session.call_sid, text)
            return True
        if audio and music_share(audio) >= MUSIC_SHARE:
            log.info("call %s: music on the line, not a turn", self._session.call_sid)
            log.debug("call %s: heard in the music: %r", self._session.call_sid, text[:40])
            self._session.music_t = time.monotonic()
            return True
        return False

    async def _cloud_text(self) -> str:
        """With cloud STT: wait briefly for the final transcript of what the caller just said (all its parts:
        while the last final says more follows, for the rest too)."""
        deadline = time.monotonic() + 1.0
        while (not self._cloud_final or self._cloud_open) and time.monotonic() < deadline:  # noqa: ASYNC110 - frames arrive via process_frame
            await asyncio.sleep(0.02)
        return " ".join(self._cloud_final).strip() or self._cloud_interim

    def _reset(self) -> None:
        self._speaking = False
        self._session.caller_speaking = False
        self._audio = bytearray()
        self._silence = 0
        self._check_result = None
        self._final_in_pause = False
        self._cloud_open = self._utterance_ended = False
        self._generation += 1
        if self._partial and not self._partial.done():
            self._partial.cancel()

    def _context_prompt(self) -> str:
        if self._context is None:
            return ""
        try:
            return self._context()
        except Exception:  # no context is better than no transcript
            log.exception("call %s: speech context failed", self._session.call_sid)
            return ""

    async def _deliver(
        self,
        text: str,
        start_t: float,
        end_t: float,
        stt_final_t: float,
        words: tuple[tuple[str, float], ...] = (),
    ) -> None:
        count = word_count(text)
        session = self._session
        if count == 0:
            log.debug("call %s: noise, no words", session.call_sid)
            return
        if self._interruptible():
            # a caller who goes on before hearing any of Lisa's answer ("Okay, thank you. [pause] Bye.") is
            # answered for the whole turn, however short the rest (LisaProcessor takes her answer back); a
            # caller's "Goodbye." over her is no backchannel either
            short = session.goes_on(start_t) or is_farewell(text)
            if count < (1 if short else self._settings.lisa_min_interrupt_words):
                log.debug("call %s: %r over Lisa: not an interruption", session.call_sid, text)
                return
            await self._interrupt(end_t)
        session.touch()
        await self.push_frame(
            CallerTurnFrame(
                text=text,
                words=words,
                start_ms=session.ms(start_t) or 0.0,
                end_ms=session.ms(end_t) or 0.0,
                stt_final_ms=session.ms(stt_final_t) or 0.0,
            )
        )

    # ------------------------------------------------------------------ barge-in

    def _maybe_check_partial(self) -> None:
        if not self._interruptible() or self._sounds.music:
            return  # music on the line never interrupts Lisa
        if self._partial and not self._partial.done():
            return
        if len(self._audio) - self._partial_at < PARTIAL_EVERY_S * 16000:
            return
        self._partial_at = len(self._audio)
        self._partial = self.create_task(self._run_partial(self._generation, bytes(self._audio)), "partial")

    async def _run_partial(self, generation: int, audio: bytes) -> None:
        if self._local_stt:
            try:
                text = (await inference.transcribe(audio)).text
            except Exception:
                log.exception("call %s: partial transcription failed", self._session.call_sid)
                return
        else:
            text = " ".join([*self._cloud_final, self._cloud_interim])
        if not self._speaking or not self._interruptible():
            return
        if word_count(text) >= self._settings.lisa_min_interrupt_words:
            await self._interrupt(time.monotonic())

    def _interruptible(self) -> bool:
        """Lisa is talking and the caller has not interrupted her yet, and what she says is not the call's last
        line (a goodbye, "I'll put you through"): a caller talking over that ("bye bye") is heard, not
        answered, and does not cut her off."""
        conv = self._session.conversation
        return self._session.lisa_busy and not self._interrupted and not (conv.ended or conv.transfer_to)

    async def _interrupt(self, at: float) -> None:
        self._interrupted = True
        reply, heard = self._session.barge_in(at)
        if reply is not None:
            self._session.heard[reply] = heard
        log.debug("call %s: barge-in; caller heard %r", self._session.call_sid, heard)
        await self.broadcast_interruption()


def closes_utterance(result: Any) -> bool:
    """Does this final close the caller's utterance? Deepgram: ``speech_final`` (its endpointing fired) or
    ``from_finalize``; ``speech_final: false`` means more finals of the utterance follow. A result without
    the flags (another STT) closes it."""

    def flag(name: str) -> Any:
        return result.get(name) if isinstance(result, dict) else getattr(result, name, None)

    speech_final = flag("speech_final")
    return speech_final is None or bool(speech_final) or bool(flag("from_finalize"))


def cloud_words(result: Any) -> list[tuple[str, float]]:
    """The words of a cloud STT result with their confidence (Deepgram: ``channel.alternatives[0].words``,
    each with ``punctuated_word`` / ``word`` and ``confidence``); none when the result carries none."""
    try:
        channel: Any = result.get("channel") if isinstance(result, dict) else getattr(result, "channel", None)
        alternatives: Any = channel.get("alternatives") if isinstance(channel, dict) else channel.alternatives
        first = alternatives[0]
        items = (first.get("words") if isinstance(first, dict) else first.words) or []
    except (AttributeError, IndexError, KeyError, TypeError):
        return []
    out = []
    for item in items:

        def field(name: str, item: Any = item) -> Any:
            return item.get(name) if isinstance(item, dict) else getattr(item, name, None)

        word = str(field("punctuated_word") or field("word") or "").strip(".,!?;:\"'()")
        confidence = field("confidence")
        if word and confidence is not None:
            out.append((word, round(min(1.0, max(0.0, float(confidence))), 3)))
    return out
