"""Twilio Media Streams <-> pipecat frames for one call, on the 8 kHz μ-law line with no resampling.

Unlike pipecat's ``TwilioFrameSerializer`` this one checks message order and shape (garbage raises
:class:`~telephony.media_stream.ProtocolError`, which ends only this call), reports ``mark`` echoes and
``stop`` to the :class:`~pipelines.call_session.CallSession`, sends our own ``mark`` messages after Lisa's
audio and never hangs up by itself (the app does, through its carrier).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

from pipelines.audio import is_quiet
from pipelines.call_session import CallSession
from pipelines.frames import ARRIVED
from telephony.audio_codec import pcm16_to_ulaw, ulaw_to_pcm16
from telephony.media_stream import Dtmf, Mark, Media, OutboundMessages, ProtocolError, Stop, StreamTracker

log = logging.getLogger(__name__)


QUIET_BEFORE_BATCHING = 50  # 1 s of quiet 20 ms frames, then ...
QUIET_BATCH = 5  # ... they enter the pipeline 100 ms at a time (speech flushes at once)


class TwilioStreamSerializer(FrameSerializer):
    def __init__(
        self, tracker: StreamTracker, session: CallSession, on_end: Callable[[str, str], None]
    ) -> None:
        """``on_end(ended_by, reason)`` is called (once) when the stream stops or turns to garbage."""
        super().__init__()
        self._tracker = tracker
        self._session = session
        self._on_end = on_end
        self._out = OutboundMessages(session.stream_sid)
        self._done = False
        self._quiet_frames = 0
        self._held = b""  # quiet audio waiting to go into the pipeline as one frame

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, OutputAudioRawFrame):
            if not frame.audio:
                return None
            self._session.on_audio_sent(frame.audio)
            return self._out.media(pcm16_to_ulaw(frame.audio))
        if isinstance(frame, InterruptionFrame):
            return self._out.clear()
        if isinstance(frame, (OutputTransportMessageFrame, OutputTransportMessageUrgentFrame)):
            message = frame.message if isinstance(frame.message, dict) else {}
            if message.get("event") == "mark":
                name = str(message.get("name", ""))
                self._session.on_mark_sent(name)
                return self._out.mark(name)
            return None
        return None

    def _audio_frame(self, pcm: bytes) -> InputAudioRawFrame | None:
        """One pipeline frame per 20 ms, except on a line that has been quiet for a second: then 100 ms
        per frame (a fifth of the per-frame work for a caller who listens). Sound flushes what is held,
        so neither the start nor the end of speech waits."""
        self._quiet_frames = self._quiet_frames + 1 if is_quiet(pcm) else 0
        if self._quiet_frames > QUIET_BEFORE_BATCHING:
            self._held += pcm
            if len(self._held) < QUIET_BATCH * len(pcm):
                return None
            pcm = self._held
        elif self._held:
            pcm = self._held + pcm
        self._held = b""
        frame = InputAudioRawFrame(audio=pcm, sample_rate=8000, num_channels=1)
        frame.metadata[ARRIVED] = time.monotonic()
        return frame

    async def deserialize(self, data: str | bytes) -> Frame | None:
        if self._done:
            return None
        try:
            message = self._tracker.feed(data)
        except ProtocolError as exc:
            self._done = True
            self._session.protocol_error = str(exc)
            self._on_end("system", f"protocol error: {exc}")
            return None
        if isinstance(message, Media):
            if message.track not in ("inbound", "inbound_track"):
                return None
            pcm = ulaw_to_pcm16(message.payload)
            self._session.record_caller(pcm)
            return self._audio_frame(pcm)
        if isinstance(message, Mark):
            self._session.on_mark_echo(message.name)
            return None
        if isinstance(message, Dtmf):
            try:
                return InputDTMFFrame(KeypadEntry(message.digit))
            except ValueError:
                return None
        if isinstance(message, Stop):
            self._done = True
            self._on_end("party", "stream stopped")
        return None
