"""The chat area's lifespan: the chat service (sessions, hub, idle sweep) and, across workers on PostgreSQL,
its relay; stopped when the app stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.auth import check_settings
from api.chat.service import ChatService
from api.state import Core


@asynccontextmanager
async def chat_lifespan(core: Core) -> AsyncIterator[ChatService]:
    check_settings(core.settings)
    service = ChatService(
        core.db, core.engine, core.settings, default_language=core.agent_settings.lisa_language
    )
    if service.spans_workers:
        from api.chat.relay import PostgresRelay

        relay = PostgresRelay(core.settings.database_url, service.hub.deliver_relayed)
        await relay.start()  # the other workers' chat events reach this process's sockets
        service.hub.relay = relay
    service.start(core.settings.session_sweep_interval_s)
    try:
        yield service
    finally:
        await service.stop()
        if service.hub.relay is not None:
            await service.hub.relay.stop()
