"""The API's hot paths against the HTTP stack's own ceiling, measured with ``wrk`` (issue 16, part 2).

One ``lisa serve`` (embedded default: rule brain, loopback carrier, SQLite in a temp dir, rate limit off, the
product's log level) in a child process; ``wrk`` (the system package: C, one thread, not the bottleneck) runs
in turn, each for ``--duration`` seconds at ``--connections`` connections:

- ``GET /docs``: a static page through the whole middleware stack — the ceiling of uvicorn + Starlette here;
- ``GET /api/v1/health``;
- ``GET /api/v1/sessions/{id}`` over ``--sessions`` sessions (a Lua script picks the next id per request);
- ``POST /api/v1/sessions/{id}/chat`` over the same sessions (a Lua script: JSON body, next id per request).

Each level reports wrk's requests/s, latency percentiles and errors, the server's CPU (cores busy, and CPU ms
per request: what a request costs whatever share of the cores the server got) and its ratio to the static
page of the same run; the load average of the machine (other work shares the cores) is kept beside them. ``--postgres`` runs on a temporary database created on ``DATABASE_URL_TEST``; ``--rate-limit N`` turns the
rate limit on (a huge N: what counting costs, nobody refused) and writes ``api[_postgres]_rate_limited.json``.

    .venv/bin/python -m bench.api_bench [--duration 10] [--connections 200] [--sessions 200] [--postgres]

JSON to stdout and ``bench/results/api.json`` (``api_postgres.json`` with ``--postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.app_process import AppProcess
from bench.common import RESULTS_DIR, write_result

# FAQ questions (the turn stays open, the session never ends), a different one each round over the sessions:
# a session asked the same thing again and again would measure the engine's loop breaking instead
MESSAGES = [
    "What are your opening hours?",
    "What's your address?",
    "Is there parking?",
    "How much does a session cost?",
    "Do you take my insurance?",
]
MESSAGE = MESSAGES[0]
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

# one id per request, round robin over the sessions; with bodies, the next body each round
_LUA = """
local ids = {%(ids)s}
local bodies = {%(bodies)s}
local i = 0
local method = %(method)s
local headers = {["Content-Type"] = "application/json"}
request = function()
  local n = i %% #ids + 1
  local round = math.floor(i / #ids)
  i = i + 1
  local path = "/api/v1/sessions/" .. ids[n] .. "%(suffix)s"
  if #bodies > 0 then return wrk.format(method, path, headers, bodies[round %% #bodies + 1]) end
  return wrk.format(method, path)
end
"""


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]  # wrk's format
    return round(float(number) * _UNITS[unit], 3)


def parse_wrk(output: str) -> dict[str, Any]:
    """wrk's text output (run with ``--latency``) as figures: requests/s, latency percentiles, errors."""
    found: dict[str, Any] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        found["requests_per_s"] = round(float(m.group(1)), 1)
    if m := re.search(r"(\d+) requests in ([\d.]+\w+)", output):
        found["requests"] = int(m.group(1))
    latency: dict[str, float] = {}
    if m := re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output):
        latency["mean_ms"], latency["stdev_ms"], latency["max_ms"] = (_ms(g) for g in m.groups())
    for q, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", output, re.MULTILINE):
        latency[f"p{q}_ms"] = _ms(value)
    found["latency"] = latency
    errors: dict[str, int] = {}
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors["non_2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors.update(zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True))
    found["errors"] = errors
    return found


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def run_wrk(
    app: AppProcess, path: str, duration: float, connections: int, script: Path | None = None
) -> dict[str, Any]:
    """One wrk run against ``app``; the server's CPU over it (cores busy) is added to wrk's figures."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    cpu, start = app.cpu_s(), time.monotonic()
    done = subprocess.run([*command, app.url + path], capture_output=True, text=True, check=True)
    busy = (app.cpu_s() - cpu) / (time.monotonic() - start)
    figures = parse_wrk(done.stdout)
    rate = figures.get("requests_per_s") or 0.0
    return {
        **figures,
        "server_cores_busy": round(busy, 2),
        # what a request costs the server, whatever share of the cores it got (others' load included)
        "server_cpu_ms_per_request": round(busy * 1000 / rate, 3) if rate else None,
        "load_average_after": load_average(),
    }


def lua_script(
    directory: Path, name: str, ids: list[str], method: str, suffix: str, bodies: list[str]
) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(
        _LUA
        % {
            "ids": ", ".join(json.dumps(i) for i in ids),
            "bodies": ", ".join(json.dumps(b) for b in bodies),
            "method": json.dumps(method),
            "suffix": suffix,
        },
        encoding="utf-8",
    )
    return path


async def create_sessions(url: str, n: int) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        ids = []
        for _ in range(n):
            response = await client.post("/api/v1/sessions", json={"language": "en"})
            response.raise_for_status()
            ids.append(response.json()["session_id"])
        return ids


def check_chat(url: str, session_id: str) -> str:
    """One turn as the Lua script sends it, to be sure the load is real turns (200 with a reply)."""
    response = httpx.post(f"{url}/api/v1/sessions/{session_id}/chat", json={"message": MESSAGE}, timeout=30)
    response.raise_for_status()
    reply = response.json()["reply"]
    assert reply, response.text
    return str(reply)


def measure(args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    env = {"DATABASE_URL": database_url} if database_url else {}
    env["LOG_LEVEL"] = args.log_level
    env["RATE_LIMIT_PER_MINUTE"] = str(args.rate_limit)
    app = AppProcess(env)
    try:
        asyncio.run(app.wait_ready())
        ids = asyncio.run(create_sessions(app.url, args.sessions))
        reply = check_chat(app.url, ids[0])
        with tempfile.TemporaryDirectory() as tmp:
            bodies = [json.dumps({"message": m}) for m in MESSAGES]
            read = lua_script(Path(tmp), "read", ids, "GET", "", [])
            chat = lua_script(Path(tmp), "chat", ids, "POST", "/chat", bodies)
            warm = min(2.0, args.duration)
            run_wrk(app, "/docs", warm, args.connections)  # connections, caches and the JIT-less warm-up
            levels: dict[str, Any] = {}
            for name, path, script in (
                ("static_page", "/docs", None),
                ("health", "/api/v1/health", None),
                ("session_read", "/", read),
                ("chat_turn", "/", chat),
            ):
                levels[name] = run_wrk(app, path, args.duration, args.connections, script)
        ceiling = levels["static_page"].get("requests_per_s") or 1.0
        for figures in levels.values():
            figures["ratio_to_static_page"] = round(figures.get("requests_per_s", 0.0) / ceiling, 3)
        return {"levels": levels, "sample_reply": reply, "server_rss_mb": round(app.rss_mb(), 1)}
    finally:
        app.stop()


def _postgres_database(admin_url: str) -> tuple[str, str]:
    name = "lisa_api_bench_" + uuid.uuid4().hex[:8]
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


async def _pg(admin_url: str, statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # the bench's own optional use

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL (the product's default)")
    parser.add_argument(
        "--postgres", action="store_true", help="on a temporary database on DATABASE_URL_TEST"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="the server's RATE_LIMIT_PER_MINUTE (0: off, as the targets are set; a huge one measures its cost)",
    )
    parser.add_argument("--out", default=None, help="result file (default bench/results/api[_postgres].json)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    database_url = None
    admin = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
    name = ""
    if args.postgres:
        name, database_url = _postgres_database(admin)
        asyncio.run(_pg(admin, f'CREATE DATABASE "{name}"'))
    load_before = load_average()
    try:
        figures = measure(args, database_url)
    finally:
        if args.postgres:
            asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    result = {
        "benchmark": "api",
        "machine": f"{os.cpu_count()} cores (shared: see load_average)",
        "load_generator": "wrk -t1 --latency (one thread)",
        "database": "postgresql" if args.postgres else "sqlite",
        "server": f"lisa serve, one worker, LOG_LEVEL={args.log_level}, RATE_LIMIT_PER_MINUTE={args.rate_limit}, rule brain",
        "connections": args.connections,
        "duration_s": args.duration,
        "sessions": args.sessions,
        "load_average_before": load_before,
        "targets_requests_per_s": {"chat_turn": 2000, "session_read": 4000, "health": 5000},
        "target_chat_turn_p99_ms": 150,
        **figures,
    }
    stem = "api_postgres" if args.postgres else "api"
    default = RESULTS_DIR / (f"{stem}_rate_limited.json" if args.rate_limit else f"{stem}.json")
    write_result(Path(args.out) if args.out else default, result, pretty=True)


if __name__ == "__main__":
    main()
