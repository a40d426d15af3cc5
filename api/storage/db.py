"""A small async database layer over SQLAlchemy Core: SQLite file by default, PostgreSQL when configured.

SQL is written once for both back ends: named parameters (``:name``), portable types (TEXT for ids,
ISO-8601 UTC timestamps and JSON; INTEGER; REAL). Schema changes are numbered ``.sql`` files in
``api/storage/migrations/`` applied in order and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from api.storage.pg_direct import PgDirect, Row, Step

log = logging.getLogger(__name__)


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


class SqliteFile:
    """Statements on a SQLite file run on the caller's thread, on two connections of its own: one read-only,
    one for short write transactions (:meth:`Database.write_now`).

    Through aiosqlite every statement is several hops to the connection's thread and back (cursor, execute,
    fetch, close, commit or rollback), each waiting for the GIL while the event loop is busy: far more than the
    statement itself on this small database (tens of microseconds). A reader never waits in WAL mode, and a
    write begins only when the write lock is free at once (``BEGIN IMMEDIATE`` with no busy wait), so nothing
    here blocks. When SQLite answers "busy" or anything goes wrong, nothing has been done and the caller runs
    the statements through the pool as before (the pool's errors, the pool's waiting).

    The writer never checkpoints the WAL itself (SQLite's automatic checkpoint would copy the pages to the
    database and sync both on this thread: ~13 ms of a stalled event loop every thousand pages); every
    ``CHECKPOINT_EVERY`` writes a thread of its own checkpoints without holding up the writer (``PASSIVE``)."""

    CHECKPOINT_EVERY = 100

    def __init__(self, path: str) -> None:
        self.path = path
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._closing = False
        self.checkpoints = 0  # done so far

    def _connect(self, *pragmas: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        for pragma in pragmas:
            conn.execute(pragma)
        return conn

    def fetchall(self, sql: str, params: Mapping[str, Any]) -> list[Row] | None:
        """The rows, or None: read through the pool instead."""
        with self._lock:
            try:
                if self._reader is None:  # a write slipped into a read fails here and goes to the pool
                    self._reader = self._connect("PRAGMA query_only = ON")
                cursor = self._reader.execute(sql, params)
                try:
                    names = [d[0] for d in cursor.description or ()]
                    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                finally:
                    cursor.close()
            except sqlite3.Error:
                return None

    def write(self, steps: Sequence[Step]) -> bool:
        """Run ``steps`` in one transaction; False when nothing was written (busy, or an error)."""
        with self._lock:
            try:
                if self._writer is None:  # as the pool's connections (Database.connect), checkpoints aside
                    self._writer = self._connect(
                        "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA wal_autocheckpoint=0"
                    )
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                return False
            try:
                for sql, params in steps:
                    if isinstance(params, Mapping):
                        conn.execute(sql, params)
                    else:
                        conn.executemany(sql, params)
                conn.execute("COMMIT")
                self._writes += 1
                if self._writes % self.CHECKPOINT_EVERY == 0:
                    self._checkpoint_soon()
                return True
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                return False

    def _checkpoint_soon(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoints, name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()
        self._checkpoint_due.set()

    def _checkpoints(self) -> None:
        """The checkpoint thread: a passive checkpoint each time one is due, on its own connection."""
        conn = self._connect()
        try:
            while self._checkpoint_due.wait() and not self._closing:
                self._checkpoint_due.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed", exc_info=True)  # the next one tries again
        finally:
            conn.close()

    def close(self) -> None:
        self._closing = True
        if self._checkpointer is not None:
            self._checkpoint_due.set()
            self._checkpointer.join(timeout=5)
            self._checkpointer = None
        with self._lock:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    conn.close()
            self._reader = self._writer = None


async def _pg_direct(engine: AsyncEngine) -> PgDirect | None:
    """The asyncpg pool beside ``engine``'s on PostgreSQL (None elsewhere, or when it cannot start: then
    everything goes through SQLAlchemy as before)."""
    if engine.dialect.name != "postgresql":
        return None
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    direct = PgDirect(dsn)
    try:
        await direct.start()
    except Exception:  # an option the pool does not take, the server not up yet: SQLAlchemy alone
        log.warning("PostgreSQL: no direct asyncpg pool; all statements through SQLAlchemy", exc_info=True)
        return None
    return direct


def sqlite_file(url: str) -> str | None:
    """The file of a plain ``sqlite+aiosqlite:///path`` URL (None: in memory, a URI with options, not SQLite)."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:" or "?" in path or path.startswith("file:"):
        return None
    return path


class Database:
    """Async access to the app's database. Create with :meth:`connect`, close with :meth:`close`."""

    def __init__(
        self, engine: AsyncEngine, file: SqliteFile | None = None, pg: PgDirect | None = None
    ) -> None:
        self.engine = engine
        self.file = file  # a SQLite file: short statements on the event loop's thread (see SqliteFile)
        self.pg = pg  # PostgreSQL: hot reads and turn writes straight through asyncpg (see PgDirect)
        # reads on PostgreSQL in autocommit (the same pool): no BEGIN before them and no ROLLBACK when the
        # connection goes back, two round trips of a session read's five
        self._reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )

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
        file = sqlite_file(url)
        db = cls(engine, SqliteFile(file) if file else None, await _pg_direct(engine))
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.pg is not None:
            await self.pg.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    def write_now(self, steps: Sequence[Step]) -> bool:
        """Run ``steps`` (SQL with ``:named`` parameters; a list of rows for executemany) in one transaction on
        this thread when that cannot wait (a SQLite file whose write lock is free); False: nothing was written,
        run them in :meth:`transaction` instead."""
        return self.file is not None and self.file.write(steps)

    async def write(self, steps: Sequence[Step]) -> None:
        """Run ``steps`` (see :meth:`write_now`) in one transaction, the fastest way the database allows."""
        if self.write_now(steps) or (self.pg is not None and await self.pg.write(steps)):
            return
        async with self.transaction() as conn:
            for sql, params in steps:
                await conn.execute(text(sql), params)

    async def returning(self, sql: str, params: Mapping[str, Any]) -> list[Row]:
        """The rows of one statement that writes (``RETURNING``, a CTE), committed on its own. On PostgreSQL
        straight through asyncpg (autocommit); run again through SQLAlchemy only when that failed, which can
        count a write twice if the failure was the answer getting lost (a rate limit's hit: acceptable)."""
        if self.pg is not None and (found := await self.pg.fetch_each([(sql, params)])) is not None:
            return found[0]
        async with self.engine.begin() as conn:
            return [dict(r._mapping) for r in await conn.execute(text(sql), dict(params))]

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run one statement in its own transaction; returns the number of rows changed."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text(sql), dict(params or {}))
            return result.rowcount

    async def fetchall(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return (await self.fetch_each([(sql, params or {})]))[0]

    async def fetch_each(self, queries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[Row]]:
        """The rows of each query, read on one pooled connection (one checkout, not one per query)."""
        if self.file is not None:
            found = [self.file.fetchall(sql, dict(params)) for sql, params in queries]
            if all(rows is not None for rows in found):
                return [rows for rows in found if rows is not None]
        if self.pg is not None and (each := await self.pg.fetch_each(queries)) is not None:
            return each
        async with self._reads.connect() as conn:
            return [
                [dict(r._mapping) for r in await conn.execute(text(sql), dict(params))]
                for sql, params in queries
            ]

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
