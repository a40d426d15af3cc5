"""The FastAPI app: chat API (seeds 000/001/003), Twilio webhooks and media streams, outbound requests (seed 002)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from agent.clock import Clock
from agent.settings import AgentSettings
from api.settings import ApiSettings
from api.state import AppState
from api.storage import Database

log = logging.getLogger(__name__)

# Each area registers how it starts and stops its services: async (state) -> None.
Hook = Callable[[AppState], Awaitable[None]]
STARTUP: list[Hook] = []
SHUTDOWN: list[Hook] = []


async def build_state(
    settings: ApiSettings, agent_settings: AgentSettings, clock: Clock | None = None
) -> AppState:
    from agent.factory import build_engine
    from agent.when import warm_up
    from api.calendar_store import DatabaseCalendar

    db = await Database.connect(settings.database_url)
    await asyncio.to_thread(warm_up)  # dateparser's language data, off the event loop, once per process
    engine = build_engine(agent_settings, calendar=DatabaseCalendar(db), clock=clock)
    await asyncio.to_thread(engine.business.warm_up)  # FAQ sentence encoder + examples, once per process
    return AppState(settings=settings, agent_settings=agent_settings, db=db, engine=engine)


def create_app(
    settings: ApiSettings | None = None,
    agent_settings: AgentSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The app; ``clock`` replaces Lisa's clock built from the settings (tests inject one)."""
    settings = settings or ApiSettings()
    agent_settings = agent_settings or AgentSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await build_state(settings, agent_settings, clock)
        app.state.lisa = state
        for hook in STARTUP:
            await hook(state)
        try:
            yield
        finally:
            for hook in reversed(SHUTDOWN):
                try:
                    await hook(state)
                except Exception:  # noqa: BLE001 - keep shutting the rest down
                    log.exception("shutdown hook failed")
            try:
                await state.engine.aclose()
            except Exception:  # noqa: BLE001 - a provider client failing to close must not stop the shutdown
                log.exception("closing the engine failed")
            await state.db.close()

    app = FastAPI(
        title="Lisa",
        version="0.1.0",
        description="Lisa, a telephony-first voice and chat agent that books appointments.",
        lifespan=lifespan,
    )
    from api import chat_routes, request_routes, twilio_routes

    app.include_router(chat_routes.router)
    app.include_router(twilio_routes.router)
    app.include_router(request_routes.router)
    from api import call_routes, media_routes

    app.include_router(media_routes.router)
    app.include_router(call_routes.router)
    return app
