"""The team chat area's routes (seed 004): accounts, chats and groups, the chat socket, Lisa and meetings;
and :func:`team_error`, the app's answer to a :class:`TeamError` a route lets through."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.edge.errors import http_error
from api.team_chat.accounts import TeamError
from api.team_chat.ai_routes import router as ai_router
from api.team_chat.auth_routes import router as auth_router
from api.team_chat.chat_routes import router as chat_router
from api.team_chat.socket_routes import router as socket_router

router = APIRouter()
router.include_router(auth_router)
router.include_router(chat_router)
router.include_router(socket_router)
router.include_router(ai_router)


async def team_error(request: Request, exc: Exception) -> Response:
    """Exception handler: the HTTP error the refusal names (``{"detail": ...}``; 429 with Retry-After)."""
    assert isinstance(exc, TeamError)  # registered for TeamError only
    response = await http_error(request, exc.status_code, exc.detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response
