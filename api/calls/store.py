"""Call records: who called whom (masked), when, who ended it, the transcript, outcome and turn timing.

Each record names the process serving the call (``owner``: host, pid, the process's start time and a boot
id) and that process renews ``heartbeat_at`` while the call runs (:meth:`CallStore.heartbeat`). A record left
open by a process that died (``kill -9``, a crash, a lost host) is closed by the others with
``ended_by: system`` (:meth:`CallStore.sweep`): at once when the owner ran on this host and is gone, else
when its heartbeat is stale. The end of a call that cannot be written (the database is down) is kept and
written when the database is back (:meth:`CallStore.flush`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from api.storage.db import Database, Row, database_unavailable, utcnow

log = logging.getLogger(__name__)

GONE_REASON = "the app stopped during the call"
_OWNER: tuple[int, str] | None = None


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc``), "" where there is no ``/proc``."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _host() -> str:
    """This host as pids are seen from here: the host name and the pid namespace (two containers that share
    a host name, e.g. with host networking, still have pids of their own)."""
    try:
        namespace = "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}.{namespace}" if namespace else socket.gethostname()


def owner_id() -> str:
    """This process as a call's owner: ``host:pid:start:boot`` (new in every process, also after a fork)."""
    global _OWNER
    pid = os.getpid()
    if _OWNER is None or _OWNER[0] != pid:
        _OWNER = (pid, f"{_host()}:{pid}:{_process_start(pid)}:{uuid.uuid4().hex[:8]}")
    return _OWNER[1]


def owner_state(owner: str | None) -> str:
    """``gone`` when ``owner`` ran on this host and that process no longer exists (a pid now used by another
    process, or a zombie, counts as gone); ``alive`` when it is this process or runs on this host;
    ``unknown`` for another host (judged by its heartbeat)."""
    if not owner:
        return "unknown"
    mine = owner_id()
    host, pid_text, start, _boot = (owner.split(":") + ["", "", "", ""])[:4]
    if owner == mine:
        return "alive"
    if host != mine.split(":")[0] or not pid_text.isdigit():
        return "unknown"
    pid = int(pid_text)
    if pid == os.getpid():
        return "gone"  # an earlier process with our pid (e.g. pid 1 in a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        pass
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115
    except OSError:
        return "unknown"
    if state in ("Z", "X") or (start and _process_start(pid) != start):
        return "gone"
    return "alive"


def owner_gone(owner: str | None) -> bool:
    """True when ``owner`` ran on this host and that process no longer exists (see :func:`owner_state`)."""
    return owner_state(owner) == "gone"


def _decode(row: Row) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("owner", "heartbeat_at")}  # internal: host and pid
    for key, default in (("outcome", {}), ("transcript", []), ("turns", [])):
        try:
            out[key] = json.loads(out.get(key) or "null") or default
        except ValueError:
            out[key] = default
    # the conversation's events travel inside the stored outcome (no column of their own); shown beside it
    out["events"] = out["outcome"].pop("events", []) if isinstance(out["outcome"], dict) else []
    return out


class CallStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._live: dict[str, dict[str, Any]] = {}  # call_sid -> the start of a call this process serves
        self._pending: dict[str, dict[str, Any]] = {}  # call_sid -> an end not written yet (database down)

    async def started(
        self,
        *,
        call_sid: str,
        stream_sid: str,
        direction: str,
        from_masked: str,
        to_masked: str,
        request_id: str | None,
        conversation_id: str,
        language: str,
    ) -> None:
        params = {
            "call_sid": call_sid,
            "stream_sid": stream_sid,
            "direction": direction,
            "from_masked": from_masked,
            "to_masked": to_masked,
            "request_id": request_id,
            "conversation_id": conversation_id,
            "language": language,
            "started_at": utcnow(),
            "owner": owner_id(),
        }
        params["heartbeat_at"] = params["started_at"]
        self._live[call_sid] = params
        async with self.db.transaction() as conn:
            from sqlalchemy import text

            exists = (
                await conn.execute(text("SELECT 1 FROM calls WHERE call_sid = :call_sid"), params)
            ).first()
            if exists:  # the same call reconnected its stream: start the record over
                await conn.execute(text("DELETE FROM calls WHERE call_sid = :call_sid"), params)
            await conn.execute(
                text(
                    "INSERT INTO calls (call_sid, stream_sid, direction, from_masked, to_masked, request_id,"
                    " conversation_id, language, started_at, owner, heartbeat_at) VALUES (:call_sid,"
                    " :stream_sid, :direction, :from_masked, :to_masked, :request_id, :conversation_id,"
                    " :language, :started_at, :owner, :heartbeat_at)"
                ),
                params,
            )

    async def ended(
        self,
        call_sid: str,
        *,
        ended_by: str,
        reason: str,
        outcome: dict[str, Any],
        transcript: list[dict[str, Any]],
        turns: list[dict[str, Any]],
        recording: str | None = None,
    ) -> None:
        """Complete the record. While the database cannot be reached the end is kept and written by
        :meth:`flush` once it is back (a warning is logged); other failures raise."""
        end = {
            "call_sid": call_sid,
            "ended_at": utcnow(),
            "ended_by": ended_by,
            "reason": reason[:500],
            "outcome": json.dumps(outcome, ensure_ascii=False),
            "transcript": json.dumps(transcript, ensure_ascii=False),
            "turns": json.dumps(turns),
            "recording": recording,
        }
        start = self._live.pop(call_sid, None)
        try:
            await self._write_end(end, start)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            self._pending[call_sid] = {"end": end, "start": start}
            log.warning(
                "call %s: the database is unavailable (%s); its record is written when it is back",
                call_sid,
                type(exc).__name__,
            )

    async def _write_end(self, end: dict[str, Any], start: dict[str, Any] | None) -> None:
        from sqlalchemy import text

        async with self.db.transaction() as conn:
            changed = (
                await conn.execute(
                    text(
                        "UPDATE calls SET ended_at = :ended_at, ended_by = :ended_by, reason = :reason,"
                        " outcome = :outcome, transcript = :transcript, turns = :turns, recording = :recording"
                        " WHERE call_sid = :call_sid"
                    ),
                    end,
                )
            ).rowcount
            if changed == 0 and start is not None:  # the start could not be written either: write both
                await conn.execute(
                    text(
                        "INSERT INTO calls (call_sid, stream_sid, direction, from_masked, to_masked,"
                        " request_id, conversation_id, language, started_at, owner, heartbeat_at, ended_at,"
                        " ended_by, reason, outcome, transcript, turns, recording) VALUES (:call_sid,"
                        " :stream_sid, :direction, :from_masked, :to_masked, :request_id, :conversation_id,"
                        " :language, :started_at, :owner, :heartbeat_at, :ended_at, :ended_by, :reason,"
                        " :outcome, :transcript, :turns, :recording)"
                    ),
                    {**start, **end},
                )

    @property
    def pending(self) -> int:
        """Ends of calls waiting for the database."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write the ends kept while the database was down; returns how many were written."""
        written = 0
        for call_sid, item in list(self._pending.items()):
            try:
                await self._write_end(item["end"], item["start"])
            except Exception as exc:  # still down (or broken): tried again later
                if not database_unavailable(exc):
                    log.exception("call %s: writing its record failed", call_sid)
                return written
            self._pending.pop(call_sid, None)
            written += 1
            log.info("call %s: record written now that the database is back", call_sid)
        return written

    async def heartbeat(self) -> int:
        """Say that this process still serves its open calls; returns how many records were renewed."""
        if not self._live and not self._pending:
            return 0
        return await self.db.execute(
            "UPDATE calls SET heartbeat_at = :now WHERE owner = :owner AND ended_at IS NULL",
            {"now": utcnow(), "owner": owner_id()},
        )

    async def sweep(self, stale_s: float) -> list[str]:
        """Close the open records of calls whose process is gone (this host) or whose heartbeat is older than
        ``stale_s`` (any host): ``ended_by: system``. Returns the call sids closed. Safe beside other live
        processes: their calls are left alone, and a record renewed meanwhile is not closed."""
        me = owner_id()
        stale = (datetime.now(UTC) - timedelta(seconds=stale_s)).isoformat(timespec="milliseconds")
        rows = await self.db.fetchall(
            "SELECT call_sid, owner, heartbeat_at, started_at FROM calls WHERE ended_at IS NULL"
        )
        closed: list[str] = []
        for row in rows:
            if row["owner"] == me:
                continue
            seen = row["heartbeat_at"] or row["started_at"]
            state = owner_state(row["owner"])
            gone = state == "gone"
            if state == "alive" or (not gone and seen >= stale):
                continue  # a live process on this host keeps its calls, even with a late heartbeat
            reason = GONE_REASON if gone else f"{GONE_REASON} (no heartbeat for {stale_s:g} s)"
            changed = await self.db.execute(
                "UPDATE calls SET ended_at = :now, ended_by = 'system', reason = :reason"
                " WHERE call_sid = :call_sid AND ended_at IS NULL"
                " AND COALESCE(heartbeat_at, started_at) = :seen",
                {"now": utcnow(), "reason": reason, "call_sid": row["call_sid"], "seen": seen},
            )
            if changed:
                closed.append(row["call_sid"])
                log.warning("call %s: closed, %s (owner %s)", row["call_sid"], reason, row["owner"])
        return closed

    async def get(self, call_sid: str) -> dict[str, Any] | None:
        row = await self.db.fetchone("SELECT * FROM calls WHERE call_sid = :call_sid", {"call_sid": call_sid})
        return _decode(row) if row else None

    async def list(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT * FROM calls ORDER BY started_at DESC, call_sid LIMIT :limit OFFSET :offset",
            {"limit": limit, "offset": offset},
        )
        return [_decode(r) for r in rows]
