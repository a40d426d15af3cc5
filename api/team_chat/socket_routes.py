"""Seed 004's chat socket ``WS /ws/chat/{chatId}?token=…`` for direct and group chats.

Client -> server: ``{"type": "message", "content": "…"}`` (``{"type": "ping"}`` is answered with a pong).
Server -> client: every new message of the chat in seed 004's shape ``{id, chatId, userId, userName, content,
type, createdAt, metadata?}`` (plus ``sender``), whoever posted it, by REST or socket, in whichever worker.
The token: ``?token=``, ``Authorization: Bearer``, the ``bearer`` subprotocol, or a first frame
``{"type": "auth", "token": …}``. A bad token or a non-member: the socket is closed with 1008 and a reason.
An id that is not a team chat is Lisa's one-to-one chat of seed 003 (api/chat/socket_routes.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket

from api.auth import AuthError, Principal, auth_frame_token, principal_from_token, socket_token
from api.chat import socket_routes as lisa_socket
from api.deps import ChatDep, TeamChatDep
from api.edge.socket_admission import POLICY_VIOLATION, accept, origin_allowed, refuse
from api.team_chat.accounts import TeamError
from api.team_chat.caller import SIGN_IN
from api.team_chat.lifespan import TeamChatServices
from api.team_chat.store import User

log = logging.getLogger(__name__)
router = APIRouter(tags=["team chat: socket (seed 004)"])

AUTH_FRAME_TIMEOUT_S = 10.0


async def _first_frame_token(websocket: WebSocket) -> str | None:
    try:
        message = await asyncio.wait_for(websocket.receive(), AUTH_FRAME_TIMEOUT_S)
    except TimeoutError:
        return None
    if message["type"] == "websocket.disconnect":
        return None
    raw = message.get("text") or (message.get("bytes") or b"").decode("utf-8", errors="replace")
    return auth_frame_token(raw[:16_384])


async def _member(websocket: WebSocket, team: TeamChatServices, chat_id: str) -> User | None:
    """The signed-in member opening this socket, checked before it is accepted when the token came with the
    handshake (so once the client is connected it is already listening); None once closed with 1008."""
    token = socket_token(websocket)
    if token is None:  # the token comes as the first frame
        await accept(websocket)
        token = await _first_frame_token(websocket)
    try:
        principal = await principal_from_token(websocket.app.state.lisa.settings, token)
    except AuthError as exc:
        await _close(websocket, 401, str(exc))
        return None
    if principal.user_id is None:
        await _close(websocket, 401, SIGN_IN if token is None else "invalid token")
        return None
    user = await team.accounts.account(principal.user_id)
    try:
        await team.chats.member_chat(chat_id, user)
    except TeamError as exc:
        await _close(websocket, exc.status_code, exc.detail)
        return None
    return user


async def _close(websocket: WebSocket, code: int, detail: str) -> None:
    """Accept (if not yet) and close with 1008 and the reason, after an error frame with ``code``."""
    await accept(websocket)
    await refuse(websocket, code, detail)


@router.websocket("/ws/chat/{chat_id}")
async def chat_socket(
    websocket: WebSocket,
    team: TeamChatDep,
    chat: ChatDep,
    chat_id: str,
    language: Annotated[str | None, Query()] = None,
    user_name: Annotated[str | None, Query(max_length=100)] = None,
) -> None:
    if not await team.store.is_team_chat(chat_id):
        await lisa_socket.user_chat(websocket, chat, chat_id, language, user_name)
        return
    settings = websocket.app.state.lisa.settings
    if not origin_allowed(settings, websocket.headers.get("origin"), websocket.headers.get("host")):
        log.warning("team chat socket refused: Origin not allowed")
        await accept(websocket)
        await websocket.close(code=POLICY_VIOLATION, reason="origin not allowed")
        return
    if (user := await _member(websocket, team, chat_id)) is None:
        return
    await accept(websocket)
    sub = team.hub.join_chat(
        chat_id, websocket
    )  # right after the handshake: nothing posted from now is missed
    async with lisa_socket.client_socket(
        sub, f"team chat socket {chat_id[:8]}", lambda: team.hub.leave_chat(chat_id, sub)
    ):
        while (frame := await lisa_socket.next_frame(websocket, sub)) is not None:
            if frame["type"] != "message":
                await sub.answer(
                    lisa_socket.ws_error(422, f"unknown frame type {frame['type']!r}; expected 'message'")
                )
                continue
            content = frame.get("content")
            if not isinstance(content, str):
                await sub.answer(lisa_socket.ws_error(422, "field 'content' is required (a string)"))
                continue
            if limited := await lisa_socket.rate_check(
                websocket, Principal(user_id=user.id, role="authenticated")
            ):
                await sub.answer(limited)
                continue
            try:
                await team.chats.post(chat_id, user, content, member=True)
            except TeamError as exc:
                await sub.answer(lisa_socket.ws_error(exc.status_code, exc.detail))
            except Exception as exc:  # one failed frame is answered; the socket stays open
                await sub.answer(lisa_socket.internal_error(exc, f"team chat socket {chat_id[:8]}"))
