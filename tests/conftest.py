"""Shared test fixtures: the app on a real uvicorn server on a free loopback port, on SQLite or PostgreSQL.

Usage::

    async def test_something(app_server):
        server = await app_server(api={"rate_limit_per_minute": 0}, agent={"lisa_language": "de"})
        async with httpx.AsyncClient(base_url=server.url) as client:
            ...
        server.state.chat  # the app's AppState (typed: telephony, calls, requests, chat...)

    # what the settings would build, replaced before start-up (api.state.Overrides)
    server = await app_server(overrides=Overrides(voice_settings=VoiceSettings(_env_file=None)))

    @pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
    async def test_on_both(app_server, db_url):
        server = await app_server(database_url=db_url)

Every server started by the factory is stopped at the end of the test (``await server.stop()`` stops it
earlier, e.g. to restart on the same database). PostgreSQL tests get a database of their own
(``lisa_test_<uuid>``, dropped afterwards) so parallel workers never collide; they skip with the reason when
``DATABASE_URL_TEST`` (default ``postgresql://postgres@127.0.0.1:5432/test``) is unreachable, and fail under
``CI=true`` (tests/prerequisites.py).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from prerequisites import missing

from agent.clock import Clock
from agent.settings import AgentSettings
from api.cli.inprocess_server import InProcessServer, loopback_socket, serve_in_process
from api.settings import ApiSettings
from api.state import Overrides

PG_TEST_URL = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
DEFAULT_TEST_CLOCK = "2026-11-23T09:00:00+01:00"


RunningServer = InProcessServer  # url, ws_url, port, app, state (the app's AppState), stop()


class ManualClock(Clock):
    """A clock that stands still until the test moves it with :meth:`advance`."""

    def __init__(self, start: str = DEFAULT_TEST_CLOCK, timezone: str = "Europe/Berlin") -> None:
        super().__init__(start, timezone)
        self._offset = 0.0

    def now(self) -> datetime:
        return (self._start + timedelta(seconds=self._offset)).astimezone(self.tz)

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/lisa-test.db"


@contextlib.asynccontextmanager
async def fresh_postgres_database(prefix: str = "lisa_test") -> AsyncIterator[str]:
    """The URL of a fresh PostgreSQL database ``<prefix>_<uuid>`` (dropped afterwards, connections and all);
    skips the test when PostgreSQL is unreachable at ``DATABASE_URL_TEST`` (fails it under ``CI=true``)."""
    import asyncpg

    try:
        admin = await asyncpg.connect(PG_TEST_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        missing(f"PostgreSQL not reachable at DATABASE_URL_TEST ({PG_TEST_URL}): {exc}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_TEST_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test (dropped afterwards); skips (CI: fails) without PostgreSQL."""
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """Parametrised over both back ends: a temp SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/lisa-test.db"
    return request.getfixturevalue("postgres_url")


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def app_server(tmp_path) -> AsyncIterator[StartServer]:
    """Factory: ``await app_server(api={...}, agent={...}, database_url=..., clock=...)`` -> RunningServer.

    ``api``/``agent`` override fields of ApiSettings/AgentSettings (or pass ready ``settings`` /
    ``agent_settings``). Defaults: temp SQLite file, rule brain, English, Lisa's clock at
    2026-11-23 09:00 Berlin, rate limit off. ``clock`` injects a Clock (e.g. ``ManualClock``) as Lisa's clock;
    ``overrides`` (:class:`api.state.Overrides`) what the settings would build (voice settings, a carrier…).
    The server's port is written into ``ApiSettings.port`` (the loopback carrier builds its media URL from it).
    """
    servers: list[RunningServer] = []

    async def start(
        api: dict[str, Any] | None = None,
        agent: dict[str, Any] | None = None,
        *,
        database_url: str | None = None,
        settings: ApiSettings | None = None,
        agent_settings: AgentSettings | None = None,
        clock: Clock | None = None,
        overrides: Overrides | None = None,
    ) -> RunningServer:
        from api.app import create_app

        sock = loopback_socket(nodelay=True)
        port = sock.getsockname()[1]
        api_values: dict[str, Any] = {
            "database_url": database_url or f"sqlite:///{tmp_path}/lisa-test.db",
            "rate_limit_per_minute": 0,
            "auth_enabled": False,
        }
        api_values.update(api or {})
        api_values.update(host="127.0.0.1", port=port)
        if settings is None:
            settings = ApiSettings(_env_file=None, **api_values)
        else:
            settings = settings.model_copy(update={"host": "127.0.0.1", "port": port})
        if agent_settings is None:
            agent_values: dict[str, Any] = {"lisa_brain": "rule", "lisa_clock": DEFAULT_TEST_CLOCK}
            agent_values.update(agent or {})
            agent_settings = AgentSettings(_env_file=None, **agent_values)
        app = create_app(settings, agent_settings, clock=clock, overrides=overrides)
        running = await serve_in_process(app, sock)
        servers.append(running)
        return running

    yield start
    for running in reversed(servers):
        await running.stop()
