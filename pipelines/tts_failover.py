"""The cloud TTS (ElevenLabs) of one call with the embedded Piper voice behind it.

``speak-cloud → ElevenLabs → CloudAudioOut``: :class:`CloudSpeech` keeps the sentences sent to the cloud whose
audio has not ended yet; :class:`CloudAudioOut`, after the service, queues each sentence's utterance at its
first audio and sends its mark after its last (pipecat's serializer sends no marks).

The cloud failing mid-call — an error while a sentence is on its way (a closed socket), a permanent failure,
a sentence ended without audio, or no audio within ``LISA_TTS_STALL_S`` of the sentence being due (a stall)
— switches *this call* to Piper for the rest of the call: the sentences still outstanding (the failed one
whole, even when part of it was played) and every later one are spoken by :class:`CloudAudioOut` with Piper
(the processor is a :class:`~pipelines.local_tts.LocalTTS`), which drops whatever the cloud service still
sends; a ``provider_failover`` event says so. Errors while Lisa is quiet are only reported (pipecat
reconnects). The healthy path costs a timer per sentence and a clock read per audio chunk, no extra hop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from pipecat.frames.frames import (
    CancelFrame,
    DataFrame,
    EndFrame,
    Frame,
    InterruptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from agent.conversation import ConversationEvent
from pipelines.call_session import CallSession, Utterance
from pipelines.frames import LisaSpeechFrame
from pipelines.local_tts import SAMPLE_RATE, LocalTTS, mark_frame

log = logging.getLogger(__name__)


@dataclass
class FailOverFrame(DataFrame):
    """To :class:`CloudAudioOut`: the cloud TTS failed (``why``); Piper speaks from here on."""

    why: str = ""


@dataclass
class _Piece:
    reply: int
    index: int
    text: str
    sent_t: float  # when it went to the cloud service


LOOP_BEHIND_S = 0.1  # the watchdog firing this late means the event loop is behind
RECHECK_S = 0.25  # then the readers get this long before the next look
LAG_GRACE = 3  # and the sentence at most this many stall limits in all


class CloudSpeech:
    """One call's sentences on their way through the cloud TTS, watched for a failing provider."""

    def __init__(self, session: CallSession, stall_s: float) -> None:
        self.session = session
        self.stall_s = stall_s
        self.pieces: deque[_Piece] = deque()  # sent to the cloud, audio not ended yet (in order)
        self.progress_t = 0.0  # when the cloud's audio last moved on (a chunk, or a sentence ended)
        self.failed = False
        self.out: CloudAudioOut | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0  # when the watchdog is meant to fire

    def to_cloud(self, frame: LisaSpeechFrame) -> bool:
        """Whether this piece of Lisa's speech goes to the cloud service (False: dropped, interrupted)."""
        if frame.reply in self.session.heard:
            self.session.speech_done(frame.reply, frame.index)
            return False
        self.pieces.append(_Piece(frame.reply, frame.index, frame.text, time.monotonic()))
        if self._timer is None and self.stall_s > 0:  # 0: no stall limit (errors still switch)
            self._arm(self.stall_s)
        return True

    async def to_piper(self, frame: LisaSpeechFrame) -> None:
        """After the failover: the piece goes past the cloud service, straight to Piper (its synthesis starts
        now, as the embedded pipeline's does when the engine produces a sentence)."""
        assert self.out is not None
        if frame.reply not in self.session.heard:
            self.out.prefetch(frame.text, frame.index)
        await self.out.queue_frame(frame)

    def interrupted(self) -> None:
        """The caller barged in: the service drops every sentence it has (their audio never ends)."""
        self.pieces.clear()

    async def provider_error(self, error: str, permanent: bool) -> None:
        """The cloud service reported an error: fail over when it gives up or a sentence is outstanding."""
        if permanent or self.pieces:
            await self.fail_over(f"elevenlabs failed ({error[:120]})")

    async def fail_over(self, why: str) -> None:
        """Piper speaks the outstanding sentences and the rest of the call (a ``provider_failover`` event)."""
        if self.failed or self.out is None:
            return
        # queued before ``failed`` is set and without suspending: sentences bypassing the cloud go behind it
        await self.out.queue_frame(FailOverFrame(why=why))
        self.failed = True
        self.close()
        message = f"tts: {why}; Piper speaks the rest of the call"
        log.warning("provider_failover: call %s: %s", self.session.call_sid, message)
        event = ConversationEvent("provider_failover", message, datetime.now(UTC))
        self.session.conversation.events.append(event)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, delay_s: float) -> None:
        self._due = time.monotonic() + delay_s
        self._timer = asyncio.get_running_loop().call_later(delay_s, self._check)

    def _check(self) -> None:
        """The stall watchdog: the first outstanding sentence must get audio (or more of it) within
        ``stall_s`` of when it was sent or the cloud's audio last moved on, whichever is later. A watchdog that
        fires late finds the event loop behind (an overloaded process): the cloud's audio may be waiting unread
        in the socket, so the readers get another moment first (up to ``LAG_GRACE`` stall limits in all) —
        else an overload would hand calls to Piper, whose synthesis costs the CPU that was short already."""
        self._timer = None
        if self.failed or not self.pieces or self.out is None:
            return
        now = time.monotonic()
        left = max(self.pieces[0].sent_t, self.progress_t) + self.stall_s - now
        if left > 0:
            self._arm(left)
            return
        if now - self._due > LOOP_BEHIND_S and now < self.pieces[0].sent_t + LAG_GRACE * self.stall_s:
            self._arm(RECHECK_S)
            return
        self.out.create_task(
            self.fail_over(f"no audio within {self.stall_s:g} s of a sentence"), "tts-failover"
        )


class CloudAudioOut(LocalTTS):
    """After the cloud TTS: each sentence's utterance at its first audio, its mark after its last; after the
    failover (:class:`FailOverFrame`) Lisa's speech comes here directly and Piper speaks it."""

    def __init__(self, speech: CloudSpeech) -> None:
        super().__init__(speech.session, name="cloud-tts-out")
        self._speech = speech
        speech.out = self
        self._piece: _Piece | None = None  # the sentence whose audio is coming in
        self._utterance: Utterance | None = None
        self._bytes = 0
        self._piper = False  # failed over: the cloud's audio is dropped

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, LisaSpeechFrame):  # only after the failover (before it they go to the cloud)
            await super().process_frame(frame, direction)
            return
        await FrameProcessor.process_frame(self, frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            if not self._piper:
                self._on_audio(frame.audio)
                await self.push_frame(frame, direction)
        elif isinstance(frame, TTSStoppedFrame):
            if not self._piper:
                await self._on_stopped(frame, direction)
        elif isinstance(frame, TTSStartedFrame):
            if not self._piper:
                await self.push_frame(frame, direction)
        elif isinstance(frame, FailOverFrame):
            await self._take_over()
        else:
            if isinstance(frame, InterruptionFrame):
                self._piece, self._utterance, self._bytes = None, None, 0
            elif isinstance(frame, (EndFrame, CancelFrame)):
                self._speech.close()
            await self.push_frame(frame, direction)

    def _on_audio(self, audio: bytes) -> None:
        speech = self._speech
        speech.progress_t = time.monotonic()
        if self._utterance is None and speech.pieces:
            piece = self._piece = speech.pieces[0]
            self._utterance = self._session.queue_utterance(piece.reply, piece.index, piece.text, 0.0)
            self._session.speech_done(piece.reply, piece.index)
            self._bytes = 0
        self._bytes += len(audio)

    async def _on_stopped(self, frame: TTSStoppedFrame, direction: FrameDirection) -> None:
        speech = self._speech
        if self._utterance is None:  # a sentence ended without audio: the cloud failed it
            if speech.pieces:
                await speech.fail_over("a sentence ended without audio")
            await self.push_frame(frame, direction)
            return
        if speech.pieces and speech.pieces[0] is self._piece:
            speech.pieces.popleft()
        speech.progress_t = time.monotonic()
        utterance = self._end_utterance()
        await self.push_frame(frame, direction)
        await self.push_frame(mark_frame(utterance.mark))

    def _end_utterance(self) -> Utterance:
        assert self._utterance is not None
        utterance = self._utterance
        utterance.duration_s = self._bytes / (2 * SAMPLE_RATE)
        self._piece, self._utterance, self._bytes = None, None, 0
        return utterance

    async def _take_over(self) -> None:
        """Piper from now on: the sentence whose audio was cut off is ended where it stopped (its mark), then
        every outstanding sentence is spoken again, whole."""
        self._piper = True
        pieces = list(self._speech.pieces)
        self._speech.pieces.clear()
        if self._utterance is not None:
            await self.push_frame(TTSStoppedFrame())
            await self.push_frame(mark_frame(self._end_utterance().mark))
        for piece in pieces:  # all synthesized at once: the next is ready when the one before has played
            if piece.reply not in self._session.heard:
                self.prefetch(piece.text, piece.index)
        for piece in pieces:
            self._session.speech_sent(piece.reply, piece.index)
            await self.speak(LisaSpeechFrame(text=piece.text, reply=piece.reply, index=piece.index))
