"""Call records that outlive their process: closed, not left "in progress" forever; ends written late.

Every app process (each ``--workers`` worker, each instance on a shared PostgreSQL) runs one loop:
at start-up and every ``LISA_CALL_HEARTBEAT_S`` it renews the heartbeat of the calls it serves and closes
the open records of calls whose process is gone (``ended_by: system``, "the app stopped during the call";
see ``api/calls/store.py``); every second it writes the ends of calls kept while the database was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic_settings import BaseSettings, SettingsConfigDict

from api.calls.store import CallStore
from api.storage.db import database_unavailable

log = logging.getLogger(__name__)


class CallSweepSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    lisa_call_heartbeat_s: float = 10.0  # how often a process renews its calls and looks for abandoned ones
    # a call whose heartbeat is older than this is closed (its process on another host is presumed dead);
    # a dead process on the same host is noticed at once
    lisa_call_stale_s: float = 60.0


async def sweep_once(store: CallStore, settings: CallSweepSettings) -> None:
    try:
        await store.flush()
        await store.heartbeat()
        await store.sweep(settings.lisa_call_stale_s)
    except Exception as exc:  # the loop survives database outages
        if database_unavailable(exc):
            log.warning("call records: database unavailable (%s)", type(exc).__name__)
        else:
            log.exception("call records: sweep failed")


async def _run(store: CallStore, settings: CallSweepSettings) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(min(1.0, settings.lisa_call_heartbeat_s))
        if time.monotonic() - last >= settings.lisa_call_heartbeat_s:
            last = time.monotonic()
            await sweep_once(store, settings)
        elif store.pending:
            with contextlib.suppress(Exception):
                await store.flush()


@asynccontextmanager
async def call_sweeper(store: CallStore, settings: CallSweepSettings | None = None) -> AsyncIterator[None]:
    """Sweep once now, then every heartbeat until the app stops; the ends still pending are written then."""
    settings = settings or CallSweepSettings()
    least = 3 * settings.lisa_call_heartbeat_s  # a heartbeat or two may be late without closing a live call
    if settings.lisa_call_stale_s < least:
        log.warning(
            "LISA_CALL_STALE_S=%g is under 3 heartbeats: using %g s", settings.lisa_call_stale_s, least
        )
        settings = settings.model_copy(update={"lisa_call_stale_s": least})
    await sweep_once(store, settings)
    task = asyncio.create_task(_run(store, settings), name="call-sweeper")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if store.pending:
            with contextlib.suppress(Exception):
                await store.flush()
