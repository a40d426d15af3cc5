"""supabase/migrations on a real PostgreSQL: schema, indexes and row-level security as Supabase runs it.

Supabase's pieces are recreated as Supabase defines them: the roles ``anon`` / ``authenticated`` /
``service_role``, ``auth.users`` and ``auth.uid()`` reading ``request.jwt.claims``. Checks run with
``SET ROLE`` + ``set_config('request.jwt.claims', ...)`` exactly like PostgREST does per request.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import pytest
from conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres
MIGRATIONS = sorted((Path(__file__).parent.parent / "supabase" / "migrations").glob("*.sql"))

SUPABASE_BASE = """
DO $$ BEGIN
  CREATE ROLE anon NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN
  CREATE ROLE authenticated NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN
  CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY, email text);
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
"""


@pytest.fixture
async def pg():
    async with fresh_postgres_database("lisa_supabase") as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(SUPABASE_BASE)
            yield conn
        finally:
            await conn.close()


async def apply_migrations(conn) -> None:
    assert MIGRATIONS, "supabase/migrations/*.sql missing"
    for path in MIGRATIONS:
        await conn.execute(path.read_text(encoding="utf-8"))


async def as_role(conn, role: str, sub: str | None, sql: str, *args):
    """Run one statement as PostgREST would for a request with this JWT (role + claims), then reset."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {role}")
        claims = json.dumps({"sub": sub, "role": role}) if sub else ""
        await conn.execute("SELECT set_config('request.jwt.claims', $1, true)", claims)
        return await conn.fetch(sql, *args)


async def test_migration_applies_twice_with_indexes(pg):
    await apply_migrations(pg)
    await apply_migrations(pg)  # idempotent
    indexes = {
        r["indexname"] for r in await pg.fetch("SELECT indexname FROM pg_indexes WHERE schemaname='public'")
    }
    assert {"requests_user_created_idx", "requests_status_idx", "events_request_created_idx"} <= indexes
    rls = {
        r["relname"]: r["relrowsecurity"]
        for r in await pg.fetch(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('requests', 'events')"
        )
    }
    assert rls == {"requests": True, "events": True}


async def test_rls_users_read_only_their_own_rows_and_only_service_role_writes(pg):
    import asyncpg

    await apply_migrations(pg)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    await pg.execute("INSERT INTO auth.users (id) VALUES ($1), ($2)", uuid.UUID(alice), uuid.UUID(bob))
    ra, rb = str(uuid.uuid4()), str(uuid.uuid4())
    for rid, owner in ((ra, alice), (rb, bob)):
        await as_role(
            pg,
            "service_role",
            None,
            "INSERT INTO public.requests (id, user_id, title, status) VALUES ($1, $2, 'Zahnreinigung', 'queued')",
            uuid.UUID(rid),
            uuid.UUID(owner),
        )
        await as_role(
            pg,
            "service_role",
            None,
            "INSERT INTO public.events (request_id, type, message) VALUES ($1, 'request_received', 'ok')",
            uuid.UUID(rid),
        )
    # the service role updates; updated_at follows
    before = await pg.fetchval("SELECT updated_at FROM public.requests WHERE id = $1", uuid.UUID(ra))
    rows = await as_role(
        pg,
        "service_role",
        None,
        "UPDATE public.requests SET status = 'booked', summary = 'Termin gebucht' WHERE id = $1 RETURNING status",
        uuid.UUID(ra),
    )
    assert [r["status"] for r in rows] == ["booked"]
    after = await pg.fetchval("SELECT updated_at FROM public.requests WHERE id = $1", uuid.UUID(ra))
    assert after >= before

    mine = await as_role(pg, "authenticated", alice, "SELECT id, status FROM public.requests")
    assert [(str(r["id"]), r["status"]) for r in mine] == [(ra, "booked")]
    events = await as_role(pg, "authenticated", alice, "SELECT request_id FROM public.events")
    assert [str(r["request_id"]) for r in events] == [ra]
    assert [
        str(r["id"]) for r in await as_role(pg, "authenticated", bob, "SELECT id FROM public.requests")
    ] == [rb]
    # a signed-in user cannot write, not even their own rows
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(pg, "authenticated", alice, "UPDATE public.requests SET status = 'canceled'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(
            pg,
            "authenticated",
            alice,
            "INSERT INTO public.events (request_id, type, message) VALUES ($1, 'error', 'x')",
            uuid.UUID(ra),
        )
    # anonymous callers read nothing
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(pg, "anon", None, "SELECT id FROM public.requests")
    # without claims an authenticated role sees no rows
    assert await as_role(pg, "authenticated", None, "SELECT id FROM public.requests") == []


async def test_status_and_event_type_are_the_seed_vocabulary(pg):
    import asyncpg

    await apply_migrations(pg)
    user = uuid.uuid4()
    await pg.execute("INSERT INTO auth.users (id) VALUES ($1)", user)
    with pytest.raises(asyncpg.CheckViolationError):
        await pg.execute(
            "INSERT INTO public.requests (user_id, title, status) VALUES ($1, 't', 'done')", user
        )
    rid = await pg.fetchval(
        "INSERT INTO public.requests (user_id, title) VALUES ($1, 't') RETURNING id", user
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await pg.execute("INSERT INTO public.events (request_id, type) VALUES ($1, 'party')", rid)


async def test_a_signed_in_user_inserts_only_their_own_queued_request(pg):
    """Seed 002: the frontend inserts the row with the user's session first; RLS lets a user create their own
    row in status queued, nothing else."""
    import asyncpg

    await apply_migrations(pg)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    await pg.execute("INSERT INTO auth.users (id) VALUES ($1), ($2)", alice, bob)
    insert = "INSERT INTO public.requests (user_id, title, status) VALUES ($1, $2, $3) RETURNING id, status"
    [row] = await as_role(pg, "authenticated", str(alice), insert, alice, "Zahnreinigung", "queued")
    assert row["status"] == "queued"
    # the status may be left out (its default is queued); the frontend reads its row back (owner reads)
    [row2] = await as_role(
        pg,
        "authenticated",
        str(alice),
        "INSERT INTO public.requests (user_id, title, description) VALUES ($1, 'Haircut', 'Friday') RETURNING *",
        alice,
    )
    assert (row2["status"], row2["language"], row2["user_profile"]) == ("queued", "de", "{}")
    mine = await as_role(
        pg, "authenticated", str(alice), "SELECT id FROM public.requests ORDER BY created_at"
    )
    assert {r["id"] for r in mine} == {row["id"], row2["id"]}

    refused = [
        ("authenticated", str(alice), bob, "queued"),  # for another user
        ("authenticated", str(alice), alice, "booked"),  # already "booked" by the frontend
        ("authenticated", str(alice), alice, "calling"),
        ("authenticated", None, alice, "queued"),  # a token without a user
    ]
    for role, sub, owner, status in refused:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await as_role(pg, role, sub, insert, owner, "t", status)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # anonymous callers insert nothing
        await as_role(pg, "anon", None, insert, alice, "t", "queued")
    # still no updates, deletes or events from users: the backend does those
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(pg, "authenticated", str(alice), "UPDATE public.requests SET status = 'booked'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(pg, "authenticated", str(alice), "DELETE FROM public.requests")
    assert await pg.fetchval("SELECT count(*) FROM public.requests") == 2
    assert await as_role(pg, "authenticated", str(bob), "SELECT id FROM public.requests") == []


FRONTEND_FIRST = """
CREATE TABLE public.requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid,
    title text,
    status text DEFAULT 'queued',
    frontend_note text,
    created_at timestamptz DEFAULT now()
);
CREATE TABLE public.events (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), request_id uuid, message text);
"""


async def test_migration_completes_tables_the_frontend_created_first(pg):
    """A project whose requests/events tables exist with fewer columns: the migration adds the missing columns,
    constraints and indexes, keeps the rows and columns it finds, and Lisa's writes then work."""
    import asyncpg

    from api.requests.store import REMOTE_FIELDS

    await pg.execute(FRONTEND_FIRST)
    old_user = uuid.uuid4()
    await pg.execute("INSERT INTO auth.users (id) VALUES ($1)", old_user)
    old = await pg.fetchval(
        "INSERT INTO public.requests (user_id, title, status, frontend_note) VALUES ($1, NULL, 'pending', 'keep') "
        "RETURNING id",
        old_user,
    )
    await apply_migrations(pg)
    await apply_migrations(pg)  # and again
    columns = await _columns(pg)
    assert set(REMOTE_FIELDS) | {"created_at", "frontend_note"} <= columns["requests"]
    assert {"id", "request_id", "type", "message", "created_at"} <= columns["events"]
    indexes = {
        r["indexname"] for r in await pg.fetch("SELECT indexname FROM pg_indexes WHERE schemaname='public'")
    }
    assert {"requests_user_created_idx", "requests_status_idx", "events_request_created_idx"} <= indexes
    checks = {
        r["conname"]: r["convalidated"]
        for r in await pg.fetch(
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace"
        )
    }
    # the old 'pending' row is kept; the status check holds for every new or changed row
    assert checks == {
        "requests_language_check": True,
        "requests_status_check": False,
        "events_type_check": True,
    }
    row = await pg.fetchrow("SELECT * FROM public.requests WHERE id = $1", old)
    assert (row["status"], row["frontend_note"], row["user_profile"], row["title"]) == (
        "pending",
        "keep",
        "{}",
        None,
    )
    # a title was missing on an old row: the column stays nullable; user_id had none missing: NOT NULL now
    nullable = {
        r["column_name"]: r["is_nullable"]
        for r in await pg.fetch(
            "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'requests'"
        )
    }
    assert (nullable["title"], nullable["user_id"]) == ("YES", "NO")

    # the backend's upsert of a whole row, then an event; the updated_at trigger runs
    rid, user = uuid.uuid4(), uuid.uuid4()
    await pg.execute("INSERT INTO auth.users (id) VALUES ($1)", user)
    [written] = await as_role(
        pg,
        "service_role",
        None,
        "INSERT INTO public.requests (id, user_id, title, number_to_call, user_profile, language, status) "
        "VALUES ($1, $2, 'Zahnreinigung', '+49301234567', '{\"username\": \"Max\"}', 'de', 'calling') "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status RETURNING status, updated_at",
        rid,
        user,
    )
    assert written["status"] == "calling" and written["updated_at"] is not None
    await as_role(
        pg,
        "service_role",
        None,
        "INSERT INTO public.events (id, request_id, type, message) VALUES ($1, $2, 'call_started', 'x') "
        "ON CONFLICT (id) DO NOTHING",
        uuid.uuid4(),
        rid,
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await pg.execute("UPDATE public.requests SET status = 'done' WHERE id = $1", rid)
    with pytest.raises(asyncpg.ForeignKeyViolationError):  # events belong to a request now
        await pg.execute("INSERT INTO public.events (request_id, type) VALUES ($1, 'error')", uuid.uuid4())
    # the user's own insert works on the completed table too; another user's does not
    await as_role(
        pg,
        "authenticated",
        str(user),
        "INSERT INTO public.requests (user_id, title) VALUES ($1, 'Haircut')",
        user,
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_role(
            pg,
            "authenticated",
            str(user),
            "INSERT INTO public.requests (user_id, title) VALUES ($1, 'x')",
            old_user,
        )


async def test_migration_refuses_a_requests_table_without_uuid_ids(pg):
    import asyncpg

    await pg.execute("CREATE TABLE public.requests (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)")
    with pytest.raises(asyncpg.RaiseError, match=r"public\.requests\.id must be a uuid column"):
        await apply_migrations(pg)


async def test_postgrest_protocol_server_knows_the_migrations_columns(pg):
    """The protocol server's schema cache (parsed from the SQL) is exactly what PostgreSQL makes of it."""
    from fakes.postgrest_protocol_server import migration_columns

    await apply_migrations(pg)
    assert migration_columns() == await _columns(pg)


async def _columns(conn) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for r in await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ):
        tables.setdefault(r["table_name"], set()).add(r["column_name"])
    return tables
