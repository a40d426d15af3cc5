"""Our own database's copy of every request: rows, events, due call jobs and the outbox, in one place.

Every change is written in one transaction together with its outbox entries (when a remote outcome
store such as Supabase is configured), so a change is either recorded completely or not at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.storage import Database
from api.storage.db import Row, utcnow

log = logging.getLogger(__name__)

_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A strictly increasing number (microseconds since the epoch) that orders events and outbox entries."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns() // 1000)
        return _last_seq


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


REMOTE_FIELDS = (
    "id",
    "user_id",
    "title",
    "description",
    "callback_number",
    "number_to_call",
    "preferred_time",
    "user_profile",
    "language",
    "status",
    "summary",
    "appointment",
    "updated_at",
)


def remote_row(row: Row) -> dict[str, Any]:
    """The request row as the remote ``requests`` table has it (user_profile as JSON, not text)."""
    out = {k: row.get(k) for k in REMOTE_FIELDS}
    out["user_profile"] = json.loads(row.get("user_profile") or "{}")
    return out


@dataclass(frozen=True)
class Quota:
    """At most ``limit`` requests with ``column`` = ``value`` created in the last ``window_s`` seconds."""

    column: str  # "user_id" | "number_to_call"
    value: str
    limit: int
    what: str  # for the message: "requests of this user", "requests to call this number"
    window_s: float = 86_400.0


class QuotaExceeded(Exception):
    """A :class:`Quota` is spent; ``retry_after_s``: until the oldest counted request leaves the window."""

    def __init__(self, quota: Quota, retry_after_s: float) -> None:
        hours = quota.window_s / 3600
        super().__init__(f"rate limit: at most {quota.limit} {quota.what} per {hours:g} h; retry later")
        self.quota = quota
        self.retry_after_s = retry_after_s


_INSERT_JOB = (
    "INSERT INTO request_jobs (id, request_id, due_at, attempt, created_at) "
    "VALUES (:id, :request_id, :due_at, :attempt, :created_at)"
)


def _job_params(request_id: str, due_at: datetime, attempt: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "request_id": request_id,
        "due_at": iso_utc(due_at),
        "attempt": attempt,
        "created_at": utcnow(),
    }


class RequestStore:
    """Requests, events, jobs and outbox in the app database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database, remote: bool = False) -> None:
        self.db = db
        self.remote = remote  # enqueue every change for the remote outcome store
        self._quota_lock = asyncio.Lock()  # count-then-insert is one step in this process
        self.listeners: list[Callable[[str], None]] = []  # told a request's id once its change is stored

    def _changed(self, request_id: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(request_id)
            except Exception:  # a listener (the console) must not fail the write
                log.exception("request store listener failed")

    # --- requests -----------------------------------------------------------------------------
    async def create(
        self,
        row: dict[str, Any],
        events: list[tuple[str, str]],
        job_due: datetime | None = None,
        quotas: tuple[Quota, ...] = (),
    ) -> bool:
        """Insert a new request with its first events (and its first call job, due at ``job_due``) in one
        transaction; False when the id exists already. Raises :class:`QuotaExceeded` (nothing stored) when
        one of ``quotas`` is spent; they are counted in the same transaction (on PostgreSQL under an advisory
        lock per counted value), so the limit holds across workers and instances."""
        if quotas:
            async with self._quota_lock:
                return await self._create(row, events, job_due, quotas)
        return await self._create(row, events, job_due, quotas)

    async def _create(
        self,
        row: dict[str, Any],
        events: list[tuple[str, str]],
        job_due: datetime | None,
        quotas: tuple[Quota, ...],
    ) -> bool:
        now = utcnow()
        row = {**row, "created_at": now, "updated_at": now}
        row["user_profile"] = json.dumps(row.get("user_profile") or {}, ensure_ascii=False)
        columns = ", ".join(row)
        values = ", ".join(f":{k}" for k in row)
        try:
            async with self.db.transaction() as conn:
                for quota in quotas:
                    await self._check_quota(conn, quota)
                await conn.execute(text(f"INSERT INTO requests ({columns}) VALUES ({values})"), row)
                if self.remote:
                    await self._enqueue(conn, "upsert_request", remote_row(row))
                for event_type, message in events:
                    await self._event(conn, row["id"], event_type, message)
                if job_due is not None:
                    await conn.execute(text(_INSERT_JOB), _job_params(row["id"], job_due, 1))
        except IntegrityError:
            return False
        self._changed(row["id"])
        return True

    async def _check_quota(self, conn: AsyncConnection, quota: Quota) -> None:
        if quota.limit <= 0:
            return
        if self.db.dialect == "postgresql":
            key = f"lisa-quota:{quota.column}:{quota.value}"
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        now = datetime.now(UTC)
        since = iso_utc(now - timedelta(seconds=quota.window_s))
        assert quota.column in ("user_id", "number_to_call")
        result = await conn.execute(
            text(
                f"SELECT COUNT(*) AS n, MIN(created_at) AS first FROM requests "
                f"WHERE {quota.column} = :value AND created_at >= :since"
            ),
            {"value": quota.value, "since": since},
        )
        count, first = result.one()
        if count >= quota.limit:
            leaves = datetime.fromisoformat(first) + timedelta(seconds=quota.window_s)
            raise QuotaExceeded(quota, max((leaves - now).total_seconds(), 1.0))

    async def newest(self, user_id: str | None, limit: int = 50) -> list[Row]:
        """Newest first; all users when ``user_id`` is None."""
        where = "WHERE user_id = :user_id " if user_id is not None else ""
        return await self.db.fetchall(
            f"SELECT * FROM requests {where}ORDER BY created_at DESC LIMIT :limit",
            {"user_id": user_id, "limit": limit} if user_id is not None else {"limit": limit},
        )

    async def get(self, request_id: str) -> Row | None:
        return await self.db.fetchone("SELECT * FROM requests WHERE id = :id", {"id": request_id})

    async def update(
        self,
        request_id: str,
        fields: dict[str, Any],
        events: Sequence[tuple[str, str]] = (),
        unless_status: frozenset[str] | set[str] = frozenset(),
    ) -> bool:
        """Change fields (``updated_at`` too) and add events in one transaction.

        Nothing happens (False) when the request's status is in ``unless_status`` (e.g. canceled)."""
        fields = {**fields, "updated_at": utcnow()}
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        params: dict[str, Any] = {**fields, "_id": request_id}
        guard = ""
        if unless_status:
            names = [f"_s{i}" for i in range(len(unless_status))]
            params.update(dict(zip(names, sorted(unless_status), strict=True)))
            guard = f" AND status NOT IN ({', '.join(':' + n for n in names)})"
        async with self.db.transaction() as conn:
            result = await conn.execute(text(f"UPDATE requests SET {sets} WHERE id = :_id{guard}"), params)
            if result.rowcount != 1:
                return False
            if self.remote:
                remote = {k: v for k, v in fields.items() if k in REMOTE_FIELDS}
                await self._enqueue(conn, "update_request", {"id": request_id, "fields": remote})
            for event_type, message in events:
                await self._event(conn, request_id, event_type, message)
        self._changed(request_id)
        return True

    async def add_event(self, request_id: str, event_type: str, message: str) -> None:
        async with self.db.transaction() as conn:
            await self._event(conn, request_id, event_type, message)
        self._changed(request_id)

    async def events(self, request_id: str) -> list[Row]:
        return await self.db.fetchall(
            "SELECT id, request_id, type, message, created_at FROM request_events "
            "WHERE request_id = :id ORDER BY seq",
            {"id": request_id},
        )

    async def _event(self, conn: AsyncConnection, request_id: str, event_type: str, message: str) -> None:
        event = {
            "id": str(uuid.uuid4()),
            "request_id": request_id,
            "seq": next_seq(),
            "type": event_type,
            "message": message,
            "created_at": utcnow(),
        }
        await conn.execute(
            text(
                "INSERT INTO request_events (id, request_id, seq, type, message, created_at) "
                "VALUES (:id, :request_id, :seq, :type, :message, :created_at)"
            ),
            event,
        )
        if self.remote:
            await self._enqueue(conn, "insert_event", {k: v for k, v in event.items() if k != "seq"})

    # --- jobs ---------------------------------------------------------------------------------
    async def add_job(self, request_id: str, due_at: datetime, attempt: int) -> str:
        params = _job_params(request_id, due_at, attempt)
        await self.db.execute(_INSERT_JOB, params)
        return params["id"]

    async def open_job(self, request_id: str) -> Row | None:
        """The job of the call in flight for this request (claimed, not finished), if any."""
        return await self.db.fetchone(
            "SELECT * FROM request_jobs WHERE request_id = :id AND done_at IS NULL "
            "AND claimed_by IS NOT NULL ORDER BY created_at DESC LIMIT 1",
            {"id": request_id},
        )

    async def next_job(self, request_id: str) -> Row | None:
        """The request's next call waiting to be placed (not finished, not claimed), if any."""
        return await self.db.fetchone(
            "SELECT id, due_at, attempt FROM request_jobs WHERE request_id = :id AND done_at IS NULL "
            "AND claimed_by IS NULL ORDER BY due_at LIMIT 1",
            {"id": request_id},
        )

    async def set_job_call_sid(self, job_id: str, call_sid: str) -> None:
        await self.db.execute(
            "UPDATE request_jobs SET call_sid = :sid WHERE id = :id AND call_sid IS NULL",
            {"sid": call_sid, "id": job_id},
        )

    async def request_for_call(self, call_sid: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT request_id FROM request_jobs WHERE call_sid = :sid LIMIT 1", {"sid": call_sid}
        )
        return row["request_id"] if row else None

    async def reschedule_job(self, job_id: str, due_at: datetime) -> None:
        """Give a claimed job back, due later (it came due outside business hours)."""
        await self.db.execute(
            "UPDATE request_jobs SET due_at = :due, claimed_by = NULL, claimed_at = NULL WHERE id = :id",
            {"due": iso_utc(due_at), "id": job_id},
        )

    async def due_jobs(self, now: datetime, stale_before: datetime, limit: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM request_jobs WHERE done_at IS NULL AND due_at <= :now "
            "AND (claimed_by IS NULL OR claimed_at < :stale) ORDER BY due_at LIMIT :limit",
            {"now": iso_utc(now), "stale": iso_utc(stale_before), "limit": limit},
        )

    async def claim(self, job: Row, owner: str, now: datetime, stale_before: datetime) -> bool:
        """Take a due job for this instance; exactly one instance wins (atomic conditional UPDATE).

        A job claimed by an instance that died (claim older than ``stale_before``) may be taken over."""
        params = {"owner": owner, "now": iso_utc(now), "id": job["id"]}
        if job["claimed_by"] is None:
            guard = "claimed_by IS NULL"
        else:
            guard = "claimed_by = :prev AND claimed_at = :prev_at AND claimed_at < :stale"
            params.update(prev=job["claimed_by"], prev_at=job["claimed_at"], stale=iso_utc(stale_before))
        changed = await self.db.execute(
            f"UPDATE request_jobs SET claimed_by = :owner, claimed_at = :now "
            f"WHERE id = :id AND done_at IS NULL AND {guard}",
            params,
        )
        return changed == 1

    async def finish_job(self, job_id: str, result: str) -> bool:
        """Mark a job done; True only for the one caller that actually finished it."""
        return (
            await self.db.execute(
                "UPDATE request_jobs SET done_at = :now, result = :result WHERE id = :id AND done_at IS NULL",
                {"now": utcnow(), "result": result, "id": job_id},
            )
            == 1
        )

    async def cancel_jobs(self, request_id: str) -> int:
        return await self.db.execute(
            "UPDATE request_jobs SET done_at = :now, result = 'canceled' "
            "WHERE request_id = :id AND done_at IS NULL AND claimed_by IS NULL",
            {"now": utcnow(), "id": request_id},
        )

    async def jobs(self, request_id: str) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM request_jobs WHERE request_id = :id ORDER BY created_at", {"id": request_id}
        )

    # --- outbox -------------------------------------------------------------------------------
    async def _enqueue(self, conn: AsyncConnection, op: str, payload: dict[str, Any]) -> None:
        await conn.execute(
            text(
                "INSERT INTO request_outbox (id, seq, op, payload, created_at) "
                "VALUES (:id, :seq, :op, :payload, :now)"
            ),
            {
                "id": str(uuid.uuid4()),
                "seq": next_seq(),
                "op": op,
                "payload": json.dumps(payload, ensure_ascii=False, default=str),
                "now": utcnow(),
            },
        )

    async def pending_outbox(self, limit: int = 100) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM request_outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT :limit",
            {"limit": limit},
        )

    async def outbox_delivered(self, entry_id: str) -> None:
        await self.db.execute(
            "UPDATE request_outbox SET delivered_at = :now WHERE id = :id", {"now": utcnow(), "id": entry_id}
        )

    async def outbox_set_aside(self, entry_id: str, error: str) -> None:
        """Stop delivering an entry the remote store keeps rejecting (kept, with its error, for inspection)."""
        await self.db.execute(
            "UPDATE request_outbox SET delivered_at = :now, attempts = attempts + 1, last_error = :e WHERE id = :id",
            {"now": utcnow(), "e": f"set aside: {error}"[:500], "id": entry_id},
        )

    async def outbox_failed(self, entry_id: str, error: str) -> None:
        await self.db.execute(
            "UPDATE request_outbox SET attempts = attempts + 1, last_error = :e WHERE id = :id",
            {"e": error[:500], "id": entry_id},
        )
