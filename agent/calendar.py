"""Where inbound bookings are kept, so a slot is never given twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class Booking:
    start: datetime
    end: datetime
    name: str
    service: str
    conversation_id: str = ""
    phone: str = ""


class Calendar(Protocol):
    """Storage of the business's booked slots. The API layer provides a database-backed one."""

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]: ...

    async def add(self, booking: Booking) -> bool:
        """Store the booking; False when it overlaps an existing one (someone was faster)."""
        ...

    async def remove(self, start: datetime, conversation_id: str) -> Booking | None:
        """Release the booking at ``start`` made in conversation ``conversation_id`` (an appointment moved);
        the booking removed, or None when there is none."""
        ...


class InMemoryCalendar:
    """A calendar kept in memory (tests, the terminal chat)."""

    def __init__(self) -> None:
        self._bookings: list[Booking] = []
        self._lock = asyncio.Lock()

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        return [b for b in self._bookings if b.start < end and b.end > start]

    async def add(self, booking: Booking) -> bool:
        async with self._lock:
            if await self.bookings_between(booking.start, booking.end):
                return False
            self._bookings.append(booking)
            return True

    async def remove(self, start: datetime, conversation_id: str) -> Booking | None:
        async with self._lock:
            for booking in self._bookings:
                if booking.start == start and booking.conversation_id == conversation_id:
                    self._bookings.remove(booking)
                    return booking
            return None


class DryRunCalendar:
    """Reads another calendar, writes nothing: for previewing a reply without booking anything."""

    def __init__(self, inner: Calendar) -> None:
        self._inner = inner

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        return await self._inner.bookings_between(start, end)

    async def add(self, booking: Booking) -> bool:
        return not await self._inner.bookings_between(booking.start, booking.end)

    async def remove(self, start: datetime, conversation_id: str) -> Booking | None:
        found = await self._inner.bookings_between(start, start + timedelta(minutes=1))
        return next((b for b in found if b.start == start and b.conversation_id == conversation_id), None)
