"""One phone call: Twilio media WebSocket → pipecat pipeline → Lisa → back, with records and hooks.

``transport in → [cloud STT] → TurnDetector (VAD + smart turn + local STT) → LisaProcessor → TTS →
transport out → metrics log``. Speech recognition is biased with what the call is about (names, business,
services: :mod:`pipelines.stt_context`): Whisper's prompt, Deepgram's ``keyterm``, all at 8 kHz (the pipeline's in/out rates; Whisper's 16 kHz and Piper's
22.05 kHz are converted inside their services only). One pipeline and one pipecat runner per call; every
failure inside a call ends that call only (``ended_by = "system"``) and its resources are always released.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket
from pipecat.frames.frames import EndFrame, Frame, MetricsFrame
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner
from starlette.websockets import WebSocketDisconnect, WebSocketState

from agent.agreement import on_hangup
from agent.conversation import BookingRequest, Conversation, ConversationEvent, Language, Mode, Status
from agent.conversation_codec import event_list
from pipelines.call_deps import CallDeps
from pipelines.call_hooks import CallInfo, CallResult
from pipelines.call_session import CallSession, recording_problem
from pipelines.lisa_processor import LisaProcessor
from pipelines.local_tts import LocalTTS
from pipelines.providers import build_stt, build_tts
from pipelines.serializer import TwilioStreamSerializer
from pipelines.settings import VoiceSettings
from pipelines.stt_context import speech_context
from pipelines.turn_detector import TurnDetector
from telephony.carrier import CarrierError
from telephony.media_stream import ProtocolError, Start, StreamTracker
from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
ACTIVE_CALLS: dict[str, CallSession] = {}
_LIVE: dict[str, MediaCall] = {}
# Conversations of calls whose stream the carrier restarts after pressing keys (Twilio's <Play digits>):
# call sid -> (when suspended, conversation); the call's next stream (``resume=1``) takes it up.
_SUSPENDED: dict[str, tuple[float, Conversation]] = {}
RESUME_WITHIN_S = 60.0


def end_live_call(call_sid: str, reason: str) -> bool:
    """Ask a call running in this process to end politely (Lisa's goodbye, then hang-up). A ``reason``
    starting with "voicemail" (answering-machine detection heard a mailbox greeting end) has Lisa leave her
    short message instead of the goodbye (or none, see ``LISA_LEAVE_VOICEMAIL``).

    False when the call is not connected here (still ringing, or on another instance): the caller should
    then hang up through the carrier. A call that is ending already is left to finish its goodbye.
    """
    call = _LIVE.get(call_sid)
    if call is None or call.lisa is None:
        return False
    if not (call._ending or call.lisa.ending):
        log.info("call %s: ending politely (%s)", call_sid, reason)
        if reason.startswith("voicemail"):
            call.lisa.machine_answered()
        else:
            call.lisa.end_politely(reason)
    return True


class MetricsLog(FrameProcessor):
    """Logs pipecat's TTFB metrics per service and keeps them on the call."""

    def __init__(self, session: CallSession) -> None:
        super().__init__(name="metrics-log")
        self._session = session
        self.ttfb: list[dict[str, Any]] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, MetricsFrame):
            for data in frame.data:
                if isinstance(data, TTFBMetricsData) and data.value:
                    self.ttfb.append({"processor": data.processor, "ttfb_ms": round(data.value * 1000, 1)})
                    log.debug(
                        "call %s: %s TTFB %.0f ms", self._session.call_sid, data.processor, data.value * 1000
                    )
        await self.push_frame(frame, direction)


async def read_start(websocket: WebSocket, tracker: StreamTracker) -> Start:
    """Read ``connected`` (optional) and ``start``; anything else first is a protocol error."""
    while True:
        message = tracker.feed(await websocket.receive_text())
        if isinstance(message, Start):
            message.check_format()
            return message


async def handle_media_stream(
    websocket: WebSocket,
    deps: CallDeps,
    *,
    admit: Callable[[Start], Awaitable[Start]],
    start_timeout_s: float = START_TIMEOUT_S,
) -> None:
    """Serve one Twilio media stream (the WebSocket is accepted already) until the call ends.

    ``admit`` checks the ``start`` message (the stream token, see ``api.calls.stream_routes``) and returns the start
    to serve, or raises with the reason: then the socket is closed before anything of the call is looked up."""
    tracker = StreamTracker()
    try:
        start = await asyncio.wait_for(read_start(websocket, tracker), start_timeout_s)
    except (ProtocolError, TimeoutError, WebSocketDisconnect, KeyError, RuntimeError) as exc:
        reason = (
            "no start message in time" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        log.warning("media stream refused: %s", reason)
        await _close(websocket, 1008, f"protocol error: {reason}"[:120])
        return
    try:
        start = await admit(start)
    except Exception as exc:  # refused (the message says why) or could not be checked
        log.warning("media stream of call %s refused: %s", start.call_sid, exc)
        await _close(websocket, 1008, f"refused: {exc}"[:120])
        return
    call = MediaCall(websocket, deps, start, tracker)
    try:
        await call.run()
    except Exception as exc:  # one call failing never touches another
        log.exception("call %s crashed", start.call_sid)
        call.ended_by, call.reason = call.ended_by or "system", call.reason or f"error: {type(exc).__name__}"
        await call.finalize()
    finally:
        await _close(websocket, 1000, "call ended")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    try:
        if websocket.application_state != WebSocketState.DISCONNECTED:
            await websocket.close(code=code, reason=reason)
    except Exception:  # already gone
        pass


class MediaCall:
    def __init__(self, websocket: WebSocket, deps: CallDeps, start: Start, tracker: StreamTracker) -> None:
        self.websocket = websocket
        self.deps = deps
        self.start = start
        self.tracker = tracker
        self.settings: VoiceSettings = deps.voice_settings
        params = dict(start.custom_parameters)
        self.direction = "outbound" if params.get("direction") == "outbound" else "inbound"
        self.info = CallInfo(start.call_sid, start.stream_sid, self.direction, params)
        self.ended_by: str | None = None
        self._transferred_to: str | None = None  # the number the carrier handed the call to
        self._stopping: asyncio.Task[None] | None = None
        self.reason = ""
        self.task: PipelineWorker | None = None
        self.session: CallSession | None = None
        self.lisa: LisaProcessor | None = None
        self._finalized = False
        self._ending = False
        self._resuming = False  # keys pressed: the carrier ends this stream and opens the call's next
        self._suspended = False  # this stream ended for the next one: no record, no hooks

    # ------------------------------------------------------------------ setup

    async def _conversation(self) -> Conversation:
        params = self.info.parameters
        engine = self.deps.engine
        language = params.get("language") or self.deps.default_language
        try:
            language = Language(language)
        except ValueError:
            language = Language(self.deps.default_language)
        request: BookingRequest | None = None
        mode = Mode.INBOUND
        if self.direction == "outbound":
            mode = Mode.OUTBOUND
            lookup = self.deps.request_lookup
            if self.info.request_id and lookup:
                try:
                    request = await lookup(self.info.request_id)
                except Exception:
                    log.exception("call %s: request lookup failed", self.info.call_sid)
            if request is None:
                log.warning(
                    "call %s: outbound call without a known request (%s); treating it as inbound",
                    self.info.call_sid,
                    self.info.request_id,
                )
                mode = Mode.INBOUND
        return engine.new_conversation(mode, language, request=request)

    def _resumed(self) -> Conversation | None:
        """The conversation this stream continues (``resume=1`` after keys were pressed), if any."""
        now = time.monotonic()
        for sid, (at, _) in list(_SUSPENDED.items()):
            if now - at > RESUME_WITHIN_S:
                _SUSPENDED.pop(sid, None)
        if self.info.parameters.get("resume") != "1":
            return None
        held = _SUSPENDED.pop(self.info.call_sid, None)
        return held[1] if held else None

    async def run(self) -> None:
        resumed = self._resumed()
        conv = resumed or await self._conversation()
        session = CallSession(
            call_sid=self.info.call_sid,
            stream_sid=self.info.stream_sid,
            direction=self.direction,
            parameters=self.info.parameters,
            conversation=conv,
        )
        if self.settings.lisa_recording_dir:
            problem = await asyncio.to_thread(recording_problem, self.settings.lisa_recording_dir)
            if problem:  # the call goes on without a recording
                log.warning(
                    "call %s: not recorded, LISA_RECORDING_DIR unusable (%s)", self.info.call_sid, problem
                )
            else:
                session.caller_pcm, session.lisa_pcm = bytearray(), bytearray()
        self.session = session
        ACTIVE_CALLS[session.call_sid] = session
        _LIVE[session.call_sid] = self
        log.info(
            "call %s started: %s from %s to %s",
            session.call_sid,
            self.direction,
            mask_phone(self.info.parameters.get("from")),
            mask_phone(self.info.parameters.get("to")),
        )
        if resumed is not None:  # the call's record and hooks know it already
            log.info("call %s: stream resumed after pressing keys", session.call_sid)
        else:
            try:
                await self.deps.call_records.started(
                    call_sid=session.call_sid,
                    stream_sid=session.stream_sid,
                    direction=self.direction,
                    from_masked=mask_phone(self.info.parameters.get("from")),
                    to_masked=mask_phone(self.info.parameters.get("to")),
                    request_id=self.info.request_id,
                    conversation_id=conv.id,
                    language=str(conv.language),
                )
            except Exception:  # a storage hiccup must not drop the caller
                log.exception("call %s: could not store the call start", session.call_sid)
            await self._hooks("on_call_started", self.info, conv)

        serializer = TwilioStreamSerializer(self.tracker, session, self._end_soon)
        transport = FastAPIWebsocketTransport(
            self.websocket,
            FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=8000,
                audio_out_sample_rate=8000,
                audio_out_10ms_chunks=2,
                add_wav_header=False,
                serializer=serializer,
                allowed_origins=[],
            ),
        )

        @transport.event_handler("on_client_disconnected")
        async def _gone(_transport: Any, _ws: Any) -> None:
            self._end_soon("party", "caller hung up")

        tts = build_tts(self.settings, session)
        self.lisa = LisaProcessor(
            session,
            self.deps.engine,
            self.settings,
            end_call=self._end_call,
            transfer=self._transfer,
            send_digits=self._send_digits,
            events_seen=len(conv.events),
            on_event=self._on_event,
            prefetch=tts.prefetch if isinstance(tts, LocalTTS) else None,
        )
        business = getattr(self.deps.engine, "business", None)
        stt = build_stt(self.settings, speech_context(conv, business).terms)
        processors: list[FrameProcessor] = [transport.input()]
        if stt is not None:
            processors.append(stt)
        processors += [
            TurnDetector(
                session,
                self.settings,
                local_stt=stt is None,
                on_draft=self.lisa.draft,
                context=lambda: speech_context(conv, business).prompt,  # the callee's name joins once heard
            ),
            self.lisa,
            tts,
            transport.output(),
            MetricsLog(session),
        ]
        self.task = PipelineWorker(
            Pipeline(processors),
            params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000, enable_metrics=True),
            enable_rtvi=False,
            enable_turn_tracking=False,  # our TurnDetector keeps the turns; the observer costs CPU per frame
            idle_timeout_secs=None,
            check_dangling_tasks=False,
            cancel_timeout_secs=3.0,
        )
        runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
        await runner.add_workers(self.task)
        try:
            await runner.run()
        finally:
            if not self.ended_by:
                self.ended_by, self.reason = "system", session.protocol_error or "pipeline stopped"
            await self.finalize()

    # ------------------------------------------------------------------ ending

    def _end_soon(self, ended_by: str, reason: str) -> None:
        """From the transport/serializer: the stream stopped, broke or turned to garbage."""
        if self._ending:
            return
        self._ending = True
        if self._resuming and ended_by == "party" and self.session is not None:
            # keys pressed through a carrier that restarts the stream: the call goes on in the next one
            _SUSPENDED[self.info.call_sid] = (time.monotonic(), self.session.conversation)
            self._suspended = True
            ended_by, reason = "lisa", "stream handed over after pressing keys"
        if self._transferred_to and ended_by == "party":  # the carrier took the call away to the transfer
            ended_by, reason = "lisa", f"transferred to {mask_phone(self._transferred_to)}"
        self.ended_by, self.reason = ended_by, reason
        if ended_by == "system":
            log.warning("call %s: closing: %s", self.info.call_sid, reason)
        else:
            log.info("call %s: %s", self.info.call_sid, reason)
        if self.lisa:
            self.lisa.ending = True
        if self.task:
            self._stopping = asyncio.get_running_loop().create_task(self._stop(ended_by, reason))

    async def _stop(self, ended_by: str, reason: str) -> None:
        if ended_by == "system":  # a broken stream: the far end is told why before the transport closes it
            await _close(self.websocket, 1008, reason[:120])
        if self.task:
            await self.task.cancel(reason=reason)

    async def _end_call(self, ended_by: str, reason: str) -> None:
        """From Lisa: her goodbye was played; hang up through the carrier and close the stream."""
        if self._ending:
            return
        self._ending = True
        self.ended_by, self.reason = ended_by, reason
        log.info("call %s: Lisa ends the call (%s)", self.info.call_sid, reason)
        carrier = self.deps.carrier
        if carrier is not None and not self._transferred_to:  # a transferred call is the colleague's now
            try:
                await carrier.hangup(self.info.call_sid)
            except Exception:  # a caller who already left makes hang-up fail harmlessly
                log.warning("call %s: hang-up failed", self.info.call_sid, exc_info=True)
        if self.task:
            await self.task.queue_frame(EndFrame())

    async def _send_digits(self, digits: str) -> None:
        """Press keys on the call (a phone menu) through the carrier."""
        carrier = self.deps.carrier
        send = getattr(carrier, "send_digits", None)
        if send is None:
            raise CarrierError("the carrier cannot send digits")
        self._resuming = bool(getattr(carrier, "digits_restart_stream", False))
        try:
            await send(self.info.call_sid, digits)
        except Exception:
            self._resuming = False
            raise

    async def _transfer(self, number: str) -> bool | None:
        """Hand the call to ``number`` through the carrier (retried); False when it failed (a
        ``transfer_failed`` event, Lisa tells the caller), None without a carrier."""
        carrier = self.deps.carrier
        log.info("call %s: transferring to %s", self.info.call_sid, mask_phone(number))
        if carrier is None:
            log.warning("call %s: no carrier to transfer with", self.info.call_sid)
            return None
        for attempt in range(3):
            try:
                self._transferred_to = number  # set first: the stream may close before transfer returns
                await carrier.transfer(self.info.call_sid, number)
                return True
            except CarrierError as exc:
                self._transferred_to = None
                log.warning("call %s: transfer attempt %d failed: %s", self.info.call_sid, attempt + 1, exc)
                if exc.status is not None and 400 <= exc.status < 500:
                    break  # refused (e.g. a call the carrier does not know): trying again will not help
            except Exception:  # retried, then reported
                self._transferred_to = None
                log.warning(
                    "call %s: transfer attempt %d failed", self.info.call_sid, attempt + 1, exc_info=True
                )
            await asyncio.sleep(0.3 * (attempt + 1))
        now = self.deps.engine.clock.now()
        assert self.session is not None  # a transfer happens during the call
        self.session.conversation.events.append(
            ConversationEvent("transfer_failed", f"transfer to {mask_phone(number)} failed", now)
        )
        if self.lisa:
            await self.lisa._flush_events()
        return False

    async def _on_event(self, event: ConversationEvent) -> None:
        await self._hooks("on_conversation_event", self.info, event)

    async def _hooks(self, name: str, *args: Any) -> None:
        for hook in list(self.deps.hooks):
            try:
                await getattr(hook, name)(*args)
            except Exception:  # hooks must not break the call
                log.exception("call hook %s.%s failed", type(hook).__name__, name)

    async def finalize(self) -> None:
        """Store the record and tell the hooks the call ended (exactly once)."""
        if self._finalized or self.session is None:
            return
        self._finalized = True
        session = self.session
        ACTIVE_CALLS.pop(session.call_sid, None)
        _LIVE.pop(session.call_sid, None)
        if self._suspended:  # the call goes on in its next stream, which records and reports it
            return
        conv = session.conversation
        if conv.mode is not Mode.OUTBOUND and conv.outcome.status is Status.OPEN:
            # the caller left (or the call broke) before anything was decided: answered or abandoned
            await self.deps.engine.toolbox(conv).end_conversation(reason=self.reason or "call ended")
        elif conv.mode is Mode.OUTBOUND and conv.outcome.status is Status.OPEN and on_hangup(conv):
            # the business hung up after agreeing: the agreed slot is booked (no second call to retry)
            await self.deps.engine.toolbox(conv).end_conversation(reason="hung up after agreeing")
        if self.lisa:
            await self.lisa._flush_events()
        transcript = session.final_transcript()
        turns = session.turn_report()
        recording = await asyncio.to_thread(self._write_recording)
        try:
            await self.deps.call_records.ended(
                session.call_sid,
                ended_by=self.ended_by or "system",
                reason=self.reason,
                outcome=session.conversation.outcome.as_dict() | {"events": event_list(session.conversation)},
                transcript=transcript,
                turns=turns,
                recording=recording,
            )
        except Exception:
            log.exception("call %s: could not store the call end", session.call_sid)
        latencies = [t["latency_ms"] for t in turns if t["latency_ms"] is not None]
        log.info(
            "call %s ended by %s (%s) after %.1f s; outcome %s; turn latency ms %s",
            session.call_sid,
            self.ended_by,
            self.reason,
            time.monotonic() - session.started_t,
            session.conversation.outcome.status,
            latencies,
        )
        result = CallResult(session.conversation, self.ended_by or "system", self.reason, transcript)
        await self._hooks("on_call_ended", self.info, result)

    def _write_recording(self) -> str | None:
        session = self.session
        if not self.settings.lisa_recording_dir or session is None:
            return None
        return session.write_recording(self.settings.lisa_recording_dir)
