"""Seed 003's manager side: list chats, watch every chat live, write into a chat, take over and release.

Lisa stays silent in a chat while a manager has taken it over: explicitly with ``POST /manager/takeover``,
or implicitly with the manager's first message (``POST /manager/send``). ``POST /manager/release`` gives the
chat back to Lisa; she answers the user's next message. With auth on, all of this needs the service role.

``WS /manager/ws`` first sends ``{"event": "chats", "chats": [...]}``, then every event of every chat:
``message`` (with the message in seed 004 shape), ``session_created``, ``session_ended``, ``takeover``,
``released``, ``conversation_event`` (e.g. booking_confirmed). Managers may also act over the socket:
``{"type": "message", "chat_id": …, "content": …}``, ``{"type": "takeover"|"release", "chat_id": …}``.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, WebSocket
from fastapi.responses import HTMLResponse

from api.auth import Principal, require_admin
from api.chat.models import (
    ChatListOut,
    ChatRefIn,
    ManagerSendIn,
    ManagerSentOut,
    MessageOut,
    SessionSummaryOut,
    chat_item,
)
from api.chat.service import ChatError, ChatService
from api.chat.socket_routes import (
    client_socket,
    internal_error,
    next_frame,
    rate_check,
    websocket_principal,
    ws_error,
)
from api.deps import ChatDep
from api.edge.rate_limit import rate_limited
from api.edge.socket_admission import accept, refuse

router = APIRouter(prefix="/manager", tags=["manager (seed 003)"])

_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "auth is on and the bearer token is missing or invalid"},
    403: {"description": "needs the service role"},
    404: {"description": "unknown chat"},
    409: {"description": "the chat has ended"},
    413: {"description": "message longer than MAX_MESSAGE_CHARS"},
    422: {"description": "malformed body; the detail names the field"},
}


def _manager_name(given: str | None, principal: Principal) -> str:
    return (given or "").strip() or "Manager"


async def chat_list(service: ChatService, status: str | None = None, limit: int = 200) -> ChatListOut:
    sessions = await service.store.list_sessions(status=status, limit=limit)
    last = await service.store.last_messages([s.id for s in sessions])
    return ChatListOut(chats=[chat_item(s, last.get(s.id)) for s in sessions])


@router.get("", response_class=HTMLResponse, summary="A simple page listing the chats (live)")
async def manager_page() -> HTMLResponse:
    page = resources.files("api.chat").joinpath("manager_page.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


@router.get(
    "/chats", response_model=ChatListOut, summary="All chats, newest activity first", responses=_ADMIN_ERRORS
)
async def chats(
    _admin: Annotated[Principal, Depends(require_admin)],
    _limited: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
    status: Annotated[str | None, Query(pattern="^(active|ended)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ChatListOut:
    return await chat_list(service, status, limit)


@router.post(
    "/send",
    response_model=ManagerSentOut,
    summary="Post a manager message into a chat (takes the chat over)",
    responses=_ADMIN_ERRORS,
)
async def send(
    body: ManagerSendIn,
    admin: Annotated[Principal, Depends(require_admin)],
    _limited: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
) -> ManagerSentOut:
    turn = await service.manager_send(body.chat_id, body.content, _manager_name(body.manager, admin))
    return ManagerSentOut(message=MessageOut.of(turn.message), taken_over_by=turn.session.taken_over_by)


@router.post(
    "/takeover",
    response_model=SessionSummaryOut,
    summary="Take a chat over: Lisa stays silent there until released",
    responses=_ADMIN_ERRORS,
)
async def takeover(
    body: ChatRefIn,
    admin: Annotated[Principal, Depends(require_admin)],
    _limited: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
) -> SessionSummaryOut:
    session = await service.takeover(body.chat_id, _manager_name(body.manager, admin))
    return SessionSummaryOut.of(session)


@router.post(
    "/release",
    response_model=SessionSummaryOut,
    summary="Give a chat back to Lisa",
    responses=_ADMIN_ERRORS,
)
async def release(
    body: ChatRefIn,
    _admin: Annotated[Principal, Depends(require_admin)],
    _limited: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
) -> SessionSummaryOut:
    session = await service.release(body.chat_id)
    return SessionSummaryOut.of(session)


async def _act(service: ChatService, frame: dict, manager: str) -> None:
    chat_id = frame.get("chat_id") or frame.get("chatId")
    if not isinstance(chat_id, str):
        raise ChatError("field 'chat_id' is required (a string)")
    kind = frame["type"]
    if kind == "message":
        content = frame.get("content", frame.get("message"))
        if not isinstance(content, str):
            raise ChatError("field 'content' is required (a string)")
        await service.manager_send(chat_id, content, manager)
    elif kind == "takeover":
        await service.takeover(chat_id, manager)
    elif kind == "release":
        await service.release(chat_id)
    else:
        raise ChatError(f"unknown frame type {kind!r}; expected message, takeover or release")


@router.websocket("/ws")
async def manager_socket(
    websocket: WebSocket, service: ChatDep, manager: Annotated[str | None, Query(max_length=100)] = None
) -> None:
    if (principal := await websocket_principal(websocket)) is None:
        return
    if not principal.is_admin:
        await refuse(websocket, 403, "the manager socket needs the service role")
        return
    name = _manager_name(manager, principal)
    await accept(websocket)
    sub = service.hub.join_managers(websocket)
    sub.offer({"event": "chats", **(await chat_list(service)).model_dump()})
    async with client_socket(sub, "manager websocket", lambda: service.hub.leave_managers(sub)):
        while (frame := await next_frame(websocket, sub)) is not None:
            limited = await rate_check(websocket, principal)
            if limited:
                await sub.answer(limited)
                continue
            try:
                await _act(service, frame, name)
            except ChatError as exc:
                await sub.answer(ws_error(exc.status_code if exc.status_code != 400 else 422, exc.detail))
            except Exception as exc:  # one failed action is answered; the socket stays open
                await sub.answer(internal_error(exc, "manager websocket"))
