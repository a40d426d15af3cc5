"""A small async database layer over SQLAlchemy Core: SQLite file by default, PostgreSQL when configured.

SQL is written once for both back ends: named parameters (``:name``), portable types (TEXT for ids,
ISO-8601 UTC timestamps and JSON; INTEGER; REAL). Schema changes are numbered ``.sql`` files in
``api/storage/migrations/`` applied in order and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

Row = dict[str, Any]


def async_url(url: str) -> str:
    """Turn a plain database URL (``postgresql://``, ``sqlite:///file.db`` or a file path) into an async one."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and "+aiosqlite" not in url:
        return url.replace("sqlite:///", "sqlite+aiosqlite:///", 1)
    if "://" not in url:
        return f"sqlite+aiosqlite:///{url}"
    return url


def utcnow() -> str:
    """Timestamps are stored as ISO-8601 strings in UTC."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_UNAVAILABLE_NAMES = {
    # asyncpg: the server went away, is starting up or shutting down, or the connection broke
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "AdminShutdownError",
    "CrashShutdownError",
    "PostgresConnectionError",
    "TooManyConnectionsError",
}


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means the database cannot be reached right now (connection
    refused or broken, server restarting): worth a 503 and a retry, not a 500."""
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.TimeoutError, ConnectionError, TimeoutError)):
            return True
        if isinstance(current, OSError) and not isinstance(current, FileNotFoundError | PermissionError):
            return True
        if type(current).__name__ in _UNAVAILABLE_NAMES:
            return True
        if type(current).__name__ == "InterfaceError" and "closed" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def _statements(sql: str) -> list[str]:
    return [
        s.strip()
        for s in sql.split(";")
        if s.strip()
        and not all(line.strip().startswith("--") or not line.strip() for line in s.strip().splitlines())
    ]


class Database:
    """Async access to the app's database. Create with :meth:`connect`, close with :meth:`close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name  # "sqlite" | "postgresql"

    @classmethod
    async def connect(cls, url: str, migrate: bool = True) -> Database:
        url = async_url(url)
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # sqlite3's connection
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        db = cls(engine)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run one statement in its own transaction; returns the number of rows changed."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text(sql), dict(params or {}))
            return result.rowcount

    async def fetchall(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(text(sql), dict(params or {}))
            return [dict(r._mapping) for r in result]

    async def fetchone(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def ping(self) -> bool:
        try:
            await self.fetchone("SELECT 1 AS ok")
            return True
        except Exception:  # health check reports, never raises
            return False

    async def migrate(self) -> list[str]:
        """Apply the numbered migrations not applied yet; returns their names."""
        applied: list[str] = []
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
            )
            if self.dialect == "postgresql":  # one migrator at a time across server instances
                await conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
            done = {r[0] for r in await conn.execute(text("SELECT version FROM schema_migrations"))}
            files = sorted(
                (f for f in resources.files("api.storage.migrations").iterdir() if f.name.endswith(".sql")),
                key=lambda f: f.name,
            )
            for f in files:
                version = f.name.removesuffix(".sql")
                if version in done:
                    continue
                for statement in _statements(f.read_text(encoding="utf-8")):
                    await conn.execute(text(statement))
                await conn.execute(
                    text("INSERT INTO schema_migrations (version, applied_at) VALUES (:v, :t)"),
                    {"v": version, "t": utcnow()},
                )
                applied.append(version)
                log.info("applied migration %s", version)
        return applied
