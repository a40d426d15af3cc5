"""Client-side requests-per-minute limiter: queues requests instead of letting the provider reject them.

Seed 001: a free tier allows 15 requests per minute. :class:`RateLimiter` admits at most ``max_requests``
in any sliding window of ``window_s`` seconds; a caller beyond that waits (first come, first served) until
a slot frees up; :meth:`RateLimiter.pause` holds everyone back after a 429. It holds no asyncio primitives, so one limiter can be shared by every conversation of the
process (see :func:`shared_limiter`), whatever event loop they run on.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

TimeFn = Callable[[], float]
SleepFn = Callable[[float], Awaitable[object]]


class RateLimiter:
    """At most ``max_requests`` admissions in any ``window_s`` seconds; later callers queue.

    Each :meth:`acquire` reserves its admission time synchronously (so the queue order is the call order)
    and then sleeps until that time. ``time_fn`` and ``sleep`` are injectable for tests with a fake clock.
    A cancelled waiter keeps its reservation, which only errs on the safe side.
    """

    def __init__(
        self,
        max_requests: int,
        window_s: float = 60.0,
        *,
        time_fn: TimeFn = time.monotonic,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if max_requests < 1:
            raise ValueError("max_requests must be at least 1")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.max_requests = max_requests
        self.window_s = window_s
        self._time = time_fn
        self._sleep = sleep
        self._admitted: deque[float] = deque(maxlen=max_requests)
        self.waiting = 0  # callers queued right now
        self._paused_until = float("-inf")

    @classmethod
    def per_minute(
        cls, requests_per_minute: float, *, time_fn: TimeFn = time.monotonic, sleep: SleepFn = asyncio.sleep
    ) -> RateLimiter | None:
        """A limiter for a (possibly fractional) requests-per-minute rate; ``None`` when ``rate <= 0``.

        ``15`` -> 15 per 60 s; ``0.5`` -> 1 per 120 s; ``7.5`` -> 7 per 56 s.
        """
        if requests_per_minute <= 0:
            return None
        count = max(1, math.floor(requests_per_minute))
        return cls(count, 60.0 * count / requests_per_minute, time_fn=time_fn, sleep=sleep)

    def reserve(self) -> float:
        """Reserve the next admission and return how many seconds the caller has to wait for it."""
        now = self._time()
        at = max(now, self._paused_until)
        if len(self._admitted) == self.max_requests:
            at = max(at, self._admitted[0] + self.window_s)
        self._admitted.append(at)
        return at - now

    @property
    def paused_for(self) -> float:
        """Seconds until the current pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._time())

    def pause(self, seconds: float) -> None:
        """Admit nobody for ``seconds`` from now (the provider said Retry-After: everyone waits)."""
        self._paused_until = max(self._paused_until, self._time() + max(0.0, seconds))

    async def acquire(self) -> float:
        """Wait for an admission; returns the seconds waited (0 when under the limit)."""
        wait = self.reserve()
        if wait > 0:
            self.waiting += 1
            try:
                await self._sleep(wait)
            finally:
                self.waiting -= 1
        return wait


_SHARED: dict[tuple[str, float], RateLimiter] = {}


def shared_limiter(endpoint: str, requests_per_minute: float) -> RateLimiter | None:
    """The process-wide limiter of one endpoint (``None`` when the rate is 0 = unlimited)."""
    if requests_per_minute <= 0:
        return None
    key = (endpoint, float(requests_per_minute))
    limiter = _SHARED.get(key)
    if limiter is None:
        limiter = RateLimiter.per_minute(requests_per_minute)
        assert limiter is not None  # the rate is > 0
        _SHARED[key] = limiter
    return limiter
