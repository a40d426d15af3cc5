"""Media stream tokens: a media stream is served only for a call this app placed or answered.

Whenever the app writes the TwiML that connects a call to ``/twilio/media`` (placing an outbound call, or
answering ``/twilio/voice``) it issues a token and puts it into the stream's ``<Parameter>``s
(:data:`TOKEN_PARAMETER`). The media route redeems it on the ``start`` message: a token is valid once, for a
few minutes, and only for the direction, request id and call sid it was issued for.

Tokens are random (256 bits) and stored server-side in the app database, as a SHA-256 only, with their
binding and expiry. Redeeming is one conditional ``UPDATE`` (unused, unexpired, bindings equal), so it is
atomic and holds across ``--workers`` and instances that share the database, with no secret to configure
or rotate. Expired rows are deleted as new tokens are issued. The same table-backed idea makes replayed
Twilio status callbacks apply once (:class:`AppliedStatuses`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

TOKEN_PARAMETER = "stream_token"
PURGE_EVERY_S = 60.0
KEEP_EXPIRED = timedelta(hours=1)  # expired rows kept a while (a late redeem says "expired", not "unknown")


class Db(Protocol):
    """What the stores need of :class:`api.storage.Database`."""

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...

    async def fetchone(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None: ...


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class StreamRefused(Exception):
    """A media stream was refused; the message is the reason (safe to send to the client and log)."""


class StreamTokens:
    """Issues and redeems single-use media stream tokens (see the module docstring)."""

    def __init__(self, db: Db, ttl_s: float = 300.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._purged_at = 0.0

    async def issue(
        self, direction: str, *, request_id: str | None = None, call_sid: str | None = None
    ) -> str:
        """A new token for one stream of ``direction`` (``inbound``/``outbound``), bound to ``request_id``
        (outbound) and to ``call_sid`` when the call sid is known already (else see :meth:`bind_call`)."""
        if direction not in ("inbound", "outbound"):
            raise ValueError(f"direction must be inbound or outbound, not {direction!r}")
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await self._purge(now)
        await self.db.execute(
            "INSERT INTO media_stream_tokens (token_hash, direction, request_id, call_sid, issued_at, expires_at)"
            " VALUES (:h, :d, :r, :c, :i, :e)",
            {
                "h": _hash(token),
                "d": direction,
                "r": request_id or "",
                "c": call_sid or "",
                "i": _iso(now),
                "e": _iso(now + timedelta(seconds=self.ttl_s)),
            },
        )
        return token

    async def bind_call(self, token: str, call_sid: str) -> None:
        """Bind a token issued before its call had a sid (Twilio's ``calls.create``) to that sid."""
        await self.db.execute(
            "UPDATE media_stream_tokens SET call_sid = :c WHERE token_hash = :h AND call_sid = ''",
            {"c": call_sid, "h": _hash(token)},
        )

    async def redeem(
        self, token: str | None, *, direction: str, request_id: str | None, call_sid: str
    ) -> None:
        """Use ``token`` for a stream with these bindings, or raise :class:`StreamRefused` with the reason."""
        if not token:
            raise StreamRefused("no stream token")
        now = _iso(datetime.now(UTC))
        params = {"h": _hash(token), "now": now, "d": direction, "r": request_id or "", "c": call_sid}
        used = await self.db.execute(
            "UPDATE media_stream_tokens SET used_at = :now WHERE token_hash = :h AND used_at IS NULL"
            " AND expires_at > :now AND direction = :d AND request_id = :r AND (call_sid = '' OR call_sid = :c)",
            params,
        )
        if used == 1:
            return
        row = await self.db.fetchone(
            "SELECT direction, request_id, call_sid, expires_at, used_at FROM media_stream_tokens"
            " WHERE token_hash = :h",
            {"h": params["h"]},
        )
        raise StreamRefused(_why(row, now, direction, request_id or "", call_sid))

    async def _purge(self, now: datetime) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY_S:
            return
        self._purged_at = time.monotonic()
        try:
            await self.db.execute(
                "DELETE FROM media_stream_tokens WHERE expires_at < :cutoff",
                {"cutoff": _iso(now - KEEP_EXPIRED)},
            )
        except Exception:  # housekeeping never stops a call
            log.warning("could not purge expired media stream tokens", exc_info=True)


def _why(row: dict[str, Any] | None, now: str, direction: str, request_id: str, call_sid: str) -> str:
    if row is None:
        return "unknown stream token"
    if row["used_at"]:
        return "stream token already used"
    if row["expires_at"] <= now:
        return "stream token expired"
    if row["direction"] != direction:
        return "stream token issued for another direction"
    if row["request_id"] != request_id:
        return "stream token issued for another request"
    return "stream token issued for another call"


class AppliedStatuses:
    """Twilio status callbacks already applied, per ``CallSid`` + status (+ ``AnsweredBy``), in the database."""

    KEEP = timedelta(days=2)

    def __init__(self, db: Db) -> None:
        self.db = db
        self._purged_at = 0.0

    async def first_time(self, call_sid: str, status_key: str) -> bool:
        """Record ``status_key`` for ``call_sid``; False when it was recorded before (a replay)."""
        now = datetime.now(UTC)
        if time.monotonic() - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            await self.db.execute(
                "DELETE FROM twilio_status_applied WHERE applied_at < :cutoff",
                {"cutoff": _iso(now - self.KEEP)},
            )
        inserted = await self.db.execute(
            "INSERT INTO twilio_status_applied (call_sid, status_key, applied_at) VALUES (:c, :s, :t)"
            " ON CONFLICT (call_sid, status_key) DO NOTHING",
            {"c": call_sid, "s": status_key, "t": _iso(now)},
        )
        return inserted == 1
