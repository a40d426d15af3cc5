"""Call status changes, from Twilio's status callbacks or the loopback carrier, to the app's listeners.

A :class:`StatusBus` holds the listeners (the app has one, ``AppState.telephony.statuses``); each is called as
``await listener(call_sid, status, info)`` with Twilio's CallStatus values and ``info`` holding ``AnsweredBy``
and the call's parameters (``request_id``…). A failing listener is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)

CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"}
)
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

StatusListener = Callable[[str, str, dict[str, Any]], Awaitable[None]]


class StatusBus:
    """The call status listeners, told in the order they were added."""

    def __init__(self, listeners: Iterable[StatusListener] = ()) -> None:
        self.listeners: list[StatusListener] = list(listeners)

    def add(self, listener: StatusListener) -> None:
        self.listeners.append(listener)

    async def notify(self, call_sid: str, status: str, info: dict[str, Any]) -> None:
        """Tell every listener; log the change with numbers masked."""
        log.info(
            "call %s %s%s%s",
            call_sid,
            status,
            f" answered_by={info['AnsweredBy']}" if info.get("AnsweredBy") else "",
            f" to={mask_phone(info['To'])}" if info.get("To") else "",
        )
        for listener in list(self.listeners):
            try:
                await listener(call_sid, status, info)
            except Exception:  # one listener must not break the others
                log.exception("call status listener %r failed for %s %s", listener, call_sid, status)
