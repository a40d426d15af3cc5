"""The far end of the loopback carrier's calls: the Twilio side of each media stream and the party on it.

:class:`SimulatedFarEnd` is what :class:`telephony.loopback.LoopbackCarrier` is given (its ``far_end``): it opens
a call's stream as Twilio would (:class:`~simulation.media_stream_client.MediaStreamClient`) and runs the
party registered for the number on it — an ``async (call: MediaStreamClient) -> None``, e.g.
:class:`~simulation.scripted_party.ScriptedParty`. When the party returns, it hangs up; when the stream ends
first (Lisa hung up), the party has :data:`PARTY_GRACE_S` to notice before it is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from simulation.media_stream_client import MediaStreamClient

log = logging.getLogger(__name__)

# How long a party may go on after its call was ended from our side before it is cancelled.
PARTY_GRACE_S = 3.0


class SimulatedFarEnd:
    """Twilio's side of the loopback carrier's streams, with a simulated party on each answered call."""

    def connect(
        self, url: str, *, custom_parameters: dict[str, str], call_sid: str, **connect: Any
    ) -> AbstractAsyncContextManager[MediaStreamClient]:
        """The stream of one call (:meth:`MediaStreamClient.connect` with its options: headers, numbers…)."""
        return MediaStreamClient.connect(
            url, custom_parameters=custom_parameters, call_sid=call_sid, **connect
        )

    async def converse(
        self,
        call: MediaStreamClient,
        party: Callable[[MediaStreamClient], Awaitable[None]],
        answered: Callable[[], Awaitable[None]],
    ) -> None:
        """Run ``party`` on ``call`` until it returns, or until the call closed and the grace period is over;
        ``answered`` is awaited once the party runs (the carrier reports ``in-progress``). A failing party is
        logged, never raised."""

        async def play() -> None:  # a task needs a coroutine; ``party`` may return any awaitable
            await party(call)

        party_task = asyncio.create_task(play(), name=f"loopback-party-{call.call_sid}")
        try:
            await answered()
            closed = asyncio.create_task(call.wait_closed())
            await asyncio.wait({party_task, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not party_task.done():  # the stream ended first (Lisa hung up): let the party notice
                done, _ = await asyncio.wait({party_task}, timeout=PARTY_GRACE_S)
                if not done:
                    party_task.cancel()
            closed.cancel()
            with contextlib.suppress(BaseException):
                await party_task
            if party_task.done() and not party_task.cancelled() and party_task.exception():
                exc = party_task.exception()
                log.warning("loopback call %s: party failed: %r", call.call_sid, exc)
        finally:
            if not party_task.done():
                party_task.cancel()
