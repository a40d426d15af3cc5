"""The telephony provider interface: place, end and transfer calls (Twilio, or the embedded loopback)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class CarrierError(RuntimeError):
    """A carrier refused or failed a request (message readable, no secrets; ``status``/``code`` if known)."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@runtime_checkable
class Carrier(Protocol):
    name: str

    async def place_call(self, to: str, parameters: dict[str, str]) -> str:
        """Dial ``to`` (E.164); the answered call streams to our ``/twilio/media`` with ``parameters`` as
        its custom ``<Parameter>``s. Returns the call sid; progress arrives at the call status listeners."""
        ...

    async def hangup(self, call_sid: str) -> None:
        """End the call (harmless if it already ended)."""
        ...

    async def transfer(self, call_sid: str, number: str) -> None:
        """Hand the live call to ``number`` (``<Dial>``); the media stream ends."""
        ...

    async def close(self) -> None:
        """Release resources at app shutdown."""
        ...
