"""`lisa serve`: run the app with uvicorn, in one process or in ``LISA_WORKERS`` processes on one port."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.logging_setup import setup_logging
from api.settings import ApiSettings

log = logging.getLogger(__name__)


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> int:
    """Serve until stopped. With several workers uvicorn starts that many processes on the one listening
    socket; each runs whole calls on its own event loop (and loads its own models)."""
    settings = ApiSettings()
    setup_logging(settings.log_level)
    workers = max(1, workers or settings.lisa_workers)
    options = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": settings.log_level.lower(),
        "ws_ping_interval": 20,
        "backlog": 2048,
        **edge_options(settings),
    }
    if workers == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings, freeze_gc=True), **options)
        return 0
    log.warning(
        "%d workers: calls spread over them; chat spans them on PostgreSQL only (README, 'Several workers')",
        workers,
    )
    # the workers read their settings from the environment: the same host and port as this process
    os.environ["HOST"], os.environ["PORT"] = str(options["host"]), str(options["port"])
    os.environ["LISA_WORKERS"] = str(workers)  # `--workers N`: each worker knows it has siblings (chat relay)
    asyncio.run(_migrate(settings.database_url))  # once, before the workers race to do it
    uvicorn.run("api.cli.server:worker_app", factory=True, workers=workers, **options)
    return 0


def edge_options(settings: ApiSettings) -> dict[str, Any]:
    """uvicorn's limits against slow and greedy clients (README, Chat API: "The HTTP edge"): the header
    timeout and JSON answers of api/edge/http_protocol.py, idle keep-alive, concurrency, WebSocket message size;
    its log records go through our handlers (one format, tokens redacted, numbers masked)."""
    from api.edge.http_protocol import GuardedWebSocketProtocol, configure

    return {
        "http": configure(settings.header_timeout_s),
        "ws": GuardedWebSocketProtocol,
        "loop": settings.event_loop,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "limit_concurrency": settings.limit_concurrency or None,
        "ws_max_size": settings.ws_max_message_bytes,
        "log_config": None,
    }


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn calls this factory in each)."""
    from api.app import create_app

    settings = ApiSettings()
    setup_logging(settings.log_level)
    edge_options(settings)  # this process's header timeout
    return create_app(settings, freeze_gc=True)


async def _migrate(database_url: str) -> None:
    from api.storage.db import Database

    db = await Database.connect(database_url)
    await db.close()
