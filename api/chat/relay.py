"""Chat events between worker processes: PostgreSQL LISTEN/NOTIFY on one channel.

With several workers a chat's WebSocket watchers may sit in another process than the one that handled a
message. Every event the hub fans out locally is also sent as a notification; each worker delivers the
notifications of the others to its own sockets. Order is kept per sender (one connection, one queue). A
dropped connection is replaced within ``CHECK_S`` (events in between are not relayed).
PostgreSQL caps a notification at 8000 bytes: a larger event (a very long message) reaches only the
watchers of its own process, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "lisa_chat"
MAX_PAYLOAD = 7900  # bytes; PostgreSQL's limit is 8000
QUEUE_SIZE = 10_000

Deliver = Callable[[str, str | None, dict[str, Any]], None]  # (target "chat" | "managers", chat id, payload)


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://…`` / ``postgres://…`` → what asyncpg connects to."""
    scheme, sep, rest = database_url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else database_url


class PostgresRelay:
    """Publishes this process's chat events and delivers the other processes' (``deliver``) locally."""

    CHECK_S = 2.0

    def __init__(self, database_url: str, deliver: Deliver, name: str = "lisa-chat-relay") -> None:
        """``name``: the connection's application_name prefix in pg_stat_activity (one per area using it)."""
        self._dsn = asyncpg_dsn(database_url)
        self._name = name
        self._deliver = deliver
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._conn: Any = None
        self._sender: asyncio.Task | None = None

    async def start(self) -> None:
        await self._connect()
        self._sender = asyncio.create_task(self._send_forever(), name="chat-relay")

    async def _connect(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            self._dsn, server_settings={"application_name": f"{self._name}-{self.origin}"}
        )
        await conn.add_listener(CHANNEL, self._on_notify)
        self._conn = conn

    async def _reconnect(self) -> None:
        """A dropped connection (database restart, network) is replaced; until then events are not relayed."""
        with contextlib.suppress(Exception):
            await self._conn.close()
        try:
            await self._connect()
            log.info("chat relay reconnected")
        except Exception as exc:  # tried again at the next check
            log.warning("chat relay: reconnect failed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()

    def publish(self, target: str, chat_id: str | None, payload: dict[str, Any]) -> None:
        data = json.dumps({"o": self.origin, "t": target, "c": chat_id, "p": payload}, default=str)
        if len(data.encode()) > MAX_PAYLOAD:
            log.warning(
                "chat event of %d bytes is too large to relay; other workers' watchers miss it", len(data)
            )
            return
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning("chat relay queue full; an event is not relayed")

    async def _send_forever(self) -> None:
        """Send queued events in order; every ``CHECK_S`` without one, make sure the connection still listens."""
        while True:
            try:
                data = await asyncio.wait_for(self._queue.get(), self.CHECK_S)
            except TimeoutError:
                if self._conn.is_closed():
                    await self._reconnect()
                continue
            for attempt in range(2):
                try:
                    await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, data)
                    break
                except Exception as exc:  # a lost notification must not stop the relay
                    log.warning("chat relay: notification failed (%s)", type(exc).__name__)
                    if attempt == 0:
                        await self._reconnect()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, raw: str) -> None:
        try:
            data = json.loads(raw)
            if data["o"] == self.origin:
                return
            self._deliver(data["t"], data["c"], data["p"])
        except Exception:  # one bad notification must not stop the others
            log.exception("chat relay: a notification could not be delivered")
