"""A local WebSocket server that speaks Deepgram's live streaming speech-to-text protocol, scripted.

This is a protocol server, not a mock of our code: pipecat's ``DeepgramSTTService`` (deepgram-sdk 7, its
``listen.v1.connect``) talks to it over a real WebSocket on 127.0.0.1 exactly as it talks to
``wss://api.deepgram.com``:

- handshake ``GET /v1/listen?model=…&encoding=linear16&sample_rate=8000&channels=1&interim_results=true…``
  with ``Authorization: Token <key>`` (a wrong key gets HTTP 401, an unknown path 404, a raw encoding without
  ``sample_rate`` 400, as Deepgram answers);
- binary messages are audio (``linear16`` or ``mulaw`` at ``sample_rate``);
- text messages ``{"type": "KeepAlive"}``, ``{"type": "Finalize"}`` (answered with a final ``Results``
  carrying ``from_finalize: true``), ``{"type": "CloseStream"}`` (pending speech is finalised, then a
  ``Metadata`` message, then the server closes with 1000);
- out: ``Results`` (``is_final`` / ``speech_final`` / ``channel.alternatives[0].transcript`` + ``words``,
  ``start``/``duration`` in audio seconds, ``metadata.model_info``), ``SpeechStarted`` when ``vad_events``,
  ``{"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": <s>}`` when ``utterance_end_ms`` and
  ``interim_results`` are set, ``Metadata``; 10 s without audio or KeepAlive closes the stream with 1011
  ``NET-0001`` as Deepgram does.

As Deepgram, not more kindly: a scripted utterance given as several parts (a tuple) is finalised in pieces,
every part an ``is_final`` result with ``speech_final: false`` except the last (``split_gap_s`` apart, as
Deepgram closes a segment before its endpointing fires); with ``endpointing_fires=False`` (a noisy line, where
Deepgram's endpointing never sees its silence) no final says ``speech_final: true``. ``UtteranceEnd`` goes
out only once the stream's *audio* clock has passed the last word's end by ``utterance_end_ms`` (Deepgram
measures the gap in the audio it receives: a client that stops streaming in a pause gets none), and not
when the caller speaks again within that gap.

"Recognition" is a configurable rule: a 20 ms block of audio whose RMS is above ``threshold`` starts speech;
blocks above ``hold_threshold`` continue it (the short stops between words do not split it) but the end of
speech is the last block above ``threshold``. Once an utterance has ``min_speech_ms`` of speech followed by
``endpointing_ms`` of silence, the server sends the next scripted transcript as a final result
``final_delay_s`` after the end of the speech (wall clock; the fixed STT latency of tests and benchmarks),
or at once if that time has passed. While the speech goes on it sends interim results every
``interim_every_ms`` with the words "heard" so far (about ``ms_per_word`` each). Scripts are per connection
(``per_connection=True``: every connection starts at the first transcript, as every benchmark call says the
same lines) or shared (each connection takes the next one). An utterance with no transcript left gets an
empty final transcript (counted in :attr:`unscripted`).

Failures to inject: :meth:`refuse_next` (the next handshakes get an HTTP status, e.g. 503) and
:meth:`drop_next` (the next connections are accepted and then closed with 1011 after a while).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .ws_protocol_server import WebSocketProtocolServer

BLOCK_MS = 20
MODEL_INFO = {"name": "2-general-nova", "version": "2024-01-18.26916", "arch": "nova-3"}


@dataclass
class ListenSession:
    """One streaming connection as the server saw it."""

    id: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    query: dict[str, list[str]] = field(default_factory=dict)  # every value of repeated params (keyterm=…)
    opened_at: float = field(default_factory=time.monotonic)
    audio_bytes: int = 0
    audio_messages: int = 0
    audio_ms: float = 0.0
    control: list[str] = field(default_factory=list)  # types of the JSON messages received, in order
    bad_messages: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # every JSON message sent
    finals: list[str] = field(default_factory=list)  # final transcripts sent
    final_times: list[float] = field(default_factory=list)  # monotonic send time of each final
    utterance_ends: list[float] = field(default_factory=list)  # monotonic send time of each UtteranceEnd
    speech_end_times: list[float] = field(default_factory=list)  # monotonic end of each utterance's speech
    spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end) audio seconds per utterance
    closed_code: int | None = None  # the close code the server sent (or received first)
    utterances: int = 0
    ws: Any = field(default=None, repr=False)

    @property
    def sample_rate(self) -> int:
        return int(self.params.get("sample_rate", "16000"))

    @property
    def encoding(self) -> str:
        return self.params.get("encoding", "linear16")


Transcript = str | tuple[str, ...]  # one utterance: its text, or its parts as Deepgram finalises them
Recogniser = Callable[[ListenSession, int], Transcript | None]


def _parts(transcript: Transcript | None) -> tuple[str, ...]:
    if transcript is None:
        return ()
    return (transcript,) if isinstance(transcript, str) else tuple(transcript)


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


class DeepgramProtocolServer(WebSocketProtocolServer):
    """Serves ``WS /v1/listen`` on 127.0.0.1:<free port>; see the module docstring."""

    def __init__(
        self,
        script: Sequence[Transcript] = (),
        *,
        api_key: str | None = None,
        final_delay_s: float = 0.15,
        min_speech_ms: int = 120,
        endpointing_ms: int = 140,
        threshold: float = 150.0,
        hold_threshold: float = 50.0,
        interim_every_ms: int = 400,
        ms_per_word: int = 300,
        per_connection: bool = True,
        idle_timeout_s: float = 10.0,
        recogniser: Recogniser | None = None,
        confidences: dict[str, float] | None = None,
        split_gap_s: float = 0.25,
        endpointing_fires: bool = True,
    ) -> None:
        self.api_key = api_key  # when set, handshakes without ``Authorization: Token <key>`` get a 401
        self.final_delay_s = final_delay_s
        self.min_speech_ms = min_speech_ms
        self.endpointing_ms = endpointing_ms
        self.threshold = threshold
        self.hold_threshold = hold_threshold
        self.interim_every_ms = interim_every_ms
        self.ms_per_word = ms_per_word
        self.per_connection = per_connection
        self.idle_timeout_s = idle_timeout_s
        self.split_gap_s = split_gap_s  # between the finals of one utterance given in parts
        self.endpointing_fires = endpointing_fires  # False: no final carries speech_final=true (noisy line)
        self._script: list[Transcript] = list(script)
        self._recogniser = recogniser
        self.confidences = dict(confidences or {})  # word (lower case) -> its confidence; others get 0.98
        self.sessions: list[ListenSession] = []
        self.handshakes: list[tuple[str, int]] = []  # (path, HTTP status answered) for every handshake
        self.unscripted = 0
        self._refuse: list[int] = []
        super().__init__()

    # -- control ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give the client (``DEEPGRAM_BASE_URL``)."""
        return f"ws://127.0.0.1:{self.port}"

    def script(self, *transcripts: Transcript) -> None:
        """Append transcripts the server "recognises", one per utterance, in order (a tuple: its parts)."""
        self._script.extend(transcripts)

    def refuse_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` handshakes with HTTP ``status`` instead of upgrading."""
        self._refuse.extend([status] * count)

    async def disconnect(self, session: ListenSession, code: int = 1011, reason: str = "NET-0001") -> None:
        """Close one live stream from the server side (a provider outage for that connection)."""
        with contextlib.suppress(Exception):
            session.closed_code = session.closed_code or code
            await session.ws.close(code, reason)

    # -- handshake --------------------------------------------------------------------------------------

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, message = HTTPStatus.SWITCHING_PROTOCOLS, ""
        if url.path.rstrip("/") != "/v1/listen":
            status, message = HTTPStatus.NOT_FOUND, f"no route {url.path}"
        elif self.api_key is not None and request.headers.get("Authorization") != f"Token {self.api_key}":
            status, message = HTTPStatus.UNAUTHORIZED, "Invalid credentials."
        elif params.get("encoding") in {"linear16", "mulaw"} and "sample_rate" not in params:
            status, message = HTTPStatus.BAD_REQUEST, "sample_rate is required for raw audio encodings"
        elif params.get("encoding", "linear16") not in {"linear16", "mulaw"}:
            status, message = HTTPStatus.BAD_REQUEST, f"unsupported encoding {params.get('encoding')}"
        elif self._refuse:
            status = HTTPStatus(self._refuse.pop(0))
            message = "the protocol server refused this connection (injected failure)"
        self.handshakes.append((url.path, int(status)))
        if status == HTTPStatus.SWITCHING_PROTOCOLS:
            connection.listen_params = params  # type: ignore[attr-defined]
            connection.listen_query = parse_qs(url.query)  # type: ignore[attr-defined]
            return None
        body = json.dumps({"err_code": status.phrase.upper().replace(" ", "_"), "err_msg": message}).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(int(status), status.phrase, headers, body)

    # -- one stream -------------------------------------------------------------------------------------

    async def _connection(self, ws: ServerConnection) -> None:
        params: dict[str, str] = getattr(ws, "listen_params", {})
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()} if ws.request else {}
        headers.pop("authorization", None)  # never keep the key
        session = ListenSession(str(uuid.uuid4()), urlsplit(ws.request.path).path, params, headers, ws=ws)
        session.query = getattr(ws, "listen_query", {})
        self.sessions.append(session)
        stream = _Stream(self, ws, session)
        drop_after = self._drop.pop(0) if self._drop else None
        dropper = asyncio.create_task(stream.drop(drop_after)) if drop_after is not None else None
        try:
            await stream.run()
        finally:
            if dropper:
                dropper.cancel()
            stream.cancel()
            session.closed_code = session.closed_code or ws.close_code

    def next_transcript(self, session: ListenSession, index: int) -> Transcript | None:
        if self._recogniser is not None:
            return self._recogniser(session, index)
        if self.per_connection:
            return self._script[index] if index < len(self._script) else None
        return self._script.pop(0) if self._script else None


class _Stream:
    """The recogniser state of one connection."""

    def __init__(self, server: DeepgramProtocolServer, ws: ServerConnection, session: ListenSession) -> None:
        self.server, self.ws, self.session = server, ws, session
        rate = session.sample_rate
        self.block_bytes = rate * BLOCK_MS // 1000 * (1 if session.encoding == "mulaw" else 2)
        self.buffer = bytearray()
        self.speaking = False
        self.speech_ms = 0.0
        self.silence_ms = 0.0
        self.utterance_start_s = 0.0
        self.last_speech_t = 0.0
        self.last_speech_audio_s = 0.0
        self.next_interim_ms = float(server.interim_every_ms)
        self.pending: Transcript | None = None
        self.tasks: set[asyncio.Task] = set()
        self.final_task: asyncio.Task | None = None  # the finals of the last utterance going out
        self.utterance_end_due: float | None = None  # audio seconds at which UtteranceEnd is due
        self.last_word_end = 0.0
        self.last_activity = time.monotonic()
        self.lock = asyncio.Lock()

    async def run(self) -> None:
        watchdog = asyncio.create_task(self._idle_watchdog())
        try:
            async for message in self.ws:
                self.last_activity = time.monotonic()
                if isinstance(message, bytes):
                    await self._audio(message)
                    continue
                try:
                    data = json.loads(message)
                    kind = data["type"]
                except (ValueError, KeyError, TypeError):
                    self.session.bad_messages.append(message[:200])
                    continue
                self.session.control.append(kind)
                if kind == "Finalize":
                    await self._finalize(from_finalize=True)
                elif kind == "CloseStream":
                    await self._finalize(from_finalize=False)
                    await self._wait_sends()
                    await self._send(self._metadata())
                    self.session.closed_code = 1000
                    await self.ws.close(1000)
                    return
                elif kind != "KeepAlive":
                    self.session.bad_messages.append(message[:200])
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    async def drop(self, after_s: float) -> None:
        await asyncio.sleep(after_s)
        self.session.closed_code = 1011
        await self.ws.close(1011, "protocol server dropped the stream (injected failure)")

    async def _idle_watchdog(self) -> None:
        timeout = self.server.idle_timeout_s
        while True:
            await asyncio.sleep(max(0.05, self.last_activity + timeout - time.monotonic()))
            if time.monotonic() - self.last_activity >= timeout:
                error = {
                    "type": "Error",
                    "variant": "NET-0001",
                    "description": "Deepgram did not receive audio data or a text message within the "
                    "timeout window.",
                }
                with contextlib.suppress(ConnectionClosed):
                    await self._send(error)
                    self.session.closed_code = 1011
                    await self.ws.close(1011, "NET-0001")
                return

    # -- audio ------------------------------------------------------------------------------------------

    async def _audio(self, data: bytes) -> None:
        session = self.session
        session.audio_bytes += len(data)
        session.audio_messages += 1
        self.buffer.extend(data)
        while len(self.buffer) >= self.block_bytes:
            block = bytes(self.buffer[: self.block_bytes])
            del self.buffer[: self.block_bytes]
            session.audio_ms += BLOCK_MS
            await self._block(self._rms(block))

    def _rms(self, block: bytes) -> float:
        if self.session.encoding == "mulaw":
            from telephony.audio_codec import ulaw_to_pcm16

            block = ulaw_to_pcm16(block)
        samples = np.frombuffer(block, dtype=np.int16).astype(np.float32)
        return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0

    async def _block(self, rms: float) -> None:
        server, session = self.server, self.session
        now_s = session.audio_ms / 1000.0
        if rms >= server.threshold:
            self.utterance_end_due = None  # words again within the gap: no UtteranceEnd
        elif self.utterance_end_due is not None and now_s >= self.utterance_end_due and not self.speaking:
            self.utterance_end_due = None
            self._spawn(self._send_utterance_end(self.final_task, self.last_word_end))
        if rms >= (server.hold_threshold if self.speaking else server.threshold):
            if not self.speaking:
                self.speaking = True
                self.speech_ms = self.silence_ms = 0.0
                self.utterance_start_s = now_s - BLOCK_MS / 1000.0
                self.next_interim_ms = float(server.interim_every_ms)
                self.pending = None
            self.speech_ms += BLOCK_MS + self.silence_ms  # short gaps inside speech count as speech
            self.silence_ms = 0.0
            if rms >= server.threshold:  # a soft tail bridges gaps but does not move the end of speech
                self.last_speech_t = time.monotonic()
                self.last_speech_audio_s = now_s
            if self.speech_ms >= server.min_speech_ms and self.pending is None:
                self.pending = server.next_transcript(session, session.utterances) or ""
                self.utterance_end_due = None
                if _flag(session.params, "vad_events"):
                    await self._send(
                        {"type": "SpeechStarted", "channel": [0], "timestamp": self.utterance_start_s}
                    )
            if (
                self.pending
                and _flag(session.params, "interim_results")
                and self.speech_ms >= self.next_interim_ms
            ):
                self.next_interim_ms += server.interim_every_ms
                words = " ".join(_parts(self.pending)).split()
                heard = words[: max(1, min(len(words) - 1, int(self.speech_ms // server.ms_per_word)))]
                await self._send(self._results(" ".join(heard), is_final=False, speech_final=False))
            return
        if not self.speaking:
            return
        self.silence_ms += BLOCK_MS
        if self.silence_ms >= max(server.endpointing_ms, BLOCK_MS):
            await self._end_utterance(delay_from=self.last_speech_t, from_finalize=False)

    async def _end_utterance(self, *, delay_from: float, from_finalize: bool) -> None:
        """The utterance is over: its final result goes out ``final_delay_s`` after its speech ended."""
        self.speaking = False
        if self.speech_ms < self.server.min_speech_ms:
            return  # a click or a cough: nothing recognised
        session = self.session
        transcript = (
            self.pending
            if self.pending is not None
            else self.server.next_transcript(session, session.utterances)
        )
        self.pending = None
        session.utterances += 1
        parts = tuple(p for p in _parts(transcript) if p) or ("",)
        if not parts[0]:
            self.server.unscripted += 1
        session.speech_end_times.append(delay_from)
        start, end = self.utterance_start_s, self.last_speech_audio_s
        session.spans.append((round(start, 2), round(end, 2)))
        due = delay_from + self.server.final_delay_s
        self.final_task = self._spawn(self._send_final(parts, start, end, due, from_finalize))
        utterance_end = session.params.get("utterance_end_ms", "")
        if utterance_end.isdigit() and _flag(session.params, "interim_results") and not from_finalize:
            self.last_word_end = end
            self.utterance_end_due = end + int(utterance_end) / 1000.0

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _send_final(
        self, parts: tuple[str, ...], start: float, end: float, due: float, from_finalize: bool
    ) -> None:
        """The utterance's finals: one per part, ``speech_final`` only on the last (when endpointing fires);
        each part's words get its share of the utterance's time span."""
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        async with self.lock:  # finals go out in utterance order
            total = max(sum(len(p.split()) for p in parts), 1)
            at = start
            for i, text in enumerate(parts):
                last = i == len(parts) - 1
                if i:
                    await asyncio.sleep(self.server.split_gap_s)
                part_end = end if last else at + (end - start) * len(text.split()) / total
                speech_final = last and self.server.endpointing_fires
                message = self._results(
                    text, is_final=True, speech_final=speech_final, start=at, end=part_end
                )
                at = part_end
                if from_finalize and last:
                    message["from_finalize"] = True
                with contextlib.suppress(ConnectionClosed):
                    await self._send(message)
                    self.session.finals.append(text)
                    self.session.final_times.append(time.monotonic())

    async def _send_utterance_end(self, finals: asyncio.Task | None, last_word_end: float) -> None:
        if finals is not None:
            await asyncio.wait({finals})  # after the utterance's finals, as Deepgram sends it
        with contextlib.suppress(ConnectionClosed):
            await self._send({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": last_word_end})
            self.session.utterance_ends.append(time.monotonic())

    async def _finalize(self, *, from_finalize: bool) -> None:
        if self.speaking and self.speech_ms >= self.server.min_speech_ms:
            await self._end_utterance(delay_from=time.monotonic(), from_finalize=from_finalize)
        elif from_finalize:
            self.speaking = False
            await self._send(self._results("", is_final=True, speech_final=False) | {"from_finalize": True})

    async def _wait_sends(self) -> None:
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)

    # -- messages ---------------------------------------------------------------------------------------

    def _results(
        self,
        text: str,
        *,
        is_final: bool,
        speech_final: bool,
        start: float | None = None,
        end: float | None = None,
    ) -> dict[str, Any]:
        start = self.utterance_start_s if start is None else start
        end = self.session.audio_ms / 1000.0 if end is None else end
        words = text.split()
        span = max(end - start, 0.01)
        step = span / max(len(words), 1)
        items = [
            {
                "word": w.strip(".,!?;:").lower(),
                "start": round(start + i * step, 3),
                "end": round(start + (i + 1) * step, 3),
                "confidence": self.server.confidences.get(w.strip(".,!?;:").lower(), 0.98),
                "punctuated_word": w,
            }
            for i, w in enumerate(words)
        ]
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(span, 3),
            "start": round(start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {
                "alternatives": [{"transcript": text, "confidence": 0.98 if text else 0.0, "words": items}]
            },
            "metadata": {
                "request_id": self.session.id,
                "model_info": MODEL_INFO,
                "model_uuid": str(uuid.uuid4()),
            },
            "from_finalize": False,
        }

    def _metadata(self) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self.session.id,
            "sha256": "0" * 64,
            "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "duration": round(self.session.audio_ms / 1000.0, 3),
            "channels": int(self.session.params.get("channels", "1")),
            "models": [MODEL_INFO["version"]],
            "model_info": {MODEL_INFO["version"]: MODEL_INFO},
        }

    async def _send(self, message: dict[str, Any]) -> None:
        self.session.sent.append(message)
        await self.ws.send(json.dumps(message))
