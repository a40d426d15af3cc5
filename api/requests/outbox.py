"""Delivers recorded changes to the remote outcome store in order; nothing is lost while it is down.

Entries are written by :class:`~api.requests.store.RequestStore` in the same transaction as the change.
The delivery loop sends them oldest first and stops at the first failure (so order is kept), retrying
after ``retry_s``. On PostgreSQL an advisory lock lets only one server instance deliver at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

from sqlalchemy import text

from api.requests.store import RequestStore

log = logging.getLogger(__name__)
_LOCK_KEY = 4242005


def is_data_rejection(exc: Exception) -> bool:
    """PostgreSQL refused the data itself (error class 22 data exception / 23 integrity violation), so
    retrying the same entry can never succeed."""
    code = str(getattr(exc, "code", "") or "")
    return code[:2] in ("22", "23")


class RemoteStore(Protocol):
    async def deliver(self, op: str, payload: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class Outbox:
    def __init__(
        self, store: RequestStore, remote: RemoteStore, retry_s: float = 2.0, max_rejections: int = 5
    ) -> None:
        self.store = store
        self.remote = remote
        self.retry_s = retry_s
        self.max_rejections = max_rejections
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.last_error: str | None = None

    def poke(self) -> None:
        """Deliver soon (a change was just recorded)."""
        self._wake.set()

    async def flush(self) -> int:
        """Deliver pending entries in order; returns how many were delivered. Stops at the first failure."""
        if self.store.db.dialect != "postgresql":
            return await self._flush()
        async with self.store.db.engine.connect() as conn:  # session lock held on this one connection
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY})).scalar()
            await conn.commit()
            if not got:
                return 0
            try:
                return await self._flush()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                await conn.commit()

    async def _flush(self) -> int:
        delivered = 0
        while True:
            entries = await self.store.pending_outbox()
            if not entries:
                if self.last_error is not None:
                    log.info("outcome store reachable again; pending changes delivered")
                self.last_error = None
                return delivered
            for entry in entries:
                try:
                    await self.remote.deliver(entry["op"], json.loads(entry["payload"]))
                except Exception as exc:  # any failure: keep the entry, retry later
                    first_failure = self.last_error is None
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    if is_data_rejection(exc) and entry["attempts"] + 1 >= self.max_rejections:
                        # bad data, not an outage: set it aside so it cannot block the changes behind it
                        log.error(
                            "outcome store rejects %s of request data (%s); set aside", entry["op"], exc
                        )
                        await self.store.outbox_set_aside(entry["id"], self.last_error)
                        continue
                    await self.store.outbox_failed(entry["id"], self.last_error)
                    log.log(  # once per outage, then quietly while retrying
                        logging.WARNING if first_failure else logging.DEBUG,
                        "outcome store unreachable or refusing (%s); %s change(s) wait",
                        type(exc).__name__,
                        len(entries),
                    )
                    return delivered
                await self.store.outbox_delivered(entry["id"])
                delivered += 1

    async def run(self) -> None:
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive database hiccups
                log.exception("outbox delivery failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.retry_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="request-outbox")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.remote.close()
