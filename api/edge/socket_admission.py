"""Who may open the browser-facing WebSockets (``/ws``, ``/ws/chat/{id}``, ``/manager/ws``): Origin and token.

Origin: a browser always sends it; a socket from a page of another site is refused (accepted, then closed
with 1008 and a warning log line), so a web page cannot drive a local server with auth off. Allowed: no
Origin (non-browser clients), the origins of ``CORS_ORIGINS`` (``*`` = any), ``PUBLIC_URL``'s origin, and the
page's own origin when the server is reached by an IP address or ``localhost`` (a DNS name that merely
resolves to us, as in DNS rebinding, is not enough).

Token (auth on): offered at the handshake (:func:`api.auth.socket_token`), else the socket is accepted and the
first frame must be ``{"type": "auth", "token": "…"}`` within ``AUTH_FRAME_TIMEOUT_S``; a bad token closes
it with 1008.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket
from starlette.responses import JSONResponse
from starlette.websockets import WebSocketState

from api.auth import (
    AuthError,
    Principal,
    auth_frame_token,
    chosen_subprotocol,
    principal_from_token,
    socket_token,
)
from api.settings import ApiSettings
from api.state import app_state

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
AUTH_FRAME_TIMEOUT_S = 10.0


def _origin(value: str) -> str:
    parts = urlsplit(value.strip().lower())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else value.strip().lower()


def _literal_or_localhost(netloc: str) -> bool:
    host = urlsplit(f"//{netloc}").hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def origin_allowed(settings: ApiSettings, origin: str | None, host: str | None) -> bool:
    """Whether a WebSocket with this ``Origin`` (and ``Host``) header may be opened."""
    if not origin:
        return True  # not a browser
    allowed = {_origin(o) for o in settings.cors_origins.split(",") if o.strip()}
    if settings.public_url:
        allowed.add(_origin(settings.public_url))
    asked = _origin(origin)
    if "*" in allowed or asked in allowed:
        return True
    netloc = urlsplit(asked).netloc
    return bool(host and netloc == host.lower() and _literal_or_localhost(netloc))


def accepted(websocket: WebSocket) -> bool:
    return websocket.application_state == WebSocketState.CONNECTED


async def accept(websocket: WebSocket, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Accept once, echoing the ``bearer`` subprotocol when the client offered it."""
    if not accepted(websocket):
        await websocket.accept(subprotocol=chosen_subprotocol(websocket), headers=headers)


async def refuse(websocket: WebSocket, code: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """Refuse a socket: an HTTP answer before it is accepted, else an error frame and close 1008."""
    if not accepted(websocket):
        try:
            await websocket.send_denial_response(
                JSONResponse({"detail": detail}, status_code=code, headers=headers)
            )
        except RuntimeError:  # the server cannot answer a handshake with HTTP
            await websocket.close(code=POLICY_VIOLATION, reason=detail[:120])
        return
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    try:
        await websocket.send_json(frame)
        await websocket.close(code=POLICY_VIOLATION, reason=detail[:120])
    except Exception:  # the client may be gone already
        log.debug("client left before its refusal was sent")


async def _first_frame_token(websocket: WebSocket, timeout_s: float) -> str | None:
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        return None
    if message["type"] == "websocket.disconnect":
        return None
    raw = message.get("text")
    if raw is None:
        raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
    return auth_frame_token(raw[:16_384])


async def admit(websocket: WebSocket, timeout_s: float | None = None) -> Principal | None:
    """The caller of a browser-facing socket, or None once it has been refused (foreign Origin: closed 1008
    with a warning; bad or missing token: 401)."""
    settings = app_state(websocket).settings
    origin = websocket.headers.get("origin")
    if not origin_allowed(settings, origin, websocket.headers.get("host")):
        log.warning(
            "WebSocket %s refused: Origin %r is not allowed", websocket.url.path, (origin or "")[:100]
        )
        await websocket.accept()
        await websocket.close(code=POLICY_VIOLATION, reason="origin not allowed")
        return None
    token = socket_token(websocket)
    if settings.auth_enabled and token is None:  # the token comes as the first frame
        await accept(websocket)
        token = await _first_frame_token(websocket, timeout_s or AUTH_FRAME_TIMEOUT_S)
        if token is None:
            await refuse(websocket, 401, 'missing bearer token (send {"type": "auth", "token": "…"} first)')
            return None
    try:
        return await principal_from_token(settings, token)
    except AuthError as exc:
        await refuse(websocket, 401, str(exc))
        return None
