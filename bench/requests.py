"""Benchmark: the outbound request API and scheduler on the embedded default (SQLite, loopback carrier).

- ``POST /api/process-request`` answer time (outside business hours: row + events + job, no call), and
  the same work without HTTP; ``http_round_trip_floor_ms`` is ``GET /api/v1/health`` on the same client
  (the in-process server's socket has TCP_NODELAY: without it every answer waited ~40 ms for the client's
  delayed ACK, which earlier runs mistook for the loopback round trip),
- submit-to-``call_started`` time inside business hours (scheduler poll + claim + placing the call),
- claim throughput: many due jobs picked up by one scheduler.

Runs the app in-process on a free loopback port. Prints one JSON object and writes it to
``bench/results/requests.json``.

    .venv/bin/python -m bench.requests [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from typing import Any

from api.cli.demo import REQUEST
from api.cli.inprocess_server import InProcessServer, loopback_socket, serve_in_process
from bench.common import RESULTS_DIR, write_result

RESULTS = RESULTS_DIR / "requests.json"
# the demo's sample request (seed 002's, in English); every run posts it with an id of its own
BODY: dict[str, Any] = {k: v for k, v in REQUEST.items() if k != "request_id"}


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(values),
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def _app(clock_iso: str, db: str) -> InProcessServer:
    from agent.clock import Clock
    from agent.settings import AgentSettings
    from api.app import create_app
    from api.settings import ApiSettings

    sock = loopback_socket()
    port = sock.getsockname()[1]
    api = ApiSettings(_env_file=None, host="127.0.0.1", port=port, database_url=db, rate_limit_per_minute=0)
    return await serve_in_process(
        create_app(api, AgentSettings(_env_file=None), clock=Clock(clock_iso)), sock
    )


async def run(n: int) -> dict[str, Any]:
    import httpx

    os.environ.setdefault("SCHEDULER_POLL_S", "0.05")
    os.environ.setdefault("OUTBOUND_MAX_ATTEMPTS", "1")
    # what is measured is the API and the scheduler: the daily limits per user and number would refuse it
    os.environ.setdefault("OUTBOUND_MAX_REQUESTS_PER_USER_PER_DAY", "0")
    os.environ.setdefault("OUTBOUND_MAX_REQUESTS_PER_NUMBER_PER_DAY", "0")
    os.environ["LISA_TELEPHONY"] = "loopback"
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. answer time outside business hours (Saturday): no calls, pure API + storage
        served = await _app("2026-11-28T10:00:00+01:00", f"sqlite:///{tmp}/a.db")
        times: list[float] = []
        async with httpx.AsyncClient(base_url=served.url) as client:
            for _ in range(n):
                body = {**BODY, "request_id": str(uuid.uuid4())}
                t = time.perf_counter()
                r = await client.post("/api/process-request", json=body)
                times.append((time.perf_counter() - t) * 1000)
                assert r.json()["status"] == "scheduled", r.text
            t = time.perf_counter()
            for _ in range(n):
                await client.post("/api/process-request", json={**BODY, "request_id": body["request_id"]})
            repeat = (time.perf_counter() - t) * 1000 / n
            t = time.perf_counter()
            for _ in range(50):
                await client.get("/api/v1/health")
            http_floor = (time.perf_counter() - t) * 1000 / 50
        out["post_scheduled"] = _stats(times)
        out["post_repeat_mean_ms"] = round(repeat, 2)
        out["http_round_trip_floor_ms"] = round(http_floor, 2)  # GET /api/v1/health on the same client
        # the same work without HTTP: validation + RequestProcessor.submit (row, events, job in one transaction)
        from api.requests.models import ProcessRequestBody

        processor = served.state.requests.processor
        direct: list[float] = []
        for _ in range(n):
            t = time.perf_counter()
            parsed = ProcessRequestBody.model_validate({**BODY, "request_id": str(uuid.uuid4())})
            await processor.submit(parsed, "en")
            direct.append((time.perf_counter() - t) * 1000)
        out["submit_without_http"] = _stats(direct)
        await served.stop()

        # 2. a Monday morning: submit -> call_started (nobody answers on the loopback carrier)
        served = await _app("2026-11-23T09:15:00+01:00", f"sqlite:///{tmp}/b.db")
        store = served.state.requests.processor.store
        latencies: list[float] = []
        async with httpx.AsyncClient(base_url=served.url) as client:
            for _ in range(min(n, 30)):
                rid = str(uuid.uuid4())
                t = time.perf_counter()
                await client.post("/api/process-request", json={**BODY, "request_id": rid})
                while not any(e["type"] == "call_started" for e in await store.events(rid)):  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
                latencies.append((time.perf_counter() - t) * 1000)
        out["submit_to_call_started"] = _stats(latencies)
        await served.stop()

        # 3. claim throughput: n due jobs, one scheduler tick loop, no room limit
        from agent.clock import Clock
        from api.requests.store import RequestStore
        from api.storage import Database

        db = await Database.connect(f"sqlite:///{tmp}/c.db")
        store = RequestStore(db)
        now = Clock("2026-11-23T09:15:00+01:00").now()
        for _ in range(n):
            rid = str(uuid.uuid4())
            row = {**BODY, "id": rid, "language": "en", "status": "queued", "number_to_call": "+49307654321"}
            await store.create(row, [("request_received", "bench")], job_due=now)
        t = time.perf_counter()
        claimed = 0
        for job in await store.due_jobs(now, now.replace(year=2000), limit=n):
            claimed += await store.claim(job, "bench", now, now.replace(year=2000))
        elapsed = (time.perf_counter() - t) * 1000
        out["claim"] = {"jobs": n, "claimed": claimed, "per_claim_ms": round(elapsed / max(claimed, 1), 3)}
        await db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    result = {
        "benchmark": "requests",
        "machine": f"{os.cpu_count()} cores",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],  # other work shares the cores
        **asyncio.run(run(args.requests)),
    }
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()
