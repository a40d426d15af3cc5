"""Soak: a fixed stretch of mixed load on one ``lisa serve``, watching for leaks (not run in CI).

    .venv/bin/python -m bench.soak [--minutes 30] [--chat-rest 3] [--chat-ws 2] [--calls 3]
                                   [--outbound-every 20] [--sample-s 15] [--warmup-minutes M] [--postgres]

Three processes on loopback: the app (``lisa serve`` on the cloud stack — Deepgram STT, LLM brain,
ElevenLabs TTS — pointed at the protocol servers of ``tests/fakes`` run by ``bench.cloud_bench
--providers``; loopback telephony; temp SQLite, or a temp PostgreSQL database with ``--postgres``), the
providers, and this process, which keeps the load up for ``--minutes``:

- chat users over REST (create a session, four messages with think time, read it, ``DELETE`` it) and over
  the ``/ws`` WebSocket (greeting, four messages, each answered by Lisa; close), one new chat after another;
- phone calls as Twilio brings them in (signed ``/twilio/voice``, the TwiML's stream token, a signed
  upgrade), driven by one 20 ms ticker (:mod:`bench.twilio_load`): Lisa's greeting, two spoken (Piper)
  questions each answered, hang-up, then the call's record must be closed (``ended_at``);
- an outbound request (``POST /api/process-request``, seed 002's body with a fresh id) every
  ``--outbound-every`` seconds: the loopback carrier places each call (no party answers a number in
  ``lisa serve``: it rings out, is retried once after 60 s, then fails — the scheduler, claims, statuses and
  retries all run). The daily per-user and per-number limits are off (``bench/app_process.py``).

Errors (target 0): any unexpected HTTP status, timeout or dropped socket on our side, a turn Lisa does not
answer within 30 s, a call record left open, an outbound request that does not settle, and every WARNING or
ERROR line the app logs. Sampled every ``--sample-s`` seconds from outside the app (``/proc``): RSS, open
file descriptors (sockets among them), threads, database connections (PostgreSQL: ``pg_stat_activity``
rows of its database; SQLite: the app's pool, in use + idle, beside the descriptors on the database file), and
asyncio tasks and connections checked out of its pool, counted inside the app by ``bench.soak_app`` on SIGUSR1 (written to a file; no route exposes
them). Drift = % change from the first sample after the warm-up to the last sample under load (target: flat),
beside each metric's range and least-squares trend per 10 minutes; the idle sample after the load stopped is
compared with the idle one before it started.

JSON to stdout and ``bench/results/soak.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.app_process import AppProcess
from bench.cloud_bench import (
    QUESTIONS,
    Child,
    cloud_env,
    read_json,
    speech,
    summary,
)
from bench.common import RESULTS_DIR, write_result
from bench.twilio_load import Ticker

RESULTS = RESULTS_DIR / "soak.json"
CHAT_LINES = [
    "Hi, what are your opening hours?",
    "I'd like to book an appointment next week.",
    "Tuesday morning would suit me.",
    "Thanks, that's all. Bye!",
]
TURN_LIMIT_S = 30.0
SETTLE_S = 150.0  # an outbound request submitted this long before the end must have settled by then


class Tally:
    """What the load did, and everything that went wrong (by kind, with a few examples)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, str] = {}
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, detail[:200])

    def took(self, what: str, started: float) -> None:
        self.latencies[what].append((time.monotonic() - started) * 1000)


def expect(tally: Tally, kind: str, r: httpx.Response, *ok: int) -> bool:
    if r.status_code in ok:
        return True
    tally.error(f"{kind}: HTTP {r.status_code}", r.text)
    return False


# ------------------------------------------------------------------------------------------- load


async def chat_rest_user(app: AppProcess, tally: Tally, stop: asyncio.Event, rng: random.Random) -> None:
    """Chats over REST, one after another: create, four messages with think time, read, delete."""
    async with httpx.AsyncClient(base_url=app.url, timeout=TURN_LIMIT_S) as client:
        while not stop.is_set():
            try:
                r = await client.post("/api/v1/sessions", json={"language": "en"})
                if not expect(tally, "chat create", r, 201):
                    await asyncio.sleep(2)
                    continue
                sid = r.json()["session_id"]
                for line in CHAT_LINES:
                    await asyncio.sleep(rng.uniform(1.0, 3.0))
                    started = time.monotonic()
                    r = await client.post(f"/api/v1/sessions/{sid}/chat", json={"message": line})
                    tally.took("chat_rest_message", started)
                    if not expect(tally, "chat message", r, 200):
                        break
                    tally.counts["chat_rest_messages"] += 1
                    if r.json().get("status") == "ended":
                        break
                expect(tally, "chat read", await client.get(f"/api/v1/sessions/{sid}"), 200)
                if expect(tally, "chat delete", await client.delete(f"/api/v1/sessions/{sid}"), 200):
                    tally.counts["chat_rest_sessions"] += 1
            except httpx.HTTPError as exc:
                tally.error(f"chat rest: {type(exc).__name__}", str(exc))
                await asyncio.sleep(1)


async def chat_ws_user(app: AppProcess, tally: Tally, stop: asyncio.Event, rng: random.Random) -> None:
    """Chats over ``/ws``: greeting, four messages each answered by Lisa, close."""
    from websockets.asyncio.client import connect

    url = app.url.replace("http://", "ws://") + "/ws?language=en"

    async def lisa_says(ws: Any) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), TURN_LIMIT_S))
            if "error" in frame or frame.get("code"):
                raise RuntimeError(f"error frame {frame}")
            if frame.get("sender") == "lisa":
                return frame

    while not stop.is_set():
        try:
            async with connect(url, open_timeout=TURN_LIMIT_S, close_timeout=5) as ws:
                await lisa_says(ws)  # the greeting
                for line in CHAT_LINES:
                    await asyncio.sleep(rng.uniform(1.0, 3.0))
                    started = time.monotonic()
                    await ws.send(json.dumps({"type": "message", "content": line}))
                    await lisa_says(ws)
                    tally.took("chat_ws_message", started)
                    tally.counts["chat_ws_messages"] += 1
            tally.counts["chat_ws_sessions"] += 1
        except Exception as exc:  # every failure of a chat socket is an error of the soak
            tally.error(f"chat ws: {type(exc).__name__}", str(exc))
            await asyncio.sleep(1)


async def caller(
    app: AppProcess, ticker: Ticker, tally: Tally, stop: asyncio.Event, rng: random.Random, turns: int
) -> None:
    """Calls one after another: greeting, ``turns`` questions each answered, hang up, record closed."""
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        while not stop.is_set():
            call = None
            try:
                sid, url, params, headers = await app.ring()
                call = await ticker.connect(url, params, call_sid=sid, headers=headers)
                started = call.t0
                await call.wait_speaking(call.t0, TURN_LIMIT_S)
                tally.took("call_greeting_first_audio", started)
                await call.wait_done(60)
                for i in range(turns):
                    await asyncio.sleep(rng.uniform(0.5, 2.0))
                    frames, tail_ms = await speech(QUESTIONS[rng.randrange(len(QUESTIONS))])
                    speech_end = await call.speak(frames) - tail_ms / 1000
                    try:
                        reply = await call.wait_speaking(speech_end, TURN_LIMIT_S)
                    except TimeoutError:
                        tally.error("call: turn not answered", f"turn {i + 1} of {sid}")
                        continue
                    tally.latencies["call_voice_to_voice_client"].append((reply - speech_end) * 1000)
                    tally.counts["call_turns_answered"] += 1
                    await call.wait_done(60)
                await call.stop()
                call = None
                if await record_closed(client, sid):
                    tally.counts["calls_served"] += 1
                else:
                    tally.error("call: record not closed within 15 s", sid)
            except (TimeoutError, ConnectionError, OSError, httpx.HTTPError) as exc:
                tally.error(f"call: {type(exc).__name__}", str(exc))
                await asyncio.sleep(1)
            finally:
                if call is not None:
                    await call.stop()


async def record_closed(client: httpx.AsyncClient, sid: str) -> bool:
    for _ in range(150):
        r = await client.get(f"/api/calls/{sid}")
        if r.status_code == 200 and r.json().get("ended_at"):
            return True
        await asyncio.sleep(0.1)
    return False


async def outbound(
    app: AppProcess, tally: Tally, stop: asyncio.Event, every_s: float, submitted: dict[str, float]
) -> None:
    """A new outbound request every ``every_s`` seconds (seed 002's body, a fresh request id)."""
    from api.cli.demo import REQUEST

    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        while not stop.is_set():
            rid = str(uuid.uuid4())
            try:
                started = time.monotonic()
                r = await client.post("/api/process-request", json={**REQUEST, "request_id": rid})
                tally.took("process_request", started)
                if expect(tally, "process-request", r, 200):
                    if r.json().get("status") == "accepted":
                        submitted[rid] = time.monotonic()
                        tally.counts["outbound_requests_accepted"] += 1
                    else:
                        tally.error("process-request: not accepted", r.text)
            except httpx.HTTPError as exc:
                tally.error(f"process-request: {type(exc).__name__}", str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)


async def outbound_outcome(app: AppProcess, tally: Tally, submitted: dict[str, float]) -> dict[str, Any]:
    """Where every submitted request stands; one submitted more than ``SETTLE_S`` ago must be final."""
    statuses: collections.Counter[str] = collections.Counter()
    calls = 0
    now = time.monotonic()
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        for rid, at in submitted.items():
            r = await client.get(f"/api/requests/{rid}")
            if not expect(tally, "request read", r, 200):
                continue
            data = r.json()
            status = data.get("status", "?")
            statuses[status] += 1
            calls += sum(1 for e in data.get("events", []) if e.get("type") == "call_started")
            if now - at > SETTLE_S and status not in ("booked", "failed", "canceled"):
                tally.error("outbound: request not settled", f"{rid} {status} after {now - at:.0f} s")
    return {"statuses": dict(statuses), "calls_placed": calls}


# ------------------------------------------------------------------------------------------- sampling


class Probe:
    """The app process from outside: /proc, the database, and SIGUSR1 for its task count."""

    def __init__(
        self, app: AppProcess, tasks_file: Path, pg_admin_url: str | None, pg_db: str | None
    ) -> None:
        self.app, self.tasks_file = app, tasks_file
        self.pg_admin_url, self.pg_db = pg_admin_url, pg_db
        self.db_file = Path(app.dir.name) / "bench.db"

    async def sample(self, t0: float, phase: str) -> dict[str, Any]:
        pid = self.app.proc.pid
        fds = list_fds(pid)
        sample = {
            "t_s": round(time.monotonic() - t0, 1),
            "phase": phase,
            "rss_mb": round(self.app.rss_mb(), 1),
            "fds": len(fds),
            "sockets": sum(1 for f in fds if f.startswith("socket:")),
            "threads": threads(pid),
            "db_file_fds": await self.db_connections(fds),
            **await self.tasks(),
        }
        # database connections: PostgreSQL's own count; on SQLite the app's pool (in use + idle), as
        # descriptors on the database file can outlive a closed connection (SQLite defers closing a
        # descriptor while another connection holds a lock on the file)
        if self.pg_db is not None:
            sample["db_connections"] = sample.pop("db_file_fds")
        elif sample["db_checked_out"] is not None:
            sample["db_connections"] = sample["db_checked_out"] + sample["db_idle_in_pool"]
        else:
            sample["db_connections"] = None
        return sample

    async def db_connections(self, fds: list[str]) -> int | None:
        if self.pg_db is None:
            return sum(1 for f in fds if f == str(self.db_file))
        import asyncpg

        conn = await asyncpg.connect(self.pg_admin_url)
        try:
            return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", self.pg_db)
        finally:
            await conn.close()

    async def tasks(self) -> dict[str, Any]:
        before = self.tasks_file.stat().st_mtime_ns if self.tasks_file.exists() else 0
        os.kill(self.app.proc.pid, signal.SIGUSR1)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if self.tasks_file.exists() and self.tasks_file.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError, OSError):
                    data = json.loads(self.tasks_file.read_text())
                    extra = {"objects": data["objects"]} if "objects" in data else {}
                    pool = data.get("db_pool", {})
                    return {
                        "asyncio_tasks": data["tasks"],
                        "db_checked_out": pool.get("checked_out"),
                        "db_idle_in_pool": pool.get("idle_in_pool"),
                        "top_tasks": data["top"][:5],
                        **extra,
                    }
        return {"asyncio_tasks": None, "db_checked_out": None, "db_idle_in_pool": None, "top_tasks": []}


def list_fds(pid: int) -> list[str]:
    out = []
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return out


def threads(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return None


METRICS = (
    "rss_mb",
    "fds",
    "sockets",
    "threads",
    "db_connections",
    "db_checked_out",
    "db_file_fds",
    "asyncio_tasks",
)


def drift(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per metric: first sample after the warm-up, last under load, % change, and the range in between."""
    steady = [s for s in samples if s["phase"] == "steady"]
    if len(steady) < 2:
        return {}
    out: dict[str, Any] = {}
    for m in METRICS:
        values = [s[m] for s in steady if s.get(m) is not None]
        if len(values) < 2:
            continue
        first, last = values[0], values[-1]
        out[m] = {
            "first_after_warmup": first,
            "last": last,
            "drift_pct": round(100 * (last - first) / first, 1) if first else None,
            "min": min(values),
            "max": max(values),
            "trend_per_10_min": trend([s["t_s"] for s in steady if s.get(m) is not None], values, per_s=600),
        }
    return out


def trend(ts: list[float], values: list[float], per_s: float) -> float | None:
    """Least-squares slope of ``values`` over ``ts``, per ``per_s`` seconds (noise-robust beside first/last)."""
    n = len(ts)
    mean_t, mean_v = sum(ts) / n, sum(values) / n
    var = sum((t - mean_t) ** 2 for t in ts)
    if not var:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(ts, values, strict=True)) / var
    return round(slope * per_s, 2)


def app_log_problems(path: Path) -> dict[str, Any]:
    """WARNING/ERROR/CRITICAL lines the app logged (its format: ``time LEVEL logger: message``)."""
    levels: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            m = re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.{0,80})", line)
            if m:
                levels[m.group(1)] += 1
                kinds[f"{m.group(1)} {m.group(2)}: {re.sub(r'[0-9a-fA-F-]{8,}', '…', m.group(3))}"] += 1
    return {"by_level": dict(levels), "most_common": kinds.most_common(5)}


# ------------------------------------------------------------------------------------------- run


async def temp_postgres() -> tuple[str, str, str]:
    """A fresh database on ``DATABASE_URL_TEST``: (its URL, the admin URL, its name)."""
    import asyncpg

    admin_url = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"lisa_soak_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", admin_url, name


async def drop_postgres(admin_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def object_growth(samples: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """With ``--objects``: the types whose live count (after a collection) grew most from the first steady
    sample to the last, and from the idle sample before the load to the idle one after it."""

    def growth(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, int]]:
        first, last = dict(a.get("objects", [])), dict(b.get("objects", []))
        grown = {t: n - first.get(t, 0) for t, n in last.items()}
        return sorted(((t, g) for t, g in grown.items() if g > 0), key=lambda x: -x[1])[:12]

    steady = [s for s in samples if s["phase"] == "steady" and "objects" in s]
    return {
        "under_load": growth(steady[0], steady[-1]) if len(steady) > 1 else [],
        "idle_before_to_idle_after": growth(samples[0], samples[-1]),
    }


def soak_app(urls: dict[str, str], work: Path, database_url: str | None, objects: bool = False) -> AppProcess:
    """``lisa serve`` on the cloud stack (as ``bench.cloud_bench``), run by :mod:`bench.soak_app`."""
    env = {
        **cloud_env(urls),
        "OUTBOUND_MAX_ATTEMPTS": "2",
        "OUTBOUND_RETRY_DELAY_S": "60",
        "LISA_SOAK_TASKS_FILE": str(work / "tasks.json"),
        "LISA_SOAK_LOG": str(work / "app.log"),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if objects:
        env["LISA_SOAK_OBJECTS"] = "1"
    return AppProcess(env, module="bench.soak_app")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lisa-soak-"))
    stats = work / "providers.json"
    providers = Child(["--providers", str(stats)], stdout=subprocess.PIPE)
    pg: tuple[str, str, str] | None = await temp_postgres() if args.postgres else None
    app: AppProcess | None = None
    tally = Tally()
    samples: list[dict[str, Any]] = []
    submitted: dict[str, float] = {}
    try:
        urls = json.loads(await asyncio.to_thread(providers.proc.stdout.readline))
        app = soak_app(urls, work, pg[0] if pg else None, args.objects)
        await app.wait_ready()
        probe = Probe(app, work / "tasks.json", pg[1] if pg else None, pg[2] if pg else None)
        for q in QUESTIONS:
            await speech(q)
        t0 = time.monotonic()
        await asyncio.sleep(2)
        samples.append(await probe.sample(t0, "idle_before"))
        ticker = Ticker()
        ticker.start()
        stop = asyncio.Event()
        rng = random.Random(args.seed)
        duration_s = args.minutes * 60
        warmup_s = (
            args.warmup_minutes if args.warmup_minutes is not None else min(3.0, args.minutes / 5)
        ) * 60
        own0, cpu0, load_t0 = time.process_time(), app.cpu_s(), time.monotonic()
        load = [
            *(chat_rest_user(app, tally, stop, random.Random(rng.random())) for _ in range(args.chat_rest)),
            *(chat_ws_user(app, tally, stop, random.Random(rng.random())) for _ in range(args.chat_ws)),
            *(
                caller(app, ticker, tally, stop, random.Random(rng.random()), args.turns)
                for _ in range(args.calls)
            ),
            outbound(app, tally, stop, args.outbound_every, submitted),
        ]
        tasks = [asyncio.create_task(c) for c in load]
        next_sample = load_t0 + args.sample_s
        while (now := time.monotonic()) < load_t0 + duration_s:
            await asyncio.sleep(max(0.0, min(next_sample, load_t0 + duration_s) - now))
            if time.monotonic() >= next_sample:
                phase = "warmup" if time.monotonic() - load_t0 < warmup_s else "steady"
                samples.append(await probe.sample(t0, phase))
                next_sample += args.sample_s
            if any(t.done() for t in tasks):
                for t in tasks:
                    if t.done() and t.exception():
                        tally.error(
                            f"load generator crashed: {type(t.exception()).__name__}", str(t.exception())
                        )
                break
        if time.monotonic() - t0 - samples[-1]["t_s"] > 1.0:
            samples.append(await probe.sample(t0, "steady"))
        load_s = time.monotonic() - load_t0
        app_cores = (app.cpu_s() - cpu0) / load_s
        own_cores = (time.process_time() - own0) / load_s
        stop.set()  # every user finishes what it is doing (a chat, a call), then stops
        done, pending = await asyncio.wait(tasks, timeout=120)
        for t in pending:
            t.cancel()
            tally.error("load generator did not stop within 120 s")
        await ticker.stop()
        await asyncio.sleep(10)  # the app settles: calls closed, sockets gone
        samples.append(await probe.sample(t0, "idle_after"))
        outcome = await outbound_outcome(app, tally, submitted)
        log_problems = app_log_problems(work / "app.log")
        if log_problems["by_level"]:
            tally.error("app logged warnings/errors", json.dumps(log_problems["most_common"][:2]))
        lat = {k: summary(v) for k, v in sorted(tally.latencies.items())}
        idle_before, idle_after = samples[0], samples[-1]
        report: dict[str, Any] = {
            "benchmark": "soak",
            "minutes": round(load_s / 60, 2),
            "warmup_minutes": round(warmup_s / 60, 2),
            "machine_cores": os.cpu_count(),
            "storage": "postgresql" if pg else "sqlite",
            "stack": "cloud stack (Deepgram STT, LLM brain, ElevenLabs TTS) against the protocol servers; "
            "loopback telephony; the chats use the same LLM brain",
            "load": {
                "chat_users_rest": args.chat_rest,
                "chat_users_ws": args.chat_ws,
                "concurrent_calls": args.calls,
                "turns_per_call": args.turns,
                "outbound_request_every_s": args.outbound_every,
            },
            "served": {
                **dict(sorted(tally.counts.items())),
                "outbound": outcome,
            },
            "errors": sum(tally.errors.values()),
            "error_kinds": dict(tally.errors),
            "error_examples": tally.examples,
            "app_log": log_problems,
            "latency": lat,
            "drift": drift(samples),
            "idle_before_vs_after": {
                m: [idle_before.get(m), idle_after.get(m)] for m in METRICS if m in idle_before
            },
            **({"object_growth": object_growth(samples)} if args.objects else {}),
            "samples": [{k: v for k, v in x.items() if k != "objects"} for x in samples],
            "app_cores_under_load": round(app_cores, 3),
            "load_generator_cores": round(own_cores, 3),
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "targets": {"errors": 0, "drift": "flat after warm-up"},
        }
        return report
    finally:
        if app is not None:
            app.stop()
        providers.stop()
        read_json(stats)
        if pg:
            await drop_postgres(pg[1], pg[2])
        if tally.errors:
            print(f"the app's log is kept: {work / 'app.log'}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the load (2 for a smoke run)")
    parser.add_argument("--warmup-minutes", type=float, default=None, help="default: a fifth, at most 3")
    parser.add_argument("--chat-rest", type=int, default=3, help="concurrent chat users over REST")
    parser.add_argument("--chat-ws", type=int, default=2, help="concurrent chat users over /ws")
    parser.add_argument("--calls", type=int, default=3, help="concurrent phone calls")
    parser.add_argument("--turns", type=int, default=2, help="questions per call")
    parser.add_argument(
        "--outbound-every", type=float, default=20.0, help="seconds between outbound requests"
    )
    parser.add_argument("--sample-s", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--postgres", action="store_true", help="a temp database on DATABASE_URL_TEST")
    parser.add_argument("--objects", action="store_true", help="also count live objects by type (leak hunt)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    write_result(args.out, asyncio.run(main(args)), pretty=True)


if __name__ == "__main__":
    cli()
