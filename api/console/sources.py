"""Where the console's live events come from: call hooks and call statuses, the calls running in this
process (their transcript line by line and Lisa's current step), request changes and the chat hub.

Nothing here changes what it listens to: the call hooks and status listener are registered like the request
processor's; request changes come from the request store's ``listeners``; chat events from the hub's
``taps`` (every event a manager socket gets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from api.console.bus import LiveBus
from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)


def lisa_step(session: Any) -> str:
    """What a running call is doing now, in a few words."""
    if getattr(session, "caller_speaking", False):
        return "caller speaking"
    if getattr(session, "generating", False):
        return "Lisa thinking"
    if getattr(session, "speech_in_flight", None):
        return "Lisa speaking"
    return "listening"


class CallFeed:
    """Call hooks + a status listener publishing ``call`` / ``call_status`` / ``call_event`` events, and a
    sampler publishing ``call_live`` (new or changed transcript lines, Lisa's step) of this process's calls
    while a console watches (one here; with a relay, other workers' consoles may, so it always samples)."""

    def __init__(self, bus: LiveBus, sample_s: float = 0.25) -> None:
        self.bus = bus
        self.sample_s = sample_s
        self._sent: dict[str, tuple[list[dict[str, Any]], str]] = {}  # call sid -> (lines, step) published
        self._task: asyncio.Task[None] | None = None

    # --- call hooks (pipelines/call_hooks.py) ---------------------------------------------------------
    async def on_call_started(self, call: Any, conversation: Any) -> None:
        self.bus.publish(
            "call",
            {
                "call_sid": call.call_sid,
                "state": "in_progress",
                "direction": call.direction,
                "from_masked": mask_phone(call.parameters.get("from")),
                "to_masked": mask_phone(call.parameters.get("to")),
                "request_id": call.request_id,
                "language": str(getattr(conversation, "language", "")),
            },
        )

    async def on_conversation_event(self, call: Any, event: Any) -> None:
        self.bus.publish(
            "call_event", {"call_sid": call.call_sid, "type": event.type, "message": event.message}
        )

    async def on_call_ended(self, call: Any, result: Any) -> None:
        self._flush(call.call_sid)
        self._sent.pop(call.call_sid, None)
        outcome = getattr(getattr(result, "conversation", None), "outcome", None)
        self.bus.publish(
            "call",
            {
                "call_sid": call.call_sid,
                "state": "ended",
                "direction": call.direction,
                "request_id": call.request_id,
                "ended_by": result.ended_by,
                "reason": result.reason,
                "outcome": str(getattr(outcome, "status", "")) or None,
            },
        )

    async def on_call_status(self, call_sid: str, status: str, info: dict[str, Any]) -> None:
        self.bus.publish(
            "call_status",
            {"call_sid": call_sid, "status": status, "request_id": info.get("request_id") or None},
        )

    # --- the calls running here -----------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._sample_forever(), name="console-call-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @staticmethod
    def _active() -> dict[str, Any]:
        from pipelines.call_pipeline import ACTIVE_CALLS

        return ACTIVE_CALLS

    def live(self, call_sid: str) -> dict[str, Any] | None:
        """The running call's transcript so far and step (None: not running in this process)."""
        session = self._active().get(call_sid)
        if session is None:
            return None
        return {"call_sid": call_sid, "step": lisa_step(session), "lines": session.final_transcript()}

    def steps(self) -> dict[str, str]:
        return {sid: lisa_step(s) for sid, s in list(self._active().items())}

    def _flush(self, call_sid: str) -> None:
        session = self._active().get(call_sid)
        if session is None:
            return
        try:
            lines, step = session.final_transcript(), lisa_step(session)
        except Exception:  # a call changing under us is looked at again next time
            return
        sent_lines, sent_step = self._sent.get(call_sid, ([], ""))
        if lines == sent_lines and step == sent_step:
            return
        first = next(
            (i for i, (a, b) in enumerate(zip(lines, sent_lines, strict=False)) if a != b),
            min(len(lines), len(sent_lines)),
        )
        self._sent[call_sid] = (lines, step)
        self.bus.publish(
            "call_live", {"call_sid": call_sid, "step": step, "from": first, "lines": lines[first:]}
        )

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sample_s)
            if not self.bus.subscribers and self.bus.relay is None:
                self._sent.clear()  # nobody watches here, nor elsewhere: a console that comes gets all lines
                continue
            try:
                for call_sid in list(self._active()):
                    self._flush(call_sid)
                for gone in set(self._sent) - set(self._active()):
                    self._sent.pop(gone, None)
            except Exception:  # the sampler keeps going
                log.exception("console call sampler failed")


class RequestFeed:
    """Publishes ``request`` events (id, status, attempts) when the request store writes a request."""

    def __init__(self, bus: LiveBus, store: Any) -> None:
        self.bus = bus
        self.store = store
        self._tasks: set[asyncio.Task[None]] = set()

    def changed(self, request_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(request_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, request_id: str) -> None:
        try:
            row = await self.store.get(request_id)
        except Exception:  # the next change publishes it again
            log.warning("console: request %s could not be read", request_id)
            return
        if row is not None:
            self.bus.publish(
                "request",
                {
                    "request_id": request_id,
                    "status": row["status"],
                    "attempts": row["attempts"],
                    "call_sid": row["call_sid"],
                    "title": row["title"],
                },
            )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def chat_tap(bus: LiveBus) -> Callable[[dict[str, Any]], None]:
    """A chat hub tap: every manager event becomes a ``chat`` event (not relayed: the hub relays its own)."""

    def tap(payload: dict[str, Any]) -> None:
        bus.publish("chat", {"event": payload}, relay=False)

    return tap
