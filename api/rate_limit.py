"""Requests per minute per client (user id when authenticated, else IP), answered with 429 + Retry-After."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.auth import Principal, current_principal

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

    def _prune(self, now: float) -> None:
        """Forget clients that have been quiet for a whole window (memory stays bounded)."""
        self._last_prune = now
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window_s]:
            del self._hits[key]


def client_key(principal: Principal, host: str | None) -> str:
    return f"user:{principal.user_id}" if principal.user_id else f"ip:{host or 'unknown'}"


def limiter_of(request_or_ws) -> RateLimiter:  # noqa: ANN001 - Request | WebSocket
    state = request_or_ws.app.state.lisa
    limiter = state.services.get("rate_limiter")
    if limiter is None:
        limiter = state.services["rate_limiter"] = RateLimiter(state.settings.rate_limit_per_minute)
    return limiter


async def rate_limited(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    """FastAPI dependency: counts the request against the caller's budget (429 with Retry-After when spent)."""
    client = request.client.host if request.client else None
    wait = limiter_of(request).hit(client_key(principal, client))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit of {limiter_of(request).limit} requests per minute reached; retry later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    return principal
