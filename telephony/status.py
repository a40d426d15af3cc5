"""Call status changes, from Twilio's status callbacks or the loopback carrier, to the app's listeners.

Listeners live in ``state.services["call_status_listeners"]`` and are called as
``await listener(call_sid, status, info)`` with Twilio's CallStatus values and ``info`` holding ``AnsweredBy``
and the call's parameters (``request_id``…). A failing listener is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)

CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"}
)
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

StatusListener = Callable[[str, str, dict[str, Any]], Awaitable[None]]


def listeners(services: dict[str, Any]) -> list[StatusListener]:
    return services.setdefault("call_status_listeners", [])


async def notify(services: dict[str, Any], call_sid: str, status: str, info: dict[str, Any]) -> None:
    """Tell every listener; log the change with numbers masked."""
    log.info(
        "call %s %s%s%s",
        call_sid,
        status,
        f" answered_by={info['AnsweredBy']}" if info.get("AnsweredBy") else "",
        f" to={mask_phone(info['To'])}" if info.get("To") else "",
    )
    for listener in list(listeners(services)):
        try:
            await listener(call_sid, status, info)
        except Exception:  # one listener must not break the others
            log.exception("call status listener %r failed for %s %s", listener, call_sid, status)
