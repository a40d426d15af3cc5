"""supabase/migrations on a real PostgreSQL: schema, indexes and row-level security as Supabase runs it.

Supabase's pieces are recreated as Supabase defines them: the roles ``anon`` / ``authenticated`` /
``service_role``, ``auth.users`` and ``auth.uid()`` reading ``request.jwt.claims``. Checks run with
``SET ROLE`` + ``set_config('request.jwt.claims', ...)`` exactly like PostgREST does per request.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

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
    asyncpg = pytest.importorskip("asyncpg")
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
