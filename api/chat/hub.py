"""Live fan-out of chat events to WebSocket clients: the users of each chat and every manager.

Each connected socket gets its own bounded outbox and writer task, so a slow or broken client is dropped
without holding up anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

if TYPE_CHECKING:
    from api.chat.relay import PostgresRelay

log = logging.getLogger(__name__)

OUTBOX_SIZE = 256
SEND_TIMEOUT_S = 10.0
CLOSE_TOO_SLOW = 1013  # "try again later": the server sheds a client that does not keep up


def frame_text(payload: dict[str, Any], label: str = "") -> str | None:
    """A payload as a text frame. Text that is not valid Unicode (an unpaired surrogate) goes out escaped, so
    the frame stays valid UTF-8; a payload that cannot be serialised at all is skipped (None) with a warning.
    Either way only that payload is affected: the socket, and everyone else's, stays open."""
    try:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":"))  # \ud800 escapes: ASCII, valid JSON
    except (TypeError, ValueError) as exc:
        log.warning("websocket %s: skipped an event that cannot be sent: %s", label, exc)
        return None


class Subscriber:
    """One WebSocket that receives events through its own queue."""

    def __init__(self, websocket: WebSocket, label: str) -> None:
        self.websocket = websocket
        self.label = label
        self.outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(OUTBOX_SIZE)
        self.closed = asyncio.Event()
        self._close_with: tuple[int, str] = (1000, "")
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{label}")

    def offer(self, payload: dict[str, Any]) -> bool:
        """Queue a broadcast payload; False (and the socket is closed with a reason) when its outbox is full
        or it is gone: a reader that does not keep up never holds up the others."""
        if self.closed.is_set():
            return False
        try:
            self.outbox.put_nowait(payload)
            return True
        except asyncio.QueueFull:
            log.warning("dropping websocket %s: it does not keep up", self.label)
            self.close(CLOSE_TOO_SLOW, "too slow: events could not be delivered")
            return False

    async def answer(self, payload: dict[str, Any]) -> bool:
        """Queue the answer to the client's own frame (a pong, an error), waiting for room: a client that
        sends faster than it reads is slowed down, not dropped; one that stops reading is closed with a
        reason after ``SEND_TIMEOUT_S``."""
        if self.closed.is_set():
            return False
        try:
            await asyncio.wait_for(self.outbox.put(payload), SEND_TIMEOUT_S)
            return True
        except TimeoutError:
            log.warning("dropping websocket %s: it does not read its answers", self.label)
            self.close(CLOSE_TOO_SLOW, "too slow: answers could not be delivered")
            return False

    async def _write(self) -> None:
        try:
            while True:
                payload = await self.outbox.get()
                if payload is None:
                    break
                if (text := frame_text(payload, self.label)) is not None:
                    await asyncio.wait_for(self.websocket.send_text(text), SEND_TIMEOUT_S)
        except Exception as exc:  # any send failure just drops this client
            log.info("websocket %s dropped: %s", self.label, type(exc).__name__)
        finally:
            self.closed.set()
            code, reason = self._close_with
            with contextlib.suppress(Exception):
                await self.websocket.close(code=code, reason=reason)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Stop writing; the writer closes the socket with ``code`` and ``reason``."""
        self._close_with = (code, reason)
        self.closed.set()
        self._writer.cancel()


class ChatHub:
    """Who is listening: users per chat id, and managers (every event of every chat)."""

    def __init__(self) -> None:
        self.chats: dict[str, set[Subscriber]] = {}
        self.managers: set[Subscriber] = set()
        self.relay: PostgresRelay | None = None  # other worker processes (api.chat.relay)
        self.taps: list[Callable[[dict[str, Any]], None]] = []  # told every manager event (the console)

    def join_chat(self, chat_id: str, websocket: WebSocket) -> Subscriber:
        sub = Subscriber(websocket, f"chat:{chat_id[:8]}")
        self.chats.setdefault(chat_id, set()).add(sub)
        return sub

    def leave_chat(self, chat_id: str, sub: Subscriber) -> None:
        subs = self.chats.get(chat_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.chats[chat_id]
        sub.close()

    def join_managers(self, websocket: WebSocket) -> Subscriber:
        sub = Subscriber(websocket, "manager")
        self.managers.add(sub)
        return sub

    def leave_managers(self, sub: Subscriber) -> None:
        self.managers.discard(sub)
        sub.close()

    def to_chat(self, chat_id: str, payload: dict[str, Any]) -> None:
        self._chat_here(chat_id, payload)
        if self.relay is not None:
            self.relay.publish("chat", chat_id, payload)

    def to_managers(self, payload: dict[str, Any]) -> None:
        self._managers_here(payload)
        if self.relay is not None:
            self.relay.publish("managers", None, payload)

    def deliver_relayed(self, target: str, chat_id: str | None, payload: dict[str, Any]) -> None:
        """An event another worker process fanned out: to this process's sockets only."""
        if target == "chat" and chat_id:
            self._chat_here(chat_id, payload)
        elif target == "managers":
            self._managers_here(payload)

    def _chat_here(self, chat_id: str, payload: dict[str, Any]) -> None:
        for sub in list(self.chats.get(chat_id, ())):
            if not sub.offer(payload):
                self.leave_chat(chat_id, sub)

    def _managers_here(self, payload: dict[str, Any]) -> None:
        for sub in list(self.managers):
            if not sub.offer(payload):
                self.leave_managers(sub)
        for tap in list(self.taps):
            try:
                tap(payload)
            except Exception:  # a tap must not stop the fan-out
                log.exception("chat hub tap failed")

    def listeners(self, chat_id: str) -> int:
        return len(self.chats.get(chat_id, ()))

    async def close_all(self) -> None:
        subs = [s for group in self.chats.values() for s in group] + list(self.managers)
        self.chats.clear()
        self.managers.clear()
        for sub in subs:
            sub.close()
