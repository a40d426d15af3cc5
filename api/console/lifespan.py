"""The console's lifespan: :func:`console_lifespan` starts its live bus and feeds and yields
:class:`ConsoleServices` (``AppState.console``).

It plugs into what the other areas already have: a call hook beside the request processor's, a listener on
the call status bus, one on the request store and a tap on the chat hub; with several workers on PostgreSQL
a relay of its own events (the chat relay's channel, target ``console``). It starts after the chat and
request areas (it is handed their services) and stops before them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from api.chat.service import ChatService
from api.console.bus import LiveBus
from api.console.service import ConsoleService
from api.console.sessions import ConsoleSessions
from api.console.settings import ConsoleSettings
from api.console.sources import CallFeed, RequestFeed, chat_tap
from api.state import Calls, Core, Requests, Telephony, app_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleServices:
    settings: ConsoleSettings
    bus: LiveBus
    service: ConsoleService
    sessions: ConsoleSessions
    calls: CallFeed
    requests: RequestFeed
    chat: ChatService
    timezone: str


def console_services(conn: HTTPConnection) -> ConsoleServices:
    """The console's services (FastAPI dependency; for a request or the event stream)."""
    services = app_state(conn).console
    if services is None:
        raise RuntimeError("the console is not started (api.app.lifespan_of enters console_lifespan)")
    return services


@contextlib.asynccontextmanager
async def console_lifespan(
    core: Core,
    telephony: Telephony,
    calls: Calls,
    requests: Requests,
    chat: ChatService,
    settings: ConsoleSettings | None = None,
) -> AsyncIterator[ConsoleServices]:
    settings = settings or ConsoleSettings()
    bus = LiveBus()
    sessions = ConsoleSessions(core.db, settings.console_session_hours)
    call_feed = CallFeed(bus, settings.console_sample_s)
    service = ConsoleService(
        core,
        settings,
        bus,
        call_feed,
        carrier=telephony.carrier,
        end_live_call=calls.end_live_call,
        processor=requests.processor,
    )
    bus.listeners.append(service.on_event)
    calls.hooks.append(call_feed)
    telephony.statuses.add(call_feed.on_call_status)
    store = requests.processor.store
    request_feed = RequestFeed(bus, store)
    store.listeners.append(request_feed.changed)
    tap = chat_tap(bus)
    chat.hub.taps.append(tap)
    relay = None
    if core.settings.lisa_workers > 1 and core.db.dialect == "postgresql":
        from api.chat.relay import PostgresRelay

        relay = PostgresRelay(core.settings.database_url, bus.deliver_relayed, name="lisa-console-relay")
        await relay.start()
        bus.relay = relay
    call_feed.start()
    try:
        yield ConsoleServices(
            settings, bus, service, sessions, call_feed, request_feed, chat, core.agent_settings.lisa_timezone
        )
    finally:
        bus.close()
        await call_feed.stop()
        await service.stop()
        with contextlib.suppress(ValueError):
            calls.hooks.remove(call_feed)
        with contextlib.suppress(ValueError):
            telephony.statuses.listeners.remove(call_feed.on_call_status)
        with contextlib.suppress(ValueError):
            chat.hub.taps.remove(tap)
        with contextlib.suppress(ValueError):
            store.listeners.remove(request_feed.changed)
        await request_feed.stop()
        if relay is not None:
            await relay.stop()
