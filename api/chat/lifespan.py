"""Start and stop the chat service with the app (STARTUP/SHUTDOWN hooks of api.app)."""

from __future__ import annotations

from fastapi import HTTPException, Request, WebSocket

from api.auth import check_settings
from api.chat.service import ChatError, ChatService
from api.state import AppState


async def start_chat(state: AppState) -> None:
    check_settings(state.settings)
    service = ChatService(
        state.db, state.engine, state.settings, default_language=state.agent_settings.lisa_language
    )
    state.services["chat"] = service
    if service.spans_workers:
        from api.chat.relay import PostgresRelay

        relay = PostgresRelay(state.settings.database_url, service.hub.deliver_relayed)
        await relay.start()  # the other workers' chat events reach this process's sockets
        service.hub.relay = relay
    service.start(state.settings.session_sweep_interval_s)


async def stop_chat(state: AppState) -> None:
    service: ChatService | None = state.services.pop("chat", None)
    if service is not None:
        await service.stop()
        if service.hub.relay is not None:
            await service.hub.relay.stop()


def chat_service(request: Request) -> ChatService:
    """FastAPI dependency: the app's chat service."""
    return request.app.state.lisa.services["chat"]


def chat_service_ws(websocket: WebSocket) -> ChatService:
    return websocket.app.state.lisa.services["chat"]


def http_error(exc: ChatError) -> HTTPException:
    return HTTPException(exc.status_code, detail=exc.detail)
