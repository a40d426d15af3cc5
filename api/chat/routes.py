"""The chat area's routes: health, the session API (seeds 000/001), the chat WebSocket and manager endpoints
(seed 003). Also registers the chat service's start/stop with the app's lifespan."""

from __future__ import annotations

from fastapi import APIRouter

from api import app as app_module
from api.chat.lifespan import start_chat, stop_chat
from api.chat.manager_routes import router as manager_router
from api.chat.session_routes import router as sessions_router
from api.chat.socket_routes import router as ws_router
from api.edge.health_routes import router as health_router

router = APIRouter()
router.include_router(health_router)
router.include_router(sessions_router)
router.include_router(ws_router)
router.include_router(manager_router)

if start_chat not in app_module.STARTUP:
    app_module.STARTUP.append(start_chat)
    app_module.SHUTDOWN.append(stop_chat)
