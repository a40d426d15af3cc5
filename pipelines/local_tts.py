"""Lisa's voice on the shared Piper model: text pieces in, 8 kHz audio + a Twilio mark per piece out.

Synthesis runs in the shared inference threads (see :mod:`pipelines.inference`). The first sentence of a
reply is split at its first comma so the opening phrase is synthesized and sent on its own (both halves are
synthesized at once, so the second is ready when the first has played). Each piece's
audio is padded to whole 20 ms frames and followed by a ``mark`` (sent by the serializer once the audio
before it has gone out), so the call knows what the caller has actually heard.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence

from pipecat.frames.frames import (
    Frame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from pipelines import inference
from pipelines.call_session import CallSession
from pipelines.frames import LisaSpeechFrame

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM
_FIRST_COMMA = re.compile(r"^(\S+(?:\s+\S+){0,6}?[,;:])\s+(\S.*)$")


def first_phrase_split(text: str) -> list[str]:
    """``"Sure, what day works for you?"`` -> ``["Sure,", "what day works for you?"]`` (long enough halves)."""
    match = _FIRST_COMMA.match(text.strip())
    if match and len(match.group(2).split()) >= 3:
        return [match.group(1), match.group(2)]
    return [text]


def pad_to_frames(pcm: bytes) -> bytes:
    rest = len(pcm) % FRAME_BYTES
    return pcm + b"\x00" * (FRAME_BYTES - rest) if rest else pcm


def mark_frame(name: str) -> OutputTransportMessageFrame:
    return OutputTransportMessageFrame(message={"event": "mark", "name": name})


class LocalTTS(FrameProcessor):
    def __init__(self, session: CallSession, name: str = "piper-tts") -> None:
        super().__init__(name=name)
        self._session = session

    def can_generate_metrics(self) -> bool:
        return True

    @staticmethod
    def pieces(text: str, index: int) -> list[str]:
        return first_phrase_split(text) if index == 1 else [text]

    def prefetch(self, text: str, index: int, speculative: bool = False) -> None:
        """Start synthesizing a sentence as soon as the engine produced it (the TTS takes them in turn).
        A speculative sentence (a preview while the caller may still go on) never goes before real speech."""
        for n, piece in enumerate(self.pieces(text, index)):
            first = index == 1 and n == 0 and not speculative
            inference.prefetch(piece, inference.SPEAK if first else inference.AHEAD)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, LisaSpeechFrame):
            await self.push_frame(frame, direction)
            return
        await self.speak(frame)

    async def speak(self, frame: LisaSpeechFrame) -> None:
        """Synthesize and send one piece of Lisa's speech (nothing when its reply was interrupted)."""
        try:
            await self._speak(frame)
        finally:
            self._session.speech_done(frame.reply, frame.index)

    async def _speak(self, frame: LisaSpeechFrame) -> None:
        if frame.reply in self._session.heard:
            return  # interrupted before we got to it
        pieces = self.pieces(frame.text, frame.index)
        # all pieces synthesize at once (the inference pool bounds it): the rest is ready by the time the
        # short first phrase has played, so splitting never leaves a gap
        jobs = [asyncio.ensure_future(inference.synthesize(piece)) for piece in pieces]
        try:
            await self._push_pieces(frame, pieces, jobs)
        finally:
            for job in jobs:
                job.cancel()

    async def _push_pieces(
        self, frame: LisaSpeechFrame, pieces: list[str], jobs: Sequence[asyncio.Future[bytes]]
    ) -> None:
        for n, (piece, job) in enumerate(zip(pieces, jobs, strict=True)):
            started = time.monotonic()
            await self.start_ttfb_metrics()
            try:
                pcm = await job
            except Exception:  # one failed sentence must not end the call
                log.exception("call %s: synthesis failed for %r", self._session.call_sid, piece)
                continue
            await self.stop_ttfb_metrics()
            if frame.reply in self._session.heard:
                return  # the caller interrupted this reply while we were synthesizing
            pcm = pad_to_frames(pcm)
            index = frame.index * 10 + n
            utterance = self._session.queue_utterance(frame.reply, index, piece, len(pcm) / (2 * SAMPLE_RATE))
            log.debug("tts %.0f ms for %r", (time.monotonic() - started) * 1000, piece)
            await self.push_frame(TTSStartedFrame())
            await self.push_frame(OutputAudioRawFrame(audio=pcm, sample_rate=SAMPLE_RATE, num_channels=1))
            await self.push_frame(mark_frame(utterance.mark))
            await self.push_frame(TTSStoppedFrame())
