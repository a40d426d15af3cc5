"""Speech providers by configuration: local Whisper/Piper (embedded default) or Deepgram/ElevenLabs.

``build_stt`` returns the processor that goes before the turn detector (``None`` for local STT, which the
turn detector runs itself during the caller's pause); ``build_tts`` returns the processor that turns
:class:`~pipelines.frames.LisaSpeechFrame` into 8 kHz audio followed by a Twilio mark per piece. Cloud
services are pipecat's own, pointed at ``DEEPGRAM_BASE_URL`` / ``ELEVENLABS_BASE_URL`` when set (local
protocol servers in tests and benchmarks).

The cloud services retry by themselves (pipecat reconnects with backoff); what they report as an error is
logged without secrets and becomes a ``provider_error`` event of the call (``provider_failed`` once pipecat
gives the service up), so a failing provider is visible to the call hooks and never ends other calls. A cloud
TTS failing while Lisa speaks hands that call to Piper (:mod:`pipelines.tts_failover`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    InterruptionFrame,
    SystemFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from agent.conversation import ConversationEvent
from pipelines.audio import is_quiet
from pipelines.call_session import CallSession
from pipelines.frames import LisaSpeechFrame, UtteranceEndFrame
from pipelines.local_tts import SAMPLE_RATE, LocalTTS
from pipelines.settings import VoiceSettings
from pipelines.tts_failover import CloudAudioOut, CloudSpeech

log = logging.getLogger(__name__)

UTTERANCE_END_MS = 1000

_HEADERS = re.compile(r"headers: \{[^}]*\},? ?")


@cache
def _share_deepgram_http_client() -> None:
    """pipecat builds a new Deepgram SDK client per call, and each builds an httpx client that loads the CA
    bundle (~25 ms on the event loop, stalling every other call while calls connect). The streaming path
    never uses it: one shared HTTP client for all of them."""
    import httpx
    import pipecat.services.deepgram.stt as pipecat_deepgram
    from deepgram import AsyncDeepgramClient

    shared = httpx.AsyncClient(timeout=60)

    class SharedHttpDeepgramClient(AsyncDeepgramClient):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("httpx_client", shared)
            super().__init__(*args, **kwargs)

    # pipecat's Deepgram service builds its client from this module's name: the shared one goes there
    pipecat_deepgram.AsyncDeepgramClient = SharedHttpDeepgramClient  # type: ignore[misc]


def build_stt(settings: VoiceSettings, keyterms: Sequence[str] = ()) -> FrameProcessor | None:
    """Deepgram's streaming STT (``None`` for local STT); ``keyterms`` are the call's names and services,
    boosted with Deepgram's ``keyterm`` (Nova-3's keyword boosting; ``keywords`` is for older models)."""
    if settings.lisa_stt == "local":
        return None
    from pipecat.services.deepgram.stt import DeepgramSTTService
    from pipecat.utils.types import NOT_GIVEN

    _share_deepgram_http_client()

    if not settings.deepgram_api_key:
        raise RuntimeError("LISA_STT=deepgram needs DEEPGRAM_API_KEY")
    key = settings.deepgram_api_key.get_secret_value()

    class DeepgramSTT(DeepgramSTTService):
        """Pipecat's Deepgram service that holds back long silences and reports its errors downstream.

        Twilio's 20 ms frames go to Deepgram as they come while the caller speaks and for the first
        ``QUIET_LIVE_S`` of a pause (Deepgram's endpointing needs that silence promptly). A longer silence is
        not streamed at all (pipecat's KeepAlive every 5 s keeps the stream open): it costs no CPU, no
        network and no Deepgram minutes; its last ``PREROLL_S`` go with the first speech after it, so the
        recogniser hears the onset in context. Errors also go downstream as :class:`ProviderErrorFrame` (no
        extra pipeline hop for the audio). Connecting holds the call's start for at most ``CONNECT_WAIT_S``,
        so that with the rest of the pipeline's start Lisa greets within the README's 1.5 s.
        """

        CONNECT_WAIT_S = 1.2  # the call starts (Lisa greets) after this even while Deepgram is unreachable
        QUIET_LIVE_S = 0.6
        PREROLL_S = 0.2

        _quiet_bytes = 0
        _held = b""

        async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
            quiet = is_quiet(audio)
            self._quiet_bytes = self._quiet_bytes + len(audio) if quiet else 0
            if quiet and self._quiet_bytes > self.QUIET_LIVE_S * 16000:
                self._held = (self._held + audio)[-int(self.PREROLL_S * 16000) :]
                yield None
                return
            if self._held:
                audio, self._held = self._held + audio, b""
            async for frame in super().run_stt(audio):
                yield frame

        async def push_error_frame(self, error: ErrorFrame, force_treat_as_permanent: bool = False) -> None:
            await super().push_error_frame(error, force_treat_as_permanent)
            await self.push_frame(_provider_error(error, "stt", "deepgram", key))

        async def _on_message(self, message: object) -> None:
            # pipecat drops Deepgram's UtteranceEnd; the turn detector needs it (a final without
            # speech_final, on a noisy line, is closed by it)
            if getattr(message, "type", None) == "UtteranceEnd":
                await self.push_frame(UtteranceEndFrame(float(getattr(message, "last_word_end", 0) or 0)))
                return
            await super()._on_message(message)

        async def _connect(self) -> None:
            # pipecat waits until the connection is up or its retries are spent (8+ s of backoff when
            # Deepgram refuses): bounded here, the retries go on in the background
            connecting = asyncio.ensure_future(super()._connect())
            self._connecting = connecting  # keeps a reference until it settles
            await asyncio.wait({connecting}, timeout=self.CONNECT_WAIT_S)

    terms = [t.strip() for t in dict.fromkeys(keyterms) if t and t.strip()]
    return DeepgramSTT(
        api_key=key,
        base_url=settings.deepgram_base_url or "",
        sample_rate=8000,
        encoding="linear16",
        # utterance_end_ms: Deepgram's UtteranceEnd ends a turn whose last final had no speech_final (a noisy
        # line: endpointing never fires); it needs interim results (pipecat's default), 1000 ms as in its docs
        settings=DeepgramSTTService.Settings(keyterm=terms or NOT_GIVEN, utterance_end_ms=UTTERANCE_END_MS),
    )


def build_tts(settings: VoiceSettings, session: CallSession) -> FrameProcessor:
    if settings.lisa_tts == "local":
        if settings.lisa_stt == "local":
            return LocalTTS(session)
        return Pipeline([_ProviderEvents(session), LocalTTS(session)])  # reports the cloud STT's errors
    from pipecat.services.elevenlabs.tts import ElevenLabsTTSService

    if not settings.elevenlabs_api_key:
        raise RuntimeError("LISA_TTS=elevenlabs needs ELEVENLABS_API_KEY")
    kwargs: dict[str, Any] = {"url": settings.elevenlabs_base_url} if settings.elevenlabs_base_url else {}
    key = settings.elevenlabs_api_key.get_secret_value()
    service = ElevenLabsTTSService(
        api_key=key,
        settings=ElevenLabsTTSService.Settings(voice=settings.elevenlabs_voice_id),
        sample_rate=SAMPLE_RATE,  # asks ElevenLabs for pcm_8000: no resampling on our side
        **kwargs,
    )
    speech = CloudSpeech(session, settings.lisa_tts_stall_s)  # Piper takes over when ElevenLabs fails
    return Pipeline([_SpeakCloud(speech, key, service), service, CloudAudioOut(speech)])


@dataclass
class ProviderErrorFrame(SystemFrame):
    """A cloud service upstream reported an error (already without secrets)."""

    stage: str = ""
    provider: str = ""
    error: str = ""
    permanent: bool = False


def _provider_error(frame: ErrorFrame, stage: str, provider: str, secret: str) -> ProviderErrorFrame:
    text = _HEADERS.sub("", str(frame.error or "error"))  # the SDK's request headers say nothing useful
    if secret:
        text = text.replace(secret, "***")
    permanent = bool(frame.fatal or (frame.processor is not None and not frame.processor.is_usable))
    return ProviderErrorFrame(stage=stage, provider=provider, error=text[:300], permanent=permanent)


class _ProviderEvents(FrameProcessor):
    """Turns provider errors into log lines and ``provider_error`` / ``provider_failed`` call events."""

    REPEAT_S = 5.0  # the same error again within this time is logged at debug level only

    def __init__(self, session: CallSession, name: str = "provider-events") -> None:
        super().__init__(name=name)
        self._session = session
        self._last: dict[tuple[str, str, bool], float] = {}

    def report(self, error: ProviderErrorFrame) -> None:
        key = (error.stage, error.error, error.permanent)
        now = time.monotonic()
        if now - self._last.get(key, -self.REPEAT_S) < self.REPEAT_S:
            log.debug(
                "call %s: %s %s error again: %s",
                self._session.call_sid,
                error.stage,
                error.provider,
                error.error,
            )
            return
        self._last[key] = now
        kind = "provider_failed" if error.permanent else "provider_error"
        log.warning(
            "call %s: %s (%s) %s: %s", self._session.call_sid, error.stage, error.provider, kind, error.error
        )
        message = f"{error.stage} ({error.provider}): {error.error}"
        self._session.conversation.events.append(ConversationEvent(kind, message, datetime.now(UTC)))

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, ProviderErrorFrame):
            self.report(frame)
            return
        await self.push_frame(frame, direction)


class _SpeakCloud(_ProviderEvents):
    """Lisa's pieces to the cloud TTS (one utterance, and later one mark, per piece) or, once the call failed
    over, past it to Piper (:mod:`pipelines.tts_failover`); reports the service's errors."""

    def __init__(self, speech: CloudSpeech, secret: str = "", service: FrameProcessor | None = None) -> None:
        super().__init__(speech.session, name="speak-cloud")
        self._speech, self._secret, self._service = speech, secret, service

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, ErrorFrame) and frame.processor is self._service:
            error = _provider_error(frame, "tts", "elevenlabs", self._secret)
            self.report(error)
            await self._speech.provider_error(error.error, error.permanent)
        elif isinstance(frame, ProviderErrorFrame):
            await super().process_frame(frame, direction)
            return
        await FrameProcessor.process_frame(self, frame, direction)
        if isinstance(frame, LisaSpeechFrame):
            if self._speech.failed:
                await self._speech.to_piper(frame)
            elif self._speech.to_cloud(frame):
                await self.push_frame(TTSSpeakFrame(frame.text))
            return
        if isinstance(frame, InterruptionFrame):
            self._speech.interrupted()
        await self.push_frame(frame, direction)
