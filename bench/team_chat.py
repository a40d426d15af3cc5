"""Team chat fan-out and sign-in throughput (issue 13): ``--groups`` groups of ``--members`` connected members,
everyone posting at once over the seed-004 socket; delivery latency to every member (p50/p95) and messages/s,
with one worker and with two (PostgreSQL, the chat relay between them); logins per second with the Argon2id
parameters of the settings.

The app runs as ``lisa serve`` in a child process (real uvicorn); this process drives the sockets.

    .venv/bin/python -m bench.team_chat [--groups 50] [--members 5] [--rounds 3]

Runs: SQLite one worker, PostgreSQL one worker, PostgreSQL two workers (temporary databases on
``DATABASE_URL_TEST``). JSON to stdout and ``bench/results/team_chat.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from api.cli.inprocess_server import free_port
from api.team_chat.settings import TeamChatSettings
from bench.chat_bench import wait_ready
from bench.common import RESULTS_DIR, write_result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_DIR / "team_chat.json"
PG = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))], 1)


def start_server(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RATE_LIMIT_PER_MINUTE": "0",
        "TEAM_CLIENT_ATTEMPTS_PER_MINUTE": "0",  # every bench user signs in from 127.0.0.1
        "TEAM_LOGIN_ATTEMPTS_PER_MINUTE": "0",
        "TEAM_SMS_PROVIDER": "outbox",
        "AUTH_ENABLED": "false",
        "LISA_BRAIN": "rule",
        "LOG_LEVEL": "WARNING",
        "LISA_WORKERS": str(workers),
    }
    args = [sys.executable, "-m", "api.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def register(client: httpx.AsyncClient, index: int) -> dict[str, Any]:
    email = f"bench-{index}-{uuid.uuid4().hex[:6]}@example.com"
    r = await client.post(
        "/auth/register", json={"email": email, "password": "bench-password-1", "name": f"U{index}"}
    )
    r.raise_for_status()
    return {**r.json(), "email": email}


async def logins(client: httpx.AsyncClient, users: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """``count`` password sign-ins at once (Argon2id verification each)."""
    latencies: list[float] = []

    async def one(user: dict[str, Any]) -> None:
        started = time.perf_counter()
        r = await client.post("/auth/login", json={"email": user["email"], "password": "bench-password-1"})
        r.raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(users[i % len(users)]) for i in range(count)))
    elapsed = time.perf_counter() - started
    return {
        "logins": count,
        "logins_per_s": round(count / elapsed, 1),
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
    }


async def fan_out(base: str, ws_base: str, groups: int, members: int, rounds: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        users = list(await asyncio.gather(*(register(client, i) for i in range(groups * members))))
        login = await logins(client, users, min(len(users), 40))
        rooms: list[tuple[str, list[dict[str, Any]]]] = []
        for g in range(groups):
            people = users[g * members : (g + 1) * members]
            r = await client.post(
                "/groups",
                json={"name": f"G{g}", "participantIds": [p["user"]["id"] for p in people[1:]]},
                headers={"Authorization": f"Bearer {people[0]['accessToken']}"},
            )
            r.raise_for_status()
            rooms.append((r.json()["group"]["id"], people))

    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    expected = groups * members * members * rounds
    done = asyncio.Event()
    last_delivery = 0.0

    async def listen(ws: ClientConnection) -> None:
        nonlocal last_delivery
        async for raw in ws:
            frame = json.loads(raw)
            key = frame.get("content", "")
            if key in sent_at:
                now = time.perf_counter()
                latencies.append((now - sent_at[key]) * 1000)
                last_delivery = now
                if len(latencies) >= expected:
                    done.set()

    sockets: list[tuple[ClientConnection, str]] = []
    for chat_id, people in rooms:
        for person in people:
            ws = await connect(f"{ws_base}/ws/chat/{chat_id}?token={person['accessToken']}", max_queue=None)
            sockets.append((ws, person["user"]["id"]))
    listeners = [asyncio.create_task(listen(ws)) for ws, _ in sockets]
    await asyncio.sleep(1.0)  # every socket joined (and the relays listen)
    first_send = time.perf_counter()
    for round_no in range(rounds):

        async def post(ws: ClientConnection, uid: str, r: int = round_no) -> None:
            key = f"r{r}-{uid}-{uuid.uuid4().hex[:6]}"
            sent_at[key] = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "content": key}))

        await asyncio.gather(*(post(ws, uid) for ws, uid in sockets))
        await asyncio.sleep(0.5)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 120)
    elapsed = last_delivery - first_send
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws, _ in sockets), return_exceptions=True)
    messages = groups * members * rounds
    return {
        "messages": messages,
        "deliveries_expected": expected,
        "deliveries": len(latencies),
        "delivery_latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "messages_per_s": round(messages / elapsed, 1) if elapsed > 0 else None,
        "deliveries_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else None,
        "login": login,
    }


async def run(database_url: str, workers: int, groups: int, members: int, rounds: int) -> dict[str, Any]:
    port = free_port()
    proc = start_server(database_url, port, workers)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", proc, timeout_s=120)
        found = await fan_out(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", groups, members, rounds)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    storage = "postgresql" if database_url.startswith("postgres") else "sqlite"
    return {
        "storage": storage,
        "workers": workers,
        "groups": groups,
        "members": members,
        "rounds": rounds,
        **found,
    }


async def temp_postgres() -> tuple[str, Any]:
    import asyncpg

    name = f"lisa_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG)
    await admin.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + f"/{name}", (admin, name)


async def drop_postgres(handle: Any) -> None:
    admin, name = handle
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def main_async(groups: int, members: int, rounds: int) -> dict[str, Any]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(await run(f"sqlite:///{tmp}/bench.db", 1, groups, members, rounds))
    for workers in (1, 2):
        url, handle = await temp_postgres()
        try:
            runs.append(await run(url, workers, groups, members, rounds))
        finally:
            await drop_postgres(handle)
    argon = TeamChatSettings(_env_file=None)
    return {
        "benchmark": "team_chat",
        "what": "seed-004 socket fan-out: every member of every group posts at once; delivery to every member",
        "argon2id": {
            "time_cost": argon.team_argon2_time_cost,
            "memory_kib": argon.team_argon2_memory_kib,
            "parallelism": argon.team_argon2_parallelism,
        },
        "runs": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1m": round(os.getloadavg()[0], 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args.groups, args.members, args.rounds))
    write_result(RESULTS, result, pretty=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
