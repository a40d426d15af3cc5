"""Seed 003's user chat: ``WS /ws?chat_id=…`` and ``GET /history?chat_id=…``.

Client -> server: ``{"type": "message", "content": "…"}`` (``{"type": "ping"}`` is answered with a pong).
Server -> client: every message of the chat in seed 004's shape ``{id, chatId, userId, userName, content,
type: text|ai|system, createdAt}`` plus ``sender`` (user | lisa | manager | system): the user's own message
echoed, Lisa's replies, managers' messages, system notes. Problems come as
``{"type": "error", "code": 409, "detail": "…"}`` and the socket stays open. Chat ids are made by the server:
without chat_id, or with one that names no chat, a new chat is started under a new id (in every message and
the ``X-Chat-Id`` handshake header; an id a client picks could be squatted); a known id joins that chat
(with auth on only its creator's). Seed 004's client reaches the same socket as ``WS /ws/chat/{chatId}``.
Token and Origin: api/edge/socket_admission.py (``Sec-WebSocket-Protocol: bearer, <jwt>``, a first frame
``{"type": "auth", "token": …}``, or the old ``?token=``).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from starlette.responses import JSONResponse

from api.auth import Principal
from api.chat.hub import Subscriber
from api.chat.models import HistoryOut, MessageOut
from api.chat.service import ChatError
from api.deps import ChatDep
from api.edge import json_input
from api.edge.errors import new_error_id
from api.edge.openapi_docs import responses
from api.edge.rate_limit import client_key, limiter_of, rate_limited
from api.edge.socket_admission import accept, admit, refuse
from api.storage.db import database_unavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat (seed 003)"])

MAX_FRAME_CHARS = 64_000


async def deny(websocket: WebSocket, code: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """Refuse a WebSocket before accepting it: an HTTP answer when the server supports it, else a close."""
    try:
        await websocket.send_denial_response(
            JSONResponse({"detail": detail}, status_code=code, headers=headers)
        )
    except RuntimeError:
        await websocket.close(code=1008, reason=detail[:120])


async def websocket_principal(websocket: WebSocket) -> Principal | None:
    """Who opens this socket; None once it has been refused (foreign Origin: 1008; bad or missing token:
    401). The token: see api/edge/socket_admission.py (subprotocol, header, ``?token=`` or a first auth frame)."""
    return await admit(websocket)


def ws_error(code: int, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail, **extra}


def internal_error(exc: Exception, where: str) -> dict[str, Any]:
    """An unexpected failure handling one frame: logged with an error id and the traceback; the client gets
    an error frame with the id (never the traceback) and keeps its socket."""
    error_id = new_error_id()
    if database_unavailable(exc):  # the database is down: try again later (nothing of the frame was stored)
        log.warning("error %s: database unavailable (%s) in %s", error_id, type(exc).__name__, where)
        return ws_error(503, "database unavailable", error_id=error_id)
    log.error("error %s: %s in %s", error_id, type(exc).__name__, where, exc_info=exc)
    return ws_error(500, "internal error", error_id=error_id)


def parse_frame(raw: str) -> dict[str, Any]:
    """A client frame as a dict; raises ValueError with a message that names what is wrong."""
    if len(raw) > MAX_FRAME_CHARS:
        raise ValueError(f"frame longer than {MAX_FRAME_CHARS} characters")
    try:  # bounded nesting, valid Unicode, no NUL: a bad frame is answered, the socket stays open
        data = json_input.loads(raw)
    except json_input.BadJson as exc:
        raise ValueError(exc.reason if exc.field == "body" else str(exc)) from exc
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    if not isinstance(data.get("type"), str):
        raise ValueError("field 'type' is required (a string)")
    return data


async def receive_frame(websocket: WebSocket) -> str | None:
    """The next text (or UTF-8 binary) frame; None when the client has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    if message.get("text") is not None:
        return message["text"]
    return (message.get("bytes") or b"").decode("utf-8", errors="replace")


async def next_frame(websocket: WebSocket, sub: Subscriber) -> dict[str, Any] | None:
    """The client's next well-formed frame (a malformed one is answered with a 422 error frame, a ping with a
    pong); None once the client has gone or our writer has dropped it."""
    while not sub.closed.is_set():
        raw = await receive_frame(websocket)
        if raw is None:
            return None
        try:
            frame = parse_frame(raw)
        except ValueError as exc:
            await sub.answer(ws_error(422, str(exc)))
            continue
        if frame["type"] == "ping":
            await sub.answer({"type": "pong"})
            continue
        if frame["type"] == "auth":  # already authenticated at the handshake (or auth is off)
            continue
        return frame
    return None


@contextlib.asynccontextmanager
async def client_socket(sub: Subscriber, name: str, leave: Callable[[], None]) -> AsyncIterator[None]:
    """Around one client's receive loop: a disconnect ends it quietly, any other failure is logged (one broken
    socket never affects the others), and ``leave`` always runs."""
    try:
        yield
    except WebSocketDisconnect:
        pass
    except Exception:  # one broken socket never affects the others
        if sub.closed.is_set():  # our writer already dropped this client
            log.info("%s dropped", name)
        else:
            log.exception("%s failed", name)
    finally:
        leave()


async def rate_check(websocket: WebSocket, principal: Principal) -> dict[str, Any] | None:
    """An error frame when the client is over its budget, else None."""
    client = websocket.client.host if websocket.client else None
    wait = await limiter_of(websocket).take(client_key(principal, client))
    if wait:
        return ws_error(429, "rate limit reached; retry later", retry_after=math.ceil(wait))
    return None


@router.get(
    "/history",
    response_model=HistoryOut,
    summary="The messages of a chat, oldest first",
    responses=responses(401, 429, described={403: "another user's chat", 404: "unknown chat"}),
)
async def history(
    principal: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
    chat_id: Annotated[str, Query(description="the chat (= session) id")],
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="only the last N messages")] = None,
) -> HistoryOut:
    messages = await service.history(chat_id, principal, limit)
    return HistoryOut(chat_id=chat_id, messages=[MessageOut.of(m) for m in messages])


@router.websocket("/ws/chat/{chat_id}")
async def user_chat_by_path(
    websocket: WebSocket,
    service: ChatDep,
    chat_id: str,
    language: Annotated[str | None, Query()] = None,
    user_name: Annotated[str | None, Query(max_length=100)] = None,
) -> None:
    """Seed 004's address of the same chat socket: ``/ws/chat/{chatId}?token=…``."""
    await user_chat(websocket, service, chat_id, language, user_name)


@router.websocket("/ws")
async def user_chat(
    websocket: WebSocket,
    service: ChatDep,
    chat_id: Annotated[str | None, Query()] = None,
    language: Annotated[str | None, Query()] = None,
    user_name: Annotated[str | None, Query(max_length=100)] = None,
) -> None:
    if (principal := await websocket_principal(websocket)) is None:
        return
    if language not in (None, "en", "de"):
        await refuse(websocket, 422, "language must be en or de")
        return
    if limited := await rate_check(websocket, principal):  # opening a chat counts as a request
        await refuse(websocket, 429, limited["detail"], {"Retry-After": str(limited["retry_after"])})
        return
    try:
        session, greeting = await service.open_chat(chat_id, principal, language)
    except ChatError as exc:
        await refuse(websocket, exc.status_code, exc.detail)
        return
    await accept(websocket, [(b"x-chat-id", session.id.encode())])
    sub = service.hub.join_chat(session.id, websocket)
    if greeting is not None:
        sub.offer(greeting.as_wire())
    if not session.active:
        sub.offer(ws_error(409, f"this chat has ended ({session.end_reason or 'ended'}); history: /history"))
    async with client_socket(
        sub, f"chat websocket {session.id}", lambda: service.hub.leave_chat(session.id, sub)
    ):
        while (frame := await next_frame(websocket, sub)) is not None:
            if frame["type"] != "message":
                await sub.answer(ws_error(422, f"unknown frame type {frame['type']!r}; expected 'message'"))
                continue
            limited = await rate_check(websocket, principal)
            if limited:
                await sub.answer(limited)
                continue
            content = frame.get("content")
            if not isinstance(content, str):
                await sub.answer(ws_error(422, "field 'content' is required (a string)"))
                continue
            try:
                await service.send(session.id, content, principal, user_name)
            except ChatError as exc:
                await sub.answer(ws_error(exc.status_code, exc.detail))
            except Exception as exc:  # one failed turn is answered; the socket stays open
                await sub.answer(internal_error(exc, f"chat websocket {session.id}"))
