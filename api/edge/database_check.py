"""The health route's database check, shared: a success is reused for ``CHECK_FRESH_S`` and concurrent health
requests wait for the one check in flight (load balancers poll health often; under load a check per request
would queue hundreds at the database). A failure is never reused; a request that finds the database
unavailable (api/edge/errors.py) forgets the last success, so an outage shows at once."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

CHECK_FRESH_S = 1.0

Check = Callable[[], Awaitable[int | None]]  # the database's count, None when it cannot be reached


class DatabaseCheck:
    """When one database (any object: only its identity counts) last answered, and what it counted."""

    def __init__(self) -> None:
        self._db: weakref.ref[Any] | None = None
        self._at = 0.0
        self._count = 0
        self._pending: tuple[weakref.ref[Any], asyncio.Task[int | None]] | None = None

    def fresh(self, db: object, now: float) -> int | None:
        """The count of a success on ``db`` younger than ``CHECK_FRESH_S`` (None: check again)."""
        if self._db is not None and self._db() is db and now - self._at < CHECK_FRESH_S:
            return self._count
        return None

    async def count(self, db: object, check: Check) -> int | None:
        """A fresh success's count, else the result of ``check`` — run once for all who ask meanwhile."""
        if (count := self.fresh(db, time.monotonic())) is not None:
            return count
        pending = self._pending
        if (
            pending is None
            or pending[0]() is not db
            or pending[1].get_loop() is not asyncio.get_running_loop()
        ):
            task = asyncio.ensure_future(self._run(db, check))
            pending = self._pending = (weakref.ref(db), task)
        return await asyncio.shield(pending[1])  # a client that goes away does not cancel the others' check

    async def _run(self, db: object, check: Check) -> int | None:
        try:
            count = await check()
        finally:
            if self._pending is not None and self._pending[1] is asyncio.current_task():
                self._pending = None
        if count is None:
            self.forget()
        else:
            self._db, self._at, self._count = weakref.ref(db), time.monotonic(), count
        return count

    def forget(self) -> None:
        self._db = None


last_check = DatabaseCheck()
