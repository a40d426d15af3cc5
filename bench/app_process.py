"""The app under benchmark: ``lisa serve`` in a child process, configured only by its environment.

It runs in a temp dir (its SQLite file lives there, and a developer's ``.env`` in the checkout cannot reach
it) on a free loopback port. CPU and RSS are those of the whole process tree, so ``LISA_WORKERS`` > 1 is
measured whole.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLOCK = "2026-11-23T09:00:00+01:00"  # a Monday morning: the business is open
CALLER, OUR_NUMBER = "+4915112345678", "+4930123456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found = [pid]
    for parent in found:
        found += [child for child, of in parents.items() if of == parent]
    return found


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process tree."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of the process tree."""
    kb = 0
    for p in process_tree(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        kb += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return kb / 1024


class AppProcess:
    """``lisa serve`` with loopback telephony, temp SQLite, no rate limit, Lisa's clock at ``CLOCK``;
    ``env`` adds or overrides settings (providers, brain, ``LISA_WORKERS``); ``module`` is what runs
    ``serve`` (``api.cli.main``; the soak runs it through ``bench.soak_app``)."""

    def __init__(self, env: dict[str, str] | None = None, module: str = "api.cli.main") -> None:
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory()
        settings = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self.dir.name}/bench.db",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_MINUTE": "0",
            "LISA_TELEPHONY": "loopback",
            # the benchmark plays Twilio: it signs /twilio/voice and the stream upgrade with this token
            "TWILIO_AUTH_TOKEN": secrets.token_urlsafe(24),
            "TWILIO_VALIDATE_SIGNATURE": "true",
            "LISA_CLOCK": CLOCK,
            # capacity is what is measured: the production caps (40 streams per process, daily outbound
            # limits per user and number) would refuse the load levels
            "LISA_MAX_STREAMS": "1000",
            "OUTBOUND_MAX_REQUESTS_PER_USER_PER_DAY": "0",
            "OUTBOUND_MAX_REQUESTS_PER_NUMBER_PER_DAY": "0",
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "serve"], cwd=self.dir.name, env={**os.environ, **settings}
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self._ring_client: httpx.AsyncClient | None = None  # one for all rings (see inbound_call.ring)
        self.media = f"ws://127.0.0.1:{self.port}/twilio/media"
        self.auth_token = settings["TWILIO_AUTH_TOKEN"]

    async def ring(self) -> tuple[str, str, dict[str, str], dict[str, str]]:
        """A call to the app's number as Twilio brings it in (signed ``/twilio/voice``): its call sid, the
        stream URL and parameters of the TwiML (the stream token among them) and the signed upgrade headers."""
        from simulation import inbound_call
        from telephony.signature import SIGNATURE_HEADER, sign

        sid = "CA" + uuid.uuid4().hex
        if self._ring_client is None:
            self._ring_client = httpx.AsyncClient(timeout=15)
        _twiml, url, params = await inbound_call.ring(
            self.url,
            auth_token=self.auth_token,
            from_number=CALLER,
            to_number=OUR_NUMBER,
            call_sid=sid,
            client=self._ring_client,
        )
        return sid, url, params, {SIGNATURE_HEADER: sign(self.auth_token, url, {})}

    def call_in(self, **connect: Any) -> Any:
        """``async with app.call_in() as call``: :meth:`ring`, then a ``MediaStreamClient`` on its stream."""
        from simulation import inbound_call

        return inbound_call.call_in(
            self.url, auth_token=self.auth_token, from_number=CALLER, to_number=OUR_NUMBER, **connect
        )

    async def wait_ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.proc.poll() is not None:
                    break
                try:
                    await client.get(self.url + "/api/calls", timeout=1)
                    return
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        raise RuntimeError("the app did not start")

    def cpu_s(self) -> float:
        return cpu_s(self.proc.pid)

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        stop_process(self.proc)
        self.dir.cleanup()


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it is not gone within 15 s."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
