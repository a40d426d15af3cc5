"""Call records: who called whom (masked), when, who ended it, the transcript, outcome and turn timing."""

from __future__ import annotations

import json
from typing import Any

from api.storage.db import Database, Row, utcnow


def _decode(row: Row) -> dict[str, Any]:
    out = dict(row)
    for key, default in (("outcome", {}), ("transcript", []), ("turns", [])):
        try:
            out[key] = json.loads(out.get(key) or "null") or default
        except ValueError:
            out[key] = default
    return out


class CallStore:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        }
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
                    " conversation_id, language, started_at) VALUES (:call_sid, :stream_sid, :direction,"
                    " :from_masked, :to_masked, :request_id, :conversation_id, :language, :started_at)"
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
        await self.db.execute(
            "UPDATE calls SET ended_at = :ended_at, ended_by = :ended_by, reason = :reason, outcome = :outcome,"
            " transcript = :transcript, turns = :turns, recording = :recording WHERE call_sid = :call_sid",
            {
                "call_sid": call_sid,
                "ended_at": utcnow(),
                "ended_by": ended_by,
                "reason": reason[:500],
                "outcome": json.dumps(outcome, ensure_ascii=False),
                "transcript": json.dumps(transcript, ensure_ascii=False),
                "turns": json.dumps(turns),
                "recording": recording,
            },
        )

    async def get(self, call_sid: str) -> dict[str, Any] | None:
        row = await self.db.fetchone("SELECT * FROM calls WHERE call_sid = :call_sid", {"call_sid": call_sid})
        return _decode(row) if row else None

    async def list(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT * FROM calls ORDER BY started_at DESC, call_sid LIMIT :limit OFFSET :offset",
            {"limit": limit, "offset": offset},
        )
        return [_decode(r) for r in rows]
