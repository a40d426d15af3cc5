"""Throughput and latency of ``POST /api/v1/sessions/{id}/chat`` at many concurrent chat sessions.

The app runs in a child process (`lisa serve`: real uvicorn, rule brain, temp SQLite unless
``--database-url``); this process drives ``--sessions`` concurrent sessions with httpx, each a booking
conversation (greeting, "I'd like to book…", a day and time, a name, goodbye), all at once.

    .venv/bin/python -m bench.chat_bench [--sessions 200] [--postgres | --database-url URL]

``--postgres`` runs on a temporary database created on ``DATABASE_URL_TEST`` (default
``postgresql://postgres@127.0.0.1:5432/test``) and dropped afterwards.

JSON to stdout and ``bench/results/chat.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.cli.inprocess_server import free_port
from bench.common import RESULTS_DIR, write_result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_DIR / "chat.json"
START = date(2026, 11, 24)  # Lisa's clock: Monday 2026-11-23 09:00 Berlin
NAMES = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas"]


def slot(index: int) -> str:
    """The index-th distinct bookable slot (weekdays from START, 08:00-17:30 every 30 minutes) in words."""
    day = START
    per_day = 20
    for _ in range(index // per_day):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = 8 * 60 + (index % per_day) * 30
    hour, minute = divmod(minutes, 60)
    clock = f"{(hour - 1) % 12 + 1}{':30' if minute else ''} {'am' if hour < 12 else 'pm'}"
    return f"{day:%B} {day.day} at {clock}"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RATE_LIMIT_PER_MINUTE": "0",
        "AUTH_ENABLED": "false",
        "LISA_BRAIN": "rule",
        "LISA_CLOCK": "2026-11-23T09:00:00+01:00",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=url) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                if (await client.get("/api/v1/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not become ready")


async def one_session(base: str, index: int, latencies: list[float], errors: list[str]) -> str:
    """One user's booking chat on its own connection (as each app user has)."""
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            return await _converse(client, index, latencies, errors)
    except httpx.TransportError as exc:
        errors.append(f"transport {type(exc).__name__}")
        return "error"


async def _converse(client: httpx.AsyncClient, index: int, latencies: list[float], errors: list[str]) -> str:
    r = await client.post("/api/v1/sessions", json={"language": "en"})
    if r.status_code != 201:
        errors.append(f"create {r.status_code}")
        return "error"
    sid = r.json()["session_id"]
    lines = [
        "I'd like to book an appointment.",
        f"{slot(index)} please.",
        f"My name is {NAMES[index % len(NAMES)]} Bench.",
        "No, that's all. Bye!",
    ]
    status = "open"
    for line in lines:
        started = time.perf_counter()
        r = await client.post(f"/api/v1/sessions/{sid}/chat", json={"message": line})
        latencies.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            errors.append(f"chat {r.status_code}")
            return "error"
        status = r.json()["outcome"]["status"]
        if r.json()["status"] == "ended":
            break
    return status


async def run(sessions: int, database_url: str | None) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        url_db = database_url or f"sqlite:///{tmp}/bench.db"
        proc = start_server(url_db, port)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base, proc)
            latencies: list[float] = []
            errors: list[str] = []
            await one_session(base, sessions, [], errors)  # warm-up (its own slot)
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(one_session(base, i, latencies, errors) for i in range(sessions))
            )
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {
        "benchmark": "chat_api",
        "endpoint": "POST /api/v1/sessions/{id}/chat",
        "brain": "rule",
        "storage": "postgresql" if url_db.startswith("postgres") else "sqlite",
        "concurrent_sessions": sessions,
        "chat_requests": len(latencies),
        "duration_s": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": _percentile(latencies, 50),
            "p95": _percentile(latencies, 95),
            "p99": _percentile(latencies, 99),
            "max": round(max(latencies), 1),
            "mean": round(statistics.fmean(latencies), 1),
        },
        "outcomes": {s: outcomes.count(s) for s in sorted(set(outcomes))},
        "errors": len(errors),
        "error_kinds": {e: errors.count(e) for e in sorted(set(errors))},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
    }


async def run_on_temp_postgres(sessions: int) -> dict[str, Any]:
    import asyncpg

    base = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"lisa_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await run(sessions, base.rsplit("/", 1)[0] + f"/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    parser.add_argument("--postgres", action="store_true", help="a temporary database on DATABASE_URL_TEST")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.postgres:
        result = asyncio.run(run_on_temp_postgres(args.sessions))
    else:
        result = asyncio.run(run(args.sessions, args.database_url))
    write_result(Path(args.out), result, pretty=True)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
