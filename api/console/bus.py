"""The console's live events: one bus per process that calls, requests and chats publish to.

Each console page holds one server-sent-events stream (:meth:`LiveBus.subscribe`). Events published here
also go to the other worker processes through the PostgreSQL relay of the chat area (target ``console``),
except those that travel on their own already (chat events: the chat hub relays them). A subscriber that
does not keep up loses its backlog and gets one ``resync`` event (the page reloads its lists).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

QUEUE_SIZE = 512
TARGET = "console"


class Relay(Protocol):
    def publish(self, target: str, chat_id: str | None, payload: dict[str, Any]) -> None: ...


class LiveBus:
    """Fans events out to this process's console streams (and, with a relay, to the other workers')."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.relay: Relay | None = None
        self.listeners: list[Any] = []  # (event) -> None, e.g. the counters' refresher

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any], *, relay: bool = True) -> None:
        """Send ``{"kind": kind, "at": now, **data}`` to every console here (and to other workers)."""
        event = {"kind": kind, "at": datetime.now(UTC).isoformat(timespec="milliseconds"), **data}
        self._here(event)
        if relay and self.relay is not None:
            self.relay.publish(TARGET, None, event)

    def deliver_relayed(self, target: str, _chat_id: str | None, payload: dict[str, Any]) -> None:
        """An event of another worker (relay callback); chat-area notifications are not ours."""
        if target == TARGET:
            self._here(payload)

    def _here(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("console stream does not keep up: its backlog is dropped (resync)")
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait({"kind": "resync"})
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a listener must not stop the fan-out
                log.exception("console bus listener failed")

    def close(self) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait({"kind": "bye"})
        self._subscribers.clear()
