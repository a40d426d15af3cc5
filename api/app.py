"""The FastAPI app: chat API (seeds 000/001/003), Twilio webhooks and media streams, outbound requests (seed 002).

Start-up is composed in one place, :func:`lifespan_of`: the core (database, Lisa's engine), then each area's
lifespan in order — telephony → calls (voice) → requests → chat → team chat → call sweeper → console — each
given what it needs from the ones before, all entered on one
``AsyncExitStack``, so shutdown runs in reverse by construction (a failing stop is logged, the rest still
stop). What they yield becomes the typed :class:`api.state.AppState` that routes get through ``api/deps.py``.

How an area plugs in (e.g. ``api/team_chat/``, ``api/console/``):

1. ``api/<area>/lifespan.py``: an async context manager that takes what it needs (``Core`` and the earlier
   areas' services, never ``AppState``), starts the area's services and yields them, stopping them after
   the ``yield``::

       @asynccontextmanager
       async def team_chat_lifespan(core: Core, chat: ChatService) -> AsyncIterator[TeamChat]:
           service = TeamChat(core.db, ...)
           await service.start()
           try:
               yield service
           finally:
               await service.stop()

2. ``api/state.py``: a typed field on ``AppState`` for what it yields (``team_chat: TeamChat``); in
   ``api/deps.py`` an alias (``TeamChatDep = Annotated[TeamChat, Depends(_team_chat)]``) for its routes.
3. Here: one ``await _enter(stack, "team chat", team_chat_lifespan(core, chat))`` line in
   :func:`lifespan_of` at its place in the order, the field in the ``AppState(...)`` call, its router in
   :func:`create_app`, and one ``app.add_exception_handler`` per domain error it raises to its routes.

Route modules never import this module; areas never read another area's state except what they are handed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TypeVar

from fastapi import FastAPI

from agent.clock import Clock
from agent.settings import AgentSettings
from api.settings import ApiSettings
from api.state import AppState, Core, Overrides
from api.storage import Database

log = logging.getLogger(__name__)

T = TypeVar("T")


@asynccontextmanager
async def core_lifespan(
    settings: ApiSettings, agent_settings: AgentSettings, clock: Clock | None = None
) -> AsyncIterator[Core]:
    """The database and Lisa's engine (warm: dateparser's data and the FAQ encoder, off the event loop)."""
    from agent.factory import build_engine
    from agent.when import warm_up
    from api.bookings.store import DatabaseCalendar

    db = await Database.connect(settings.database_url)
    try:
        await asyncio.to_thread(warm_up)  # dateparser's language data, off the event loop, once per process
        engine = build_engine(agent_settings, calendar=DatabaseCalendar(db), clock=clock)
        try:
            await asyncio.to_thread(engine.business.warm_up)  # FAQ encoder + examples, once per process
            yield Core(settings, agent_settings, db, engine)
        finally:
            try:
                await engine.aclose()
            except Exception:  # a provider client failing to close must not stop the shutdown
                log.exception("closing the engine failed")
    finally:
        await db.close()


async def _enter(stack: AsyncExitStack, name: str, area: AbstractAsyncContextManager[T]) -> T:
    """Start ``area`` on ``stack``; its stop runs in reverse order with the others, a failure logged."""
    started = await area.__aenter__()

    async def stop() -> None:
        try:
            await area.__aexit__(None, None, None)
        except Exception:  # keep shutting the rest down
            log.exception("stopping %s failed", name)

    stack.push_async_callback(stop)
    return started


@asynccontextmanager
async def lifespan_of(
    settings: ApiSettings,
    agent_settings: AgentSettings,
    clock: Clock | None = None,
    overrides: Overrides | None = None,
) -> AsyncIterator[AppState]:
    """Every area started in order (each gets what it needs from the ones before); stopped in reverse."""
    from api.calls.lifespan import calls_lifespan
    from api.calls.sweeper import call_sweeper
    from api.chat.lifespan import chat_lifespan
    from api.console.lifespan import console_lifespan
    from api.edge.rate_limit import build_limiter
    from api.requests.lifespan import requests_lifespan
    from api.team_chat.lifespan import team_chat_lifespan
    from api.twilio.lifespan import telephony_lifespan

    overrides = overrides or Overrides()
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(core_lifespan(settings, agent_settings, clock))
        telephony = await _enter(stack, "telephony", telephony_lifespan(core, overrides))
        calls = await _enter(stack, "calls", calls_lifespan(core, overrides))
        requests = await _enter(stack, "requests", requests_lifespan(core, telephony, calls, overrides))
        chat = await _enter(stack, "chat", chat_lifespan(core))
        team_chat = await _enter(
            stack, "team chat", team_chat_lifespan(core, chat, overrides.team_chat_settings)
        )
        await _enter(stack, "call sweeper", call_sweeper(calls.store, overrides.call_sweep_settings))
        console = await _enter(stack, "console", console_lifespan(core, telephony, calls, requests, chat))
        yield AppState(
            settings=settings,
            agent_settings=agent_settings,
            db=core.db,
            engine=core.engine,
            telephony=telephony,
            calls=calls,
            requests=requests,
            chat=chat,
            rate_limiter=build_limiter(settings, core.db),
            team_chat=team_chat,
            console=console,
            providers={"meetings": team_chat.meetings.name, "sms": team_chat.accounts.sms.name},
        )


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive after start-up (the ~1M of the libraries, models and data
    loaded by then) out of the collector's reach (``gc.freeze``, as the gc module's documentation suggests for
    long-lived start-up state). Each full collection otherwise walked all of them: ~140 ms with the event loop
    stopped, twice in 8 s of a session read load: ~13 µs a request, and a 140 ms stall in p99). The price: a
    start-up object that later becomes garbage in a reference cycle is never freed (reference counting still
    frees the others); start-up state mostly lives as long as the process anyway."""
    gc.collect()
    gc.freeze()


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
    overrides: Overrides | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """The app; ``clock`` replaces Lisa's clock built from the settings, ``overrides`` what the settings would
    build (tests and the demo: voice settings, a carrier, extra call hooks…). ``freeze_gc`` (the server's
    process, which runs one app): see :func:`freeze_startup_objects`."""
    settings = settings or ApiSettings()
    agent_settings = agent_settings or AgentSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan_of(settings, agent_settings, clock, overrides) as state:
            app.state.lisa = state
            if freeze_gc:
                freeze_startup_objects()
            yield

    docs = docs_mode(settings)
    public = docs == "public"
    # FastAPI's native OpenTelemetry looks up the global providers on every request (three environment
    # lookups, an eighth of a health request's time); Lisa installs none, so it stays on only in a process
    # configured for OpenTelemetry through its OTEL_* variables
    otel = any(name.startswith("OTEL_") for name in os.environ)
    app = FastAPI(
        telemetry=None if otel else {"tracing": False, "metrics": False, "logs": False},
        title="Lisa",
        version="0.1.0",
        description="Lisa, a telephony-first voice and chat agent that books appointments.",
        lifespan=lifespan,
        docs_url="/docs" if public else None,
        redoc_url="/redoc" if public else None,
        openapi_url="/openapi.json" if public else None,
    )
    from api.calls import routes as call_routes
    from api.calls import stream_routes
    from api.chat import routes as chat_routes
    from api.chat.service import ChatError
    from api.console import routes as console_routes
    from api.console.sessions import COOKIE as console_cookie
    from api.edge import errors
    from api.edge.body_limit import BodyGuard
    from api.edge.security_headers import SecurityHeaders
    from api.requests import routes as request_routes
    from api.team_chat import routes as team_chat_routes
    from api.team_chat.accounts import TeamError
    from api.twilio import routes as twilio_routes

    app.add_middleware(
        BodyGuard,
        settings=settings,
        cookie_sessions={"/console/api/": console_cookie},  # the console's writes: cookie, else a token first
        open_paths={"/console/api/session"},  # its sign-in takes the credentials in the body
    )
    errors.install(app)  # adds the catch-all middleware: outside the body guard, inside the headers
    app.add_middleware(SecurityHeaders)
    from api.edge import cors

    cors.install(app, settings)  # outermost: preflights are answered before body limits and auth
    # one handler per domain error: the areas' services raise them, the answer is the HTTP error they name
    app.add_exception_handler(ChatError, chat_routes.chat_error)
    app.add_exception_handler(request_routes.RequestRefused, request_routes.request_refused)
    app.add_exception_handler(TeamError, team_chat_routes.team_error)
    if docs == "auth":
        from api.edge.docs_routes import docs_behind_auth

        app.include_router(docs_behind_auth(app))
    # health, sessions: first, as routes are tried in order, and their routes on the app's own router: since
    # FastAPI 0.137 an included router stays a proxy that every request walks through (twice: to find the
    # route, then to run it; ~20 µs of a session read). What inclusion would add here is nothing (no prefix,
    # tags, dependencies or responses of its own) but app.dependency_overrides, which these routes ignore.
    for hot in chat_routes.hot_routers:
        app.router.routes.extend(hot.routes)
    app.include_router(team_chat_routes.router)  # before chat's: its /ws/chat/{chatId} takes team chats
    app.include_router(chat_routes.router)
    app.include_router(twilio_routes.router)
    app.include_router(request_routes.router)
    app.include_router(stream_routes.router)
    app.include_router(call_routes.router)
    app.include_router(console_routes.router)
    return app
