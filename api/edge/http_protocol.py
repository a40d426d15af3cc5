"""uvicorn's HTTP protocol (httptools) with what it lacks against slow or hostile clients:

- a header timeout: a connection must deliver a request's headers within ``HEADER_TIMEOUT_S`` of connecting
  (or of the request's first byte on a kept-alive connection), else it gets 408 and is closed; uvicorn alone
  keeps a connection that trickles headers (or sends nothing) open for ever;
- JSON bodies for the answers uvicorn writes itself: 400 (malformed HTTP) and 503 (``LIMIT_CONCURRENCY``);
- a WebSocket refused with an HTTP answer (401, 403, 429 …) counts as a finished handshake: uvicorn's sans-io
  protocol otherwise logs an ERROR ("returned without completing handshake") for every refused socket.

The body timeout is the ASGI body guard's (api/edge/body_limit.py); idle kept-alive connections are uvicorn's
``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)


def _raw_response(status: bytes, body: dict[str, Any], extra: bytes = b"") -> bytes:
    data = json.dumps(body).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(data)).encode() + b"\r\nconnection: close\r\n" + extra + b"\r\n" + data
    )


async def busy(scope: Any, receive: Any, send: Any) -> None:  # ASGI
    """The answer past ``LIMIT_CONCURRENCY`` (uvicorn's own is plain text)."""
    body = json.dumps({"detail": "the server is busy; retry shortly"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class GuardedHttpProtocol(HttpToolsProtocol):
    """See the module docstring. ``header_timeout_s`` is set once per process by :func:`configure`."""

    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._concurrency_cap = self.limit_concurrency
        self.limit_concurrency = None  # checked below, with a JSON answer
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        cap = self._concurrency_cap
        if cap is not None and (len(self.connections) > cap or len(self.tasks) >= cap):
            log.warning("over the concurrency limit (%d): answered 503", cap)
            app, self.app = self.app, busy
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_raw_response(b"400 Bad Request", {"detail": msg}))
        self.transport.close()

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        if self.header_timeout_s > 0:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served: its headers did arrive
        client = "%s:%d" % self.client if self.client else "?"  # noqa: UP031
        log.warning(
            "%s: request headers not complete within %g s; connection closed", client, self.header_timeout_s
        )
        detail = f"request headers not received within {self.header_timeout_s:g} s"
        self.transport.write(_raw_response(b"408 Request Timeout", {"detail": detail}))
        self.transport.close()


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol; a denial response completes the handshake (no ERROR for a refusal)."""

    async def send(self, message: Any) -> None:  # an ASGI message
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            self.handshake_complete = True


def configure(header_timeout_s: float) -> type[GuardedHttpProtocol]:
    """Set this process's header timeout; the protocol class to give uvicorn (``http=``)."""
    GuardedHttpProtocol.header_timeout_s = header_timeout_s
    return GuardedHttpProtocol
