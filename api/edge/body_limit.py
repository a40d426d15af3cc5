"""The HTTP edge: what a request must pass before any route sees it.

In this order, each refused with a JSON error (seed 002's shape on ``/api/process-request``):
1. a NUL (``%00``) in the path or query -> 422 (PostgreSQL refuses NUL in text; nothing useful has one);
2. a declared ``Content-Length`` over the limit -> 413 at once, nothing read (``MAX_BODY_BYTES``, 1 MB;
   ``MAX_TWILIO_BODY_BYTES``, 64 KB, under ``/twilio``);
3. JSON routes (everything outside ``/twilio``): a body that is not ``application/json`` -> 415, so a
   cross-site form or ``text/plain`` post cannot trigger anything;
4. with auth on, a body on a token-protected path needs a valid token first -> 401 before a byte of the body
   is read (the principal is kept for the route's own auth dependency);
5. the body is read, chunked or not, and refused with 413 as soon as it passes the limit, or 408 when it does
   not arrive within ``BODY_TIMEOUT_S``;
6. a JSON body must parse safely (:mod:`api.edge.json_input`: nesting, UTF-8, no unpaired surrogates or NUL)
   -> 422 naming the field.
The route then gets the buffered body as one message. Paths that take a body without a token (a sign-in)
are given to the middleware as ``open_paths``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from http.cookies import SimpleCookie
from typing import Any

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.edge import json_input
from api.edge.errors import error_response
from api.settings import ApiSettings

TWILIO_PREFIX = "/twilio"
TOKEN_PREFIXES = ("/api/", "/manager", "/history", "/chats", "/groups", "/ai/", "/google/", "/auth/gmail/")
JSON_TYPES = ("application/json",)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def is_json_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class BodyTooLarge(Exception):
    pass


class BodyGuard:
    """ASGI middleware for HTTP requests (see the module docstring); WebSockets only get the NUL check."""

    def __init__(
        self,
        app: ASGIApp,
        settings: ApiSettings,
        cookie_sessions: Mapping[str, str] | None = None,
        open_paths: Collection[str] = (),
    ) -> None:
        """``cookie_sessions``: path prefix -> session cookie of a browser area (the console). A request there
        without its cookie must bring a valid token before its body is read, like the token paths.
        ``open_paths``: paths that take a body without a token (sign-in routes)."""
        self.app = app
        self.settings = settings
        self.cookie_sessions = dict(cookie_sessions or {})
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if problem := _nul_in_url(scope):
                await send({"type": "websocket.close", "code": 1008, "reason": problem})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def refuse(status: int, message: str, detail: Any = None, **headers: str) -> None:
            close = {"connection": "close"} if status in (408, 413) else {}
            response = error_response(path, status, message, detail, headers={**close, **headers} or None)
            await response(scope, receive, send)

        if problem := _nul_in_url(scope):
            await refuse(422, problem, [{"loc": ["path"], "msg": problem, "type": "string_invalid"}])
            return
        twilio = path.startswith(TWILIO_PREFIX)
        limit = self.settings.max_twilio_body_bytes if twilio else self.settings.max_body_bytes
        length = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        try:
            declared = int(length) if length is not None else 0
        except ValueError:
            await refuse(400, "invalid Content-Length")
            return
        if declared > limit:
            await refuse(413, f"body larger than {limit} bytes")
            return
        has_body = declared > 0 or chunked
        content_type = _header(scope, b"content-type")
        json_route = not twilio and scope["method"] in ("POST", "PUT", "PATCH")
        if json_route and (has_body or content_type) and not is_json_type(content_type):
            await refuse(415, "Content-Type must be application/json")
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        if not twilio and self._needs_token(path, scope):
            try:
                await _authenticate(scope)
            except HTTPException as exc:
                await refuse(exc.status_code, str(exc.detail), **(exc.headers or {}))
                return
        try:
            body = await self._read(receive, limit)
        except BodyTooLarge:
            await refuse(413, f"body larger than {limit} bytes")
            return
        except TimeoutError:
            await refuse(408, f"the body did not arrive within {self.settings.body_timeout_s:g} s")
            return
        if body is None:
            return  # the client went away
        if json_route and body:
            try:
                json_input.loads(body)
            except json_input.BadJson as exc:
                await refuse(422, str(exc), exc.detail())
                return
        await self.app(scope, _replay(body, receive), send)

    def _needs_token(self, path: str, scope: Scope) -> bool:
        if not self.settings.auth_enabled or path in self.open_paths:
            return False
        if path.startswith(TOKEN_PREFIXES):
            return True
        for prefix, cookie in self.cookie_sessions.items():
            if path.startswith(prefix):
                cookies = SimpleCookie(_header(scope, b"cookie") or "")
                return cookie not in cookies  # with the cookie the route checks the session itself
        return False

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body (None when the client disconnected); raises BodyTooLarge or TimeoutError."""
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.settings.body_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(receive(), remaining)
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _authenticate(scope: Scope) -> None:
    """The route's own auth dependency, run before the body is read (the principal stays cached)."""
    from api.auth import current_principal

    await current_principal(Request(scope))


def _nul_in_url(scope: Scope) -> str | None:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
    if b"%00" in raw_path or b"\x00" in raw_path:
        return "path: contains a NUL character (U+0000)"
    query: bytes = scope.get("query_string") or b""
    if b"%00" in query or b"\x00" in query:
        name = next((p.split(b"=")[0] for p in query.split(b"&") if b"%00" in p), b"?")
        return f"query parameter {name.decode('latin-1')!r}: contains a NUL character (U+0000)"
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
