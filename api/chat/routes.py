"""The chat area's routes: health, the session API (seeds 000/001), the chat WebSocket and manager endpoints
(seed 003); and :func:`chat_error`, the app's answer to a :class:`ChatError` a route lets through."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.chat.manager_routes import router as manager_router
from api.chat.service import ChatError
from api.chat.session_routes import router as sessions_router
from api.chat.socket_routes import router as ws_router
from api.edge.errors import http_error
from api.edge.health_routes import router as health_router

# health and the session API are the hottest paths and clash with no other area's: the app puts them first
# (a request's route is found by trying the routes in order: behind team chat's, health took twice as long)
# each included on its own: a router nested in another is one more level of matching per request
hot_routers = (health_router, sessions_router)
router = APIRouter()
router.include_router(ws_router)
router.include_router(manager_router)


async def chat_error(request: Request, exc: Exception) -> Response:
    """Exception handler of :class:`ChatError`: a chat request that cannot be carried out is the HTTP error its
    class names (``{"detail": ...}`` with 400, 403, 404, 409 or 413)."""
    assert isinstance(exc, ChatError)  # registered for ChatError only
    return await http_error(request, exc.status_code, exc.detail)
