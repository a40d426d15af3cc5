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
    from api.bookings.store import DatabaseCalendar

    db = await Database.connect(settings.database_url)
    await asyncio.to_thread(warm_up)  # dateparser's language data, off the event loop, once per process
    engine = build_engine(agent_settings, calendar=DatabaseCalendar(db), clock=clock)
    await asyncio.to_thread(engine.business.warm_up)  # FAQ sentence encoder + examples, once per process
    return AppState(settings=settings, agent_settings=agent_settings, db=db, engine=engine)


def docs_mode(settings: ApiSettings) -> str:
    """``public`` | ``auth`` | ``off`` for /docs, /redoc and /openapi.json; ``auto`` follows the auth setting
    (public with auth off, off with auth on)."""
    mode = settings.api_docs.strip().lower()
    if mode == "auto":
        return "off" if settings.auth_enabled else "public"
    if mode not in ("public", "auth", "off"):
        raise ValueError(f"API_DOCS must be auto, public, auth or off (not {settings.api_docs!r})")
    return mode


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
                except Exception:  # keep shutting the rest down
                    log.exception("shutdown hook failed")
            try:
                await state.engine.aclose()
            except Exception:  # a provider client failing to close must not stop the shutdown
                log.exception("closing the engine failed")
            await state.db.close()

    docs = docs_mode(settings)
    public = docs == "public"
    app = FastAPI(
        title="Lisa",
        version="0.1.0",
        description="Lisa, a telephony-first voice and chat agent that books appointments.",
        lifespan=lifespan,
        docs_url="/docs" if public else None,
        redoc_url="/redoc" if public else None,
        openapi_url="/openapi.json" if public else None,
    )
    from api.edge import errors
    from api.edge.body_limit import BodyGuard
    from api.edge.security_headers import SecurityHeaders

    app.add_middleware(BodyGuard, settings=settings)
    errors.install(app)  # adds the catch-all middleware: outside the body guard, inside the headers
    app.add_middleware(SecurityHeaders)
    if docs == "auth":
        from api.edge.docs_routes import docs_behind_auth

        app.include_router(docs_behind_auth(app))
    from api.chat import routes as chat_routes
    from api.requests import routes as request_routes
    from api.twilio import routes as twilio_routes

    app.include_router(chat_routes.router)
    app.include_router(twilio_routes.router)
    app.include_router(request_routes.router)
    from api.calls import routes as call_routes
    from api.calls import stream_routes as media_routes
    from api.calls import sweeper as call_sweeper  # noqa: F401 - call_sweeper: its start-up

    app.include_router(media_routes.router)
    app.include_router(call_routes.router)
    return app
