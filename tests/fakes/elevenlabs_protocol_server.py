"""A local WebSocket server that speaks ElevenLabs' multi-context streaming text-to-speech protocol.

This is a protocol server, not a mock of our code: pipecat's ``ElevenLabsTTSService`` talks to it over a real
WebSocket on 127.0.0.1 exactly as it talks to ``wss://api.elevenlabs.io``:

- handshake ``GET /v1/text-to-speech/{voice_id}/multi-stream-input?model_id=…&output_format=pcm_8000&
  auto_mode=true…`` with the ``xi-api-key`` header (a wrong key gets HTTP 401, an unknown path 404, an
  output format we do not produce 400);
- in: ``{"text": " ", "context_id", "voice_settings"}`` opens a context, ``{"text": "…", "context_id"}`` adds
  text (spoken at once in ``auto_mode``, else on a flush), ``{"context_id", "flush": true}``,
  ``{"context_id", "close_context": true}`` (the rest is spoken, then ``isFinal``), ``{"text": ""}`` keepalive,
  ``{"close_socket": true}`` (pending audio is sent, then the server closes with 1000);
- out: ``{"audio": <base64>, "alignment": {"chars", "charStartTimesMs", "charDurationsMs"},
  "normalizedAlignment": …, "contextId"}`` chunks and ``{"isFinal": true, "contextId"}``; errors as
  ``{"message", "error", "code"}`` and a close, as ElevenLabs does — e.g. a sixth context open at once
  (``max_active_conversations``, 1008).

The audio is real: a voiced tone (a 140 Hz harmonic series with a syllable-rate envelope, ``voice="tone"``,
cheap enough for a hundred calls) or Piper speech of the text (``voice="piper"``), at the requested
``output_format`` (``pcm_<rate>`` or ``ulaw_8000``), ``ms_per_char`` long per character of text. Each
piece of text is answered ``first_byte_delay_s`` after it arrived (the fixed TTS latency of tests and
benchmarks), in chunks of ``chunk_ms``. Failures to inject: :meth:`refuse_next`, :meth:`drop_next`,
:meth:`disconnect`, and mid-call after a number of pieces :meth:`fail_after` (the socket closed as the next
piece arrives, or that piece and every later one never answered: a stall).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .ws_protocol_server import WebSocketProtocolServer

PATH = re.compile(r"^/v1/text-to-speech/(?P<voice>[^/]+)/multi-stream-input/?$")
FORMAT = re.compile(r"^(?P<codec>pcm|ulaw)_(?P<rate>\d+)$")
PCM_RATES = {8000, 16000, 22050, 24000, 32000, 44100, 48000}


@dataclass
class Context:
    id: str
    opened_at: float
    voice_settings: dict[str, Any] | None = None
    texts: list[str] = field(default_factory=list)  # every text received
    spoken: list[str] = field(default_factory=list)  # pieces synthesised
    buffer: str = ""
    closed: bool = False
    final_sent: bool = False
    first_audio_at: float | None = None
    audio_bytes: int = 0
    stalled: bool = False  # a piece of it was never answered (injected stall): no isFinal either


@dataclass
class TTSSession:
    """One connection as the server saw it."""

    voice_id: str
    params: dict[str, str]
    opened_at: float = field(default_factory=time.monotonic)
    contexts: dict[str, Context] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)  # everything received (parsed)
    keepalives: int = 0
    closed_code: int | None = None
    ws: Any = field(default=None, repr=False)

    @property
    def output_format(self) -> str:
        return self.params.get("output_format", "mp3_44100_128")


class ElevenLabsProtocolServer(WebSocketProtocolServer):
    """Serves ``WS /v1/text-to-speech/{voice}/multi-stream-input`` on 127.0.0.1:<free port>."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        first_byte_delay_s: float = 0.2,
        ms_per_char: float = 55.0,
        chunk_ms: int = 200,
        voice: str = "tone",
        max_contexts: int = 5,
    ) -> None:
        self.api_key = api_key  # when set, handshakes without this ``xi-api-key`` get a 401
        self.first_byte_delay_s = first_byte_delay_s
        self.ms_per_char = ms_per_char
        self.chunk_ms = chunk_ms
        self.voice = voice
        self.max_contexts = max_contexts  # ElevenLabs allows five open contexts per connection
        self.sessions: list[TTSSession] = []
        self.handshakes: list[tuple[str, int]] = []
        self._refuse: list[int] = []
        self.pieces = 0  # pieces of text taken for synthesis (every connection)
        self._fail_at: tuple[int, str] | None = None
        self.failed: list[str] = []  # the pieces that met the injected failure
        super().__init__()

    @property
    def url(self) -> str:
        """The base URL to give the client (``ELEVENLABS_BASE_URL``)."""
        return f"ws://127.0.0.1:{self.port}"

    def refuse_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` handshakes with HTTP ``status`` instead of upgrading."""
        self._refuse.extend([status] * count)

    def fail_after(self, pieces: int, how: Literal["drop", "stall"] = "drop") -> None:
        """Speak the next ``pieces`` pieces of text, then fail at the one after: ``drop`` closes its connection
        (1011) as it arrives (later connections work again), ``stall`` takes it and every later piece and never
        answers them (no audio, no ``isFinal``)."""
        self._fail_at = (self.pieces + pieces + 1, how)

    def _failure(self) -> str | None:
        """Count a piece taken for synthesis; the injected failure it meets, if any."""
        self.pieces += 1
        if self._fail_at is None or self.pieces < self._fail_at[0]:
            return None
        how = self._fail_at[1]
        if how == "drop":
            self._fail_at = None
        return how

    async def disconnect(self, session: TTSSession, code: int = 1011, reason: str = "outage") -> None:
        """Close one live connection from the server side (a provider outage for that connection)."""
        with contextlib.suppress(Exception):
            await session.ws.close(code, reason)

    def contexts(self) -> list[Context]:
        return [c for s in self.sessions for c in s.contexts.values()]

    # -- handshake --------------------------------------------------------------------------------------

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        match = PATH.match(url.path)
        status, message = HTTPStatus.SWITCHING_PROTOCOLS, ""
        output_format = params.get("output_format", "mp3_44100_128")
        fmt = FORMAT.match(output_format)
        if not match:
            status, message = HTTPStatus.NOT_FOUND, f"no route {url.path}"
        elif self.api_key is not None and request.headers.get("xi-api-key") != self.api_key:
            status, message = HTTPStatus.UNAUTHORIZED, "Invalid API key"
        elif (
            not fmt or (fmt["codec"] == "ulaw" and fmt["rate"] != "8000") or int(fmt["rate"]) not in PCM_RATES
        ):
            status, message = HTTPStatus.BAD_REQUEST, f"output_format {output_format} is not served here"
        elif self._refuse:
            status = HTTPStatus(self._refuse.pop(0))
            message = "the protocol server refused this connection (injected failure)"
        self.handshakes.append((url.path, int(status)))
        if status == HTTPStatus.SWITCHING_PROTOCOLS:
            connection.tts_session = TTSSession(match["voice"], params)  # type: ignore[attr-defined,index]
            return None
        body = json.dumps({"detail": {"status": status.phrase.lower().replace(" ", "_"), "message": message}})
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(int(status), status.phrase, headers, body.encode())

    # -- one connection ---------------------------------------------------------------------------------

    async def _connection(self, ws: ServerConnection) -> None:
        session: TTSSession = ws.tts_session  # type: ignore[attr-defined]
        session.ws = ws
        self.sessions.append(session)
        conn = _Connection(self, ws, session)
        dropper = None
        if self._drop:
            dropper = asyncio.create_task(conn.drop(self._drop.pop(0)))
        try:
            await conn.run()
        finally:
            if dropper:
                dropper.cancel()
            conn.cancel()
            session.closed_code = ws.close_code


class _Connection:
    def __init__(self, server: ElevenLabsProtocolServer, ws: ServerConnection, session: TTSSession) -> None:
        self.server, self.ws, self.session = server, ws, session
        fmt = FORMAT.match(session.output_format)
        assert fmt is not None
        self.codec, self.rate = fmt["codec"], int(fmt["rate"])
        self.auto_mode = session.params.get("auto_mode", "false").lower() == "true"
        self.queues: dict[str, asyncio.Queue[tuple[str, float] | None]] = {}
        self.workers: dict[str, asyncio.Task] = {}
        self.send_lock = asyncio.Lock()

    async def run(self) -> None:
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                    if not isinstance(msg, dict):
                        raise ValueError("not an object")
                except ValueError:
                    await self._error("invalid_message", "message is not a JSON object")
                    return
                self.session.messages.append(msg)
                if not await self._handle(msg):
                    return
        except ConnectionClosed:
            pass

    async def drop(self, after_s: float) -> None:
        await asyncio.sleep(after_s)
        await self.ws.close(1011, "protocol server dropped the stream (injected failure)")

    def cancel(self) -> None:
        for task in self.workers.values():
            task.cancel()

    async def _handle(self, msg: dict[str, Any]) -> bool:
        now = time.monotonic()
        if msg.get("close_socket"):
            for queue in self.queues.values():
                queue.put_nowait(None)
            if self.workers:
                await asyncio.wait(list(self.workers.values()), timeout=10)
            await self.ws.close(1000)
            return False
        context_id = msg.get("context_id")
        if context_id is None:
            if msg.get("text") == "":
                self.session.keepalives += 1
                return True
            context_id = "default"  # single-context messages
        ctx = self.session.contexts.get(context_id)
        if ctx is None:
            open_contexts = sum(not c.final_sent for c in self.session.contexts.values())
            if open_contexts >= self.server.max_contexts:
                await self._error(
                    "max_active_conversations",
                    f"Maximum simultaneous contexts per WebSocket connection exceeded ({self.server.max_contexts})."
                    " Please close an existing context before opening a new one.",
                )
                return False
            ctx = Context(context_id, now, msg.get("voice_settings"))
            self.session.contexts[context_id] = ctx
            self.queues[context_id] = asyncio.Queue()
            self.workers[context_id] = asyncio.create_task(self._worker(ctx))
        if "text" in msg:
            text = str(msg["text"])
            if text == "" and not msg.get("flush"):
                self.session.keepalives += 1
                return True
            ctx.texts.append(text)
            ctx.buffer += text
            if self.auto_mode and ctx.buffer.strip() and not self._speak(ctx, now):
                return await self._drop()
        if (msg.get("flush") or msg.get("try_trigger_generation")) and not self._speak(ctx, now):
            return await self._drop()
        if msg.get("close_context"):
            ctx.closed = True
            if not self._speak(ctx, now):
                return await self._drop()
            self.queues[context_id].put_nowait(None)
        return True

    def _speak(self, ctx: Context, at: float) -> bool:
        """Queue what the context has buffered; False: the connection is to be dropped (injected)."""
        if ctx.buffer.strip():
            piece = ctx.buffer if ctx.spoken else ctx.buffer.lstrip()  # the context-opening " " is not spoken
            failure = self.server._failure()
            if failure is not None:
                self.server.failed.append(piece)
                ctx.buffer = ""
                ctx.stalled = True
                return failure != "drop"
            ctx.spoken.append(piece)
            self.queues[ctx.id].put_nowait((piece, at))
        ctx.buffer = ""
        return True

    async def _drop(self) -> bool:
        await self.ws.close(1011, "protocol server dropped the stream (injected failure)")
        return False

    async def _worker(self, ctx: Context) -> None:
        """Synthesise a context's pieces in order; ``isFinal`` once it is closed and everything is sent."""
        queue = self.queues[ctx.id]
        try:
            while (item := await queue.get()) is not None:
                text, received = item
                if ctx.final_sent:
                    continue
                audio = await self._synthesize(text)
                await asyncio.sleep(max(0.0, received + self.server.first_byte_delay_s - time.monotonic()))
                await self._send_audio(ctx, text, audio)
            if ctx.stalled:
                return  # never answered: no isFinal
            await self._send({"isFinal": True, "contextId": ctx.id})
            ctx.final_sent = True
        except ConnectionClosed:
            pass

    async def _synthesize(self, text: str) -> bytes:
        duration_s = max(0.3, len(text.strip()) * self.server.ms_per_char / 1000.0)
        if self.server.voice == "piper":
            pcm = await asyncio.to_thread(_piper, text.strip(), self.rate)
        else:
            pcm = _tone(round(duration_s, 2), self.rate)
        if self.codec == "ulaw":
            from telephony.audio_codec import pcm16_to_ulaw

            return pcm16_to_ulaw(pcm)
        return pcm

    async def _send_audio(self, ctx: Context, text: str, audio: bytes) -> None:
        bytes_per_s = self.rate * (1 if self.codec == "ulaw" else 2)
        chunk = max(2, int(bytes_per_s * self.server.chunk_ms / 1000) // 2 * 2)
        total_ms = len(audio) / bytes_per_s * 1000.0
        chars = list(text)
        per_char = total_ms / max(len(chars), 1)
        for offset in range(0, len(audio), chunk):
            piece = audio[offset : offset + chunk]
            start_ms = offset / bytes_per_s * 1000.0
            end_ms = start_ms + len(piece) / bytes_per_s * 1000.0
            first = int(start_ms // per_char)
            last = len(chars) if offset + chunk >= len(audio) else int(end_ms // per_char)
            alignment = {
                "chars": chars[first:last],
                "charStartTimesMs": [round(i * per_char - start_ms) for i in range(first, last)],
                "charDurationsMs": [round(per_char)] * (last - first),
            }
            message = {
                "audio": base64.b64encode(piece).decode(),
                "alignment": alignment if last > first else None,
                "normalizedAlignment": alignment if last > first else None,
                "contextId": ctx.id,
            }
            if ctx.first_audio_at is None:
                ctx.first_audio_at = time.monotonic()
            ctx.audio_bytes += len(piece)
            await self._send(message)

    async def _error(self, error: str, message: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send({"message": message, "error": error, "code": 1008})
            await self.ws.close(1008, error)

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send(json.dumps(message))


@lru_cache(maxsize=64)
def _tone(duration_s: float, rate: int) -> bytes:
    """A voiced, speech-like tone: 140 Hz harmonics under a ~4 Hz syllable envelope, 16-bit PCM."""
    t = np.arange(int(duration_s * rate), dtype=np.float32) / rate
    wave = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6) if 140 * k < rate / 2)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t) ** 2
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02) if t.size else t
    return (wave * envelope * fade * 5000).astype(np.int16).tobytes()


def _piper(text: str, rate: int) -> bytes:
    from pipelines import local_models
    from telephony.audio_codec import resample_pcm16

    pcm, piper_rate = local_models.synthesize(text, local_models.LISA_STYLE)
    return resample_pcm16(pcm, piper_rate, rate) if piper_rate != rate else pcm
