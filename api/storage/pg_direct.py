"""Short statements on PostgreSQL straight through an asyncpg pool of their own, beside SQLAlchemy's.

SQLAlchemy's Core costs ~0.55 ms of CPU for a session page's two queries that asyncpg alone answers in ~0.14 ms
(greenlet hops, cache keys, events, result wrapping; ``bench/api_bench.py --postgres``). The SQL stays the
app's one dialect-neutral text with ``:named`` parameters: SQLAlchemy compiles each statement once for asyncpg
(``$1``…, a name used twice is one number) and this module runs it. Like :class:`~api.storage.db.SqliteFile`,
it only ever goes first: a statement that fails here has changed nothing (a read, or a transaction rolled
back), and the caller runs it again through SQLAlchemy's pool, whose errors and pre-ping stay the app's
answer. (One case is unsure: a connection lost while its COMMIT was under way may have written; run again,
the turn's messages then clash with their own ids and the error is reported, nothing is written twice.) A
connection the server closed is replaced by the pool when it is next taken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

log = logging.getLogger(__name__)

Row = dict[str, Any]
Step = tuple[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]  # a statement; several rows: executemany

_DIALECT = asyncpg_dialect.dialect()


@lru_cache(maxsize=1024)  # the app's statements are a fixed set (lists vary in their IN clauses)
def compiled(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` as asyncpg runs it, and the parameter names in the order of ``$1``, ``$2``…"""
    statement = text(sql).compile(dialect=_DIALECT)
    return statement.string, tuple(statement.positiontup or ())


def _args(names: tuple[str, ...], params: Mapping[str, Any]) -> list[Any]:
    return [params[name] for name in names]


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool without asyncpg's reset query (advisory locks, cursors, LISTEN,
    session settings: this pool's plain statements leave none of them), a round trip less per checkout. An
    open transaction is still rolled back by asyncpg before this is called."""


class PgDirect:
    """An asyncpg pool for the hot reads and the chat's turn writes (at most ``max_size`` connections)."""

    def __init__(self, dsn: str, max_size: int = 10) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._warned = False

    def _failed(self, what: str) -> None:
        """Say the first time that the direct path failed (a warning: paid twice, it would go unseen)."""
        log.log(
            logging.DEBUG if self._warned else logging.WARNING,
            "direct %s failed; through SQLAlchemy",
            what,
            exc_info=True,
        )
        self._warned = True

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=self.max_size, reset=_nothing_to_reset
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def fetch_each(self, queries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[Row]] | None:
        """The rows of each query on one connection, or None: nothing could be read here (run them through
        SQLAlchemy instead)."""
        if self._pool is None:
            return None
        try:
            async with self._pool.acquire() as conn:
                found = []
                for sql, params in queries:
                    statement, names = compiled(sql)
                    found.append([dict(r) for r in await conn.fetch(statement, *_args(names, params))])
                return found
        except Exception:  # SQLAlchemy runs it again and answers for it
            self._failed("read")
            return None

    async def write(self, steps: Sequence[Step]) -> bool:
        """Run ``steps`` in one transaction; False when nothing was written (rolled back, or no connection)."""
        if self._pool is None:
            return False
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                for sql, params in steps:
                    statement, names = compiled(sql)
                    if isinstance(params, Mapping):
                        await conn.execute(statement, *_args(names, params))
                    else:
                        await conn.executemany(statement, [_args(names, p) for p in params])
            return True
        except Exception:  # rolled back: SQLAlchemy runs it again and answers for it
            self._failed("write")
            return False
