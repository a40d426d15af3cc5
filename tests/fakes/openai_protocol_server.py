"""A local HTTP server that speaks the OpenAI chat-completions wire protocol, scripted per test.

This is a protocol server, not a mock of our code: the real ``openai`` client talks to it over real HTTP/1.1
on 127.0.0.1 (keep-alive, chunked ``text/event-stream`` for ``stream=true``, JSON otherwise, OpenAI error
bodies, ``Retry-After``), exactly as it would talk to api.openai.com or any OpenAI-compatible endpoint. A
test scripts what the endpoint answers to each successive ``POST …/chat/completions``::

    server.script(
        error(429, retry_after=0.05),
        stream(tool_call("check_availability", {"date": "2026-11-24"})),
        stream("Tuesday at ten ", "is free."),
    )

and afterwards inspects ``server.requests`` (arrival time, headers, the JSON body). A request beyond the
script gets a 500 whose message says so (and is recorded), so a test never passes by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCall:
    name: str
    arguments: str  # JSON text, as the model produces it
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> ToolCall:
    """A tool call the scripted model makes (``arguments`` as a dict, or raw text for malformed JSON)."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(name, text, call_id) if call_id else ToolCall(name, text)


@dataclass
class Stream:
    """A 200 answer: content pieces and/or tool calls, streamed as SSE chunks (or one JSON when not streamed).

    ``delay_s`` pauses before each chunk; ``break_after`` drops the connection after that many content
    pieces, without the terminating chunk (a stream that breaks mid-answer); ``garbage`` sends an event
    whose data is not JSON first (a misbehaving endpoint); ``no_tool_index`` leaves out the ``index`` of
    tool-call deltas, as some OpenAI-compatible servers do.
    """

    pieces: Sequence[str] = ()
    tool_calls: Sequence[ToolCall] = ()
    delay_s: float = 0.0
    break_after: int | None = None
    garbage: bool = False
    no_tool_index: bool = False


@dataclass
class Error:
    """An error answer with an OpenAI error body (and ``Retry-After`` when given)."""

    status: int
    message: str = ""
    retry_after: float | str | None = None


@dataclass
class Hang:
    """Answer nothing for ``seconds`` (longer than the client's timeout), then ``then`` if still connected."""

    seconds: float
    then: Stream | Error | None = None


Response = Stream | Error | Hang


def stream(
    *items: str | ToolCall,
    delay_s: float = 0.0,
    break_after: int | None = None,
    garbage: bool = False,
    no_tool_index: bool = False,
) -> Stream:
    """Script a streamed answer: strings are content pieces, :func:`tool_call` items are tool calls."""
    pieces = [i for i in items if isinstance(i, str)]
    calls = [i for i in items if isinstance(i, ToolCall)]
    return Stream(pieces, calls, delay_s, break_after, garbage, no_tool_index)


def error(status: int, message: str = "", retry_after: float | str | None = None) -> Error:
    return Error(status, message, retry_after)


def hang(seconds: float, then: Stream | Error | None = None) -> Hang:
    return Hang(seconds, then)


@dataclass
class Received:
    """One request as the server received it."""

    at: float  # time.monotonic() on arrival
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON (None when not JSON)
    chunk_times: list[float] = field(default_factory=list)  # monotonic time each SSE chunk was written

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in (self.body or {}).get("tools", [])]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_exceeded"}


class OpenAIProtocolServer:
    """Serves ``POST /v1/chat/completions`` on 127.0.0.1:<free port> from a per-test script."""

    def __init__(self, api_key: str | None = None, model: str = "gpt-4o-mini") -> None:
        self.api_key = api_key  # when set, requests without ``Authorization: Bearer <key>`` get a 401
        self.model = model
        self.requests: list[Received] = []
        self._script: list[Response] = []
        self._answer_for: Callable[[Received], Response] | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closing = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL to give the client (``OPENAI_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *responses: Response) -> None:
        """Append answers, used in order, one per chat-completions request."""
        self._script.extend(responses)

    def answer_with(self, answer_for: Callable[[Received], Response]) -> None:
        """Answer every request with ``answer_for(request)`` instead of the script (e.g. by conversation
        length, for many concurrent conversations)."""
        self._answer_for = answer_for

    @property
    def unused(self) -> int:
        return len(self._script)

    async def start(self) -> OpenAIProtocolServer:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening, drop open connections and let every handler finish (no task is cancelled)."""
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def __aenter__(self) -> OpenAIProtocolServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP/1.1 -----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                received = Received(time.monotonic(), method, path, headers, body)
                if not await self._answer(received, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, req: Received, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is to be dropped."""
        if not req.path.rstrip("/").endswith("/chat/completions") or req.method != "POST":
            await self._send_error(writer, Error(404, f"no route {req.method} {req.path}"))
            return True
        self.requests.append(req)
        if self.api_key is not None and req.headers.get("authorization") != f"Bearer {self.api_key}":
            await self._send_error(writer, Error(401, "Incorrect API key provided."))
            return True
        if self._answer_for is not None:
            response = self._answer_for(req)
        elif not self._script:
            await self._send_error(writer, Error(500, "the protocol server has no scripted response left"))
            return True
        else:
            response = self._script.pop(0)
        if isinstance(response, Hang):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), response.seconds)
            if self._closing.is_set() or writer.is_closing() or response.then is None:
                return False
            response = response.then
        if isinstance(response, Error):
            await self._send_error(writer, response)
            return True
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("stream"):
            return await self._send_stream(writer, req, response)
        await self._send_json(writer, 200, self._completion(response))
        return True

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: str = ""
    ) -> None:
        data = json.dumps(payload).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n"
        )
        writer.write(head.encode() + data)
        await writer.drain()

    async def _send_error(self, writer: asyncio.StreamWriter, err: Error) -> None:
        extra = f"Retry-After: {err.retry_after}\r\n" if err.retry_after is not None else ""
        body = {
            "error": {
                "message": err.message or _REASONS.get(err.status, "error"),
                "type": _ERROR_TYPES.get(err.status, "server_error"),
                "param": None,
                "code": None,
            }
        }
        await self._send_json(writer, err.status, body, extra)

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-protocol-server",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def _events(self, answer: Stream) -> list[tuple[dict[str, Any], bool]]:
        """The SSE chunks of an answer, each with whether it carries a content piece."""
        events: list[tuple[dict[str, Any], bool]] = [
            (self._chunk({"role": "assistant", "content": ""}), False)
        ]
        events += [(self._chunk({"content": piece}), True) for piece in answer.pieces]
        for index, call in enumerate(answer.tool_calls):
            first = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name}}
            first["function"]["arguments"] = ""
            events.append((self._chunk({"tool_calls": [first]}), False))
            cut = max(1, len(call.arguments) // 2)  # arguments arrive in fragments, as from real models
            for fragment in (call.arguments[:cut], call.arguments[cut:]):
                if fragment:
                    delta = {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
                    events.append((self._chunk(delta), False))
        if answer.no_tool_index:
            for payload, _ in events:
                for call_delta in payload["choices"][0]["delta"].get("tool_calls", []):
                    call_delta.pop("index", None)
        finish = "tool_calls" if answer.tool_calls else "stop"
        events.append((self._chunk({}, finish), False))
        return events

    async def _send_stream(self, writer: asyncio.StreamWriter, req: Received, answer: Stream) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        await writer.drain()
        if answer.garbage:
            await self._write_chunk(writer, "data: {this is not json\n\n")
        pieces_sent = 0
        for payload, is_piece in self._events(answer):
            if is_piece and answer.break_after is not None and pieces_sent >= answer.break_after:
                transport = writer.transport
                transport.abort()  # mid-answer: no terminating chunk, no [DONE]
                return False
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            await self._write_chunk(writer, f"data: {json.dumps(payload)}\n\n")
            req.chunk_times.append(time.monotonic())
            pieces_sent += is_piece
        await self._write_chunk(writer, "data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    async def _write_chunk(writer: asyncio.StreamWriter, text: str) -> None:
        data = text.encode()
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()

    def _completion(self, answer: Stream) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(answer.pieces) or None}
        if answer.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in answer.tool_calls
            ]
        return {
            "id": "chatcmpl-protocol-server",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if answer.tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
