"""PostgreSQL's direct asyncpg path (api/storage/pg_direct.py): the app's ``:named`` SQL runs on it, a failed
transaction there writes nothing and goes to SQLAlchemy (whose error the caller sees, as before), and a
connection the server closed costs no request."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError

from api.storage import Database

pytestmark = pytest.mark.postgres

_INSERT = "INSERT INTO notes (id, body, tag) VALUES (:id, :body, :tag)"
_BY_TAG = "SELECT id, body FROM notes WHERE tag = :tag OR body = :tag ORDER BY id"


async def test_the_apps_sql_runs_on_the_direct_path(postgres_url):
    db = await Database.connect(postgres_url, migrate=False)
    try:
        assert db.pg is not None
        await db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT)")
        # a turn's write: one statement and several rows of another, in one transaction
        await db.write(
            [
                (_INSERT, {"id": 1, "body": "a:b", "tag": "x"}),
                (_INSERT, [{"id": n, "body": f"n{n}", "tag": "y"} for n in (2, 3)]),
            ]
        )
        direct = await db.pg.fetch_each([(_BY_TAG, {"tag": "y"}), (_BY_TAG, {"tag": "a:b"})])
        assert direct == [[{"id": 2, "body": "n2"}, {"id": 3, "body": "n3"}], [{"id": 1, "body": "a:b"}]]
        assert await db.fetch_each([(_BY_TAG, {"tag": "y"}), (_BY_TAG, {"tag": "a:b"})]) == direct
        assert await db.fetchall(_BY_TAG, {"tag": "x"}) == [{"id": 1, "body": "a:b"}]

        # the second row clashes: nothing of the transaction is written, and SQLAlchemy's error is the answer
        clash = [
            (_INSERT, {"id": 4, "body": "new", "tag": "z"}),
            (_INSERT, {"id": 1, "body": "again", "tag": "z"}),
        ]
        assert await db.pg.write(clash) is False
        with pytest.raises(IntegrityError):
            await db.write(clash)
        assert await db.fetchall(_BY_TAG, {"tag": "z"}) == []
    finally:
        await db.close()


async def test_a_read_is_its_statements_alone_no_reset_query_when_the_connection_goes_back(postgres_url):
    from api.storage.pg_direct import PgDirect

    direct = PgDirect(postgres_url, max_size=1)  # one connection: every checkout is the same one
    await direct.start()
    try:
        assert direct._pool is not None
        sent: list[str] = []
        async with direct._pool.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
        assert await direct.fetch_each([("SELECT 1 AS n", {}), ("SELECT 2 AS n", {})]) == [
            [{"n": 1}],
            [{"n": 2}],
        ]
        assert await direct.write([("SELECT 3", {})]) is True
        assert not any("RESET" in q or "UNLISTEN" in q for q in sent), sent
        assert [q for q in sent if "SELECT" in q] == ["SELECT 1 AS n", "SELECT 2 AS n", "SELECT 3"]
    finally:
        await direct.close()


async def test_a_connection_the_server_closed_costs_no_request(postgres_url):
    db = await Database.connect(postgres_url, migrate=False)
    try:
        assert db.pg is not None
        assert await db.fetchall("SELECT 1 AS ok") == [{"ok": 1}]
        admin = await asyncpg.connect(postgres_url)
        try:  # every other connection to this database, the direct pool's among them
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert ended >= 1
        for _ in range(3):
            assert await db.fetchall("SELECT 2 AS ok") == [{"ok": 2}]
        assert await db.pg.fetch_each([("SELECT 3 AS ok", {})]) == [[{"ok": 3}]]  # the pool connected again
    finally:
        await db.close()
