"""Carriers that stand in for the phone network at the ``Carrier`` boundary."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from telephony.carrier import CarrierError


@dataclass
class RecordingCarrier:
    """Records what the app asked of the network (calls placed, hang-ups, transfers); the test plays the network
    by reporting statuses itself (as Twilio's status callbacks do). ``fail``: placing a call raises."""

    name: str = "recording"
    placed: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hung_up: list[str] = field(default_factory=list)
    transfers: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def place_call(self, to: str, parameters: dict[str, str]) -> str:
        if self.fail:
            raise ConnectionError("carrier unreachable")
        self.placed.append((to, dict(parameters)))
        return f"CA{next(self._ids):032d}"

    async def hangup(self, call_sid: str) -> None:
        self.hung_up.append(call_sid)

    async def transfer(self, call_sid: str, number: str) -> None:
        self.transfers.append((call_sid, number))

    async def close(self) -> None:
        pass


@dataclass(kw_only=True)
class RefusingCarrier(RecordingCarrier):
    """A :class:`RecordingCarrier` that refuses every transfer after recording it: a carrier error with ``status``,
    as Twilio answers for a call it will not redirect."""

    name: str = "refusing"
    status: int = 503

    async def transfer(self, call_sid: str, number: str) -> None:
        await super().transfer(call_sid, number)
        raise CarrierError("Call is not in-progress. Cannot redirect.", status=self.status, code=21220)
