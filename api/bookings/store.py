"""The business calendar kept in the database, so a slot booked by one conversation is not given twice."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from agent.calendar import Booking
from api.storage import Database
from api.storage.db import utcnow


def _utc(moment: datetime) -> str:
    """Slots are stored in UTC so that string comparison orders them, across DST changes too."""
    return moment.astimezone(UTC).isoformat()


# pysqlite opens the transaction only at the INSERT, so on SQLite the clash check and the insert are
# serialised in-process (one lock per database); PostgreSQL uses an advisory transaction lock.
_SQLITE_LOCKS: weakref.WeakKeyDictionary[Database, asyncio.Lock] = weakref.WeakKeyDictionary()


def _booking(row: Mapping[str, Any]) -> Booking:
    """A booking from its database row."""
    return Booking(
        start=datetime.fromisoformat(row["start_at"]),
        end=datetime.fromisoformat(row["end_at"]),
        name=row["name"],
        service=row["service"],
        conversation_id=row["conversation_id"] or "",
        phone=row["phone"] or "",
    )


class DatabaseCalendar:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def bookings_between(self, start: datetime, end: datetime) -> list[Booking]:
        rows = await self.db.fetchall(
            "SELECT * FROM bookings WHERE start_at < :end AND end_at > :start",
            {"start": _utc(start), "end": _utc(end)},
        )
        return [_booking(r) for r in rows]

    async def remove(self, start: datetime, conversation_id: str) -> Booking | None:
        """Release the booking at ``start`` made in conversation ``conversation_id``; None when there is none."""
        if self.db.dialect != "sqlite":
            return await self._remove(start, conversation_id)
        async with _SQLITE_LOCKS.setdefault(self.db, asyncio.Lock()):
            return await self._remove(start, conversation_id)

    async def _remove(self, start: datetime, conversation_id: str) -> Booking | None:
        async with self.db.transaction() as conn:
            found = await conn.execute(
                text("SELECT * FROM bookings WHERE start_at = :start AND conversation_id = :cid"),
                {"start": _utc(start), "cid": conversation_id},
            )
            row = found.mappings().first()
            if row is None:
                return None
            await conn.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": row["id"]})
            return _booking(dict(row))

    async def add(self, booking: Booking) -> bool:
        if self.db.dialect != "sqlite":
            return await self._add(booking)
        lock = _SQLITE_LOCKS.setdefault(self.db, asyncio.Lock())
        async with lock:
            return await self._add(booking)

    async def _add(self, booking: Booking) -> bool:
        async with self.db.transaction() as conn:
            if self.db.dialect == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(4242002)"))
            clash = await conn.execute(
                text("SELECT 1 FROM bookings WHERE start_at < :end AND end_at > :start"),
                {"start": _utc(booking.start), "end": _utc(booking.end)},
            )
            if clash.first():
                return False
            await conn.execute(
                text(
                    "INSERT INTO bookings (id, start_at, end_at, name, service, conversation_id, phone, created_at)"
                    " VALUES (:id, :start, :end, :name, :service, :cid, :phone, :now)"
                ),
                {
                    "id": str(uuid.uuid4()),
                    "start": _utc(booking.start),
                    "end": _utc(booking.end),
                    "name": booking.name,
                    "service": booking.service,
                    "cid": booking.conversation_id,
                    "phone": booking.phone,
                    "now": utcnow(),
                },
            )
            return True
