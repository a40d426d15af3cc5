"""Rate limits that hold for the whole deployment: on PostgreSQL every worker and instance counts a client's
requests in the database (``rate_limit_hits``), so two servers on one database share one budget."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from doubles.tokens import SECRET, bearer, token
from websockets.asyncio.client import connect

from api.edge.rate_limit import DatabaseRateLimiter
from api.storage import Database


class Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


async def test_database_limiter_slides_over_window_boundaries(db_url):
    db = await Database.connect(db_url)
    clock = Clock(6000.0)  # the start of a one-minute window
    limiter = DatabaseRateLimiter(db, 3, now=clock)
    other = DatabaseRateLimiter(db, 3, now=clock)  # another worker on the same database
    try:
        assert [await limiter.take("user:a"), await other.take("user:a"), await limiter.take("user:a")] == [
            0
        ] * 3
        wait = await other.take("user:a")
        assert 59 < wait <= 60  # the fourth is refused, in whichever worker
        assert await limiter.take("user:b") == 0  # other clients have their own budget
        clock.t += 75  # a quarter into the next window: 4 * 0.75 = 3 hits still count
        wait = await limiter.take("user:a")
        assert 0 < wait <= 60
        clock.t += 30  # 0.75 into it: 4 * 0.25 + 2 = 3 fit
        assert await other.take("user:a") == 0
        clock.t += 200  # long quiet: old windows are forgotten
        assert await limiter.take("user:a") == 0
        rows = await db.fetchall("SELECT window_start FROM rate_limit_hits")
        assert min(r["window_start"] for r in rows) >= int(clock.t // 60) - 1
        assert await DatabaseRateLimiter(db, 0).take("user:a") == 0  # 0 = off
    finally:
        await db.close()


@pytest.mark.postgres
async def test_two_servers_on_one_postgres_share_the_budget(app_server, postgres_url):
    api = {"auth_enabled": True, "supabase_jwt_secret": SECRET, "rate_limit_per_minute": 4, "lisa_workers": 2}
    one = await app_server(database_url=postgres_url, api=api)
    two = await app_server(database_url=postgres_url, api=api)
    if int(time.time()) % 60 > 50:  # keep the burst inside one minute window (a fixed-window edge)
        await asyncio.sleep(61 - time.time() % 60)
    async with httpx.AsyncClient(timeout=30) as http:
        codes = []
        for i in range(3):
            server = (one, two)[i % 2]
            codes.append(
                (await http.post(f"{server.url}/api/v1/sessions", headers=bearer(token("alice")))).status_code
            )
        assert codes == [201, 201, 201]
        # the fourth request (a chat socket opened on the other server) is the last one allowed
        async with connect(f"{two.ws_url}/ws", subprotocols=["bearer", token("alice")]) as ws:
            while json.loads(await ws.recv()).get("sender") != "lisa":
                pass
            await ws.send(json.dumps({"type": "message", "content": "Hello"}))
            while (frame := json.loads(await ws.recv())).get("type") != "error":
                pass
            assert frame["code"] == 429 and frame["retry_after"] >= 1
        for server in (one, two):
            r = await http.post(f"{server.url}/api/v1/sessions", headers=bearer(token("alice")))
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert (
            await http.post(f"{one.url}/api/v1/sessions", headers=bearer(token("bob")))
        ).status_code == 201
