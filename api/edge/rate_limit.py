"""Requests per minute per client (user id when authenticated, else IP), answered with 429 + Retry-After.

On SQLite (one process) the window lives in memory (:class:`RateLimiter`). On PostgreSQL — where several
workers and instances serve one deployment — the hits are counted in the database
(:class:`DatabaseRateLimiter`, table ``rate_limit_hits``), so the limit holds for the whole deployment.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request, status
from sqlalchemy import text
from starlette.requests import HTTPConnection

from api.auth import Principal, current_principal
from api.settings import ApiSettings
from api.state import app_state
from api.storage import Database

log = logging.getLogger(__name__)

WINDOW_S = 60.0


class RateLimiter:
    """A sliding one-minute window per client key; ``limit`` <= 0 turns it off."""

    def __init__(
        self, limit: int, window_s: float = WINDOW_S, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._hits: dict[str, deque[float]] = {}
        self._last_prune = now()

    def hit(self, key: str) -> float:
        """Count one request of ``key``; returns 0 when allowed, else the seconds until the next one is."""
        if self.limit <= 0:
            return 0.0
        now = self._now()
        if now - self._last_prune > self.window_s:
            self._prune(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window_s - now, 0.001)
        hits.append(now)
        return 0.0

    async def take(self, key: str) -> float:
        """:meth:`hit` behind the interface the database limiter shares."""
        return self.hit(key)

    def _prune(self, now: float) -> None:
        """Forget clients that have been quiet for a whole window (memory stays bounded)."""
        self._last_prune = now
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window_s]:
            del self._hits[key]


_UPSERT = (
    "INSERT INTO rate_limit_hits (key, window_start, hits) VALUES (:key, :window, 1)"
    " ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 RETURNING hits"
)
_PREVIOUS = "SELECT hits FROM rate_limit_hits WHERE key = :key AND window_start = :previous"
# PostgreSQL: one statement, one round trip (an upsert in a CTE, which SQLite does not take)
_COUNT_HIT = f"WITH hit AS ({_UPSERT}) SELECT (SELECT hits FROM hit) AS current, ({_PREVIOUS}) AS previous"
_FORGET = "DELETE FROM rate_limit_hits WHERE window_start < :before"


class DatabaseRateLimiter:
    """The same budget counted in the database for every worker and instance: hits per fixed one-minute
    window (an atomic upsert), the previous window weighted by how much of it still overlaps the last
    minute (a sliding-window estimate). A refused request counts too, so hammering keeps a client limited."""

    def __init__(
        self, db: Database, limit: int, window_s: float = WINDOW_S, now: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.limit = limit
        self.window_s = window_s
        self._now = now
        self._forgotten_before = 0

    async def take(self, key: str) -> float:
        """Count one request of ``key``; 0 when allowed, else the seconds until the next one is."""
        if self.limit <= 0:
            return 0.0
        now = self._now()
        window = int(now // self.window_s)
        into = (now - window * self.window_s) / self.window_s  # 0..1 through the current window
        params = {"key": key, "window": window, "previous": window - 1}
        if self.db.dialect == "postgresql":
            [row] = await self.db.returning(_COUNT_HIT, params)
        else:
            async with self.db.transaction() as conn:
                row = {
                    "current": (await conn.execute(text(_UPSERT), params)).scalar_one(),
                    "previous": (await conn.execute(text(_PREVIOUS), params)).scalar(),
                }
        current, previous = int(row["current"]), int(row["previous"] or 0)
        if window - 1 > self._forgotten_before:  # once per window and process: drop old windows
            self._forgotten_before = window - 1
            await self.db.execute(_FORGET, {"before": window - 1})
        if previous * (1 - into) + current <= self.limit:
            return 0.0
        if current > self.limit or previous == 0:
            return max((1 - into) * self.window_s, 0.001)
        # the previous window's weight must fall until the estimate fits again
        fits_at = 1 - (self.limit - current) / previous
        return max((fits_at - into) * self.window_s, 0.001)


def client_key(principal: Principal, host: str | None) -> str:
    return f"user:{principal.user_id}" if principal.user_id else f"ip:{host or 'unknown'}"


def build_limiter(settings: ApiSettings, db: Database) -> RateLimiter | DatabaseRateLimiter:
    """The app's limiter: in the database on PostgreSQL (shared by all workers), else in memory."""
    limit = settings.rate_limit_per_minute
    return DatabaseRateLimiter(db, limit) if db.dialect == "postgresql" else RateLimiter(limit)


def limiter_of(conn: HTTPConnection) -> RateLimiter | DatabaseRateLimiter:
    """The app's limiter (``AppState.rate_limiter``), for a request or a WebSocket."""
    return app_state(conn).rate_limiter


async def rate_limited(request: Request) -> Principal:
    """FastAPI dependency: the caller (:func:`current_principal`, called directly: a dependency level costs
    ~10 µs a request), counted against their budget (429 with Retry-After when spent)."""
    principal = await current_principal(request)
    client = request.client.host if request.client else None
    wait = await limiter_of(request).take(client_key(principal, client))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit of {limiter_of(request).limit} requests per minute reached; retry later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    return principal
