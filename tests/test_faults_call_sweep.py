"""The sweep that closes calls of dead processes, on SQLite and PostgreSQL: which open records it closes
(a dead process on this host at once; another host's only once its heartbeat is stale; never a live one, nor
one renewed meanwhile), and the end of a call kept while the database was down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.calls.store import GONE_REASON, CallStore, owner_id
from api.storage import Database


def ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


async def open_call(db: Database, sid: str, owner: str | None, heartbeat: str | None, started: str) -> None:
    await db.execute(
        "INSERT INTO calls (call_sid, stream_sid, direction, conversation_id, language, started_at, owner,"
        " heartbeat_at) VALUES (:sid, 'MZ1', 'inbound', 'c1', 'en', :started, :owner, :heartbeat)",
        {"sid": sid, "owner": owner, "heartbeat": heartbeat, "started": started},
    )


@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_sweep_closes_only_calls_whose_process_is_gone(db_url):
    db = await Database.connect(db_url)
    store = CallStore(db)
    host = owner_id().split(":")[0]  # host name and pid namespace
    await open_call(db, "CAdead", f"{host}:999999999:1:deadbeef", ago(1), ago(5))  # this host, no such pid
    await open_call(db, "CAmine", owner_id(), ago(1), ago(5))  # this process: live
    await open_call(db, "CAfar_live", "elsewhere:12:34:abcdabcd", ago(5), ago(500))  # fresh heartbeat
    await open_call(db, "CAfar_stale", "elsewhere:12:34:abcdabcd", ago(120), ago(500))  # stale heartbeat
    await open_call(db, "CAold", None, None, ago(3600))  # from before owners were recorded, long open
    await db.execute(
        "UPDATE calls SET ended_at = :t, ended_by = 'party', reason = 'bye' WHERE call_sid = 'CAfar_live'",
        {"t": ago(0)},
    )  # (ended normally: never touched)
    closed = await store.sweep(stale_s=60)
    assert sorted(closed) == ["CAdead", "CAfar_stale", "CAold"]
    rows = {r["call_sid"]: r for r in await store.list(limit=10)}
    assert (rows["CAdead"]["ended_by"], rows["CAdead"]["reason"]) == ("system", GONE_REASON)
    assert rows["CAfar_stale"]["reason"] == f"{GONE_REASON} (no heartbeat for 60 s)"
    assert rows["CAmine"]["ended_at"] is None
    assert (rows["CAfar_live"]["ended_by"], rows["CAfar_live"]["reason"]) == ("party", "bye")
    assert "owner" not in rows["CAmine"]  # the API does not show host and pid
    assert await store.sweep(stale_s=60) == []  # nothing twice
    await db.close()
