"""Call hooks (the pipeline's ``on_call_started`` / ``on_conversation_event`` / ``on_call_ended`` contract, as
outbound requests use it) that record what they were told, or fail on purpose."""

from __future__ import annotations

import asyncio
from typing import Any


class RecordingHooks:
    """Records what the pipeline reported, per call sid: ``started`` in order, ``events`` (the conversation
    events) and ``ended`` (the call result)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.events: dict[str, list[Any]] = {}
        self.ended: dict[str, Any] = {}

    async def on_call_started(self, call: Any, conversation: Any) -> None:
        self.started.append(call.call_sid)
        self.events.setdefault(call.call_sid, [])

    async def on_conversation_event(self, call: Any, event: Any) -> None:
        self.events.setdefault(call.call_sid, []).append(event)

    async def on_call_ended(self, call: Any, result: Any) -> None:
        self.ended[call.call_sid] = result

    async def ended_of(self, *call_sids: str, timeout_s: float = 10.0) -> dict[str, Any]:
        """The call results of ``call_sids`` once ``on_call_ended`` has run for all of them (or ``timeout_s``
        passed): it runs beside the call record's write, so a stored end does not mean it has run yet."""
        for _ in range(int(timeout_s / 0.05)):
            if all(sid in self.ended for sid in call_sids):
                break
            await asyncio.sleep(0.05)
        return {sid: self.ended.get(sid) for sid in call_sids}

    def event_types(self, call_sid: str) -> list[str]:
        """The types of the events reported for ``call_sid``, in order."""
        return [event.type for event in self.events.get(call_sid, [])]


class ExplodingHooks:
    """Raise on everything for the calls in ``bad``; ``calls`` counts every hook call."""

    def __init__(self) -> None:
        self.bad: set[str] = set()
        self.calls = 0

    def _boom(self, call: Any) -> None:
        self.calls += 1
        if call.call_sid in self.bad:
            raise RuntimeError("hook exploded (injected)")

    async def on_call_started(self, call: Any, conversation: Any) -> None:
        self._boom(call)

    async def on_conversation_event(self, call: Any, event: Any) -> None:
        self._boom(call)

    async def on_call_ended(self, call: Any, result: Any) -> None:
        self._boom(call)
