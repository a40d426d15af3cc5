"""What the fault tests need: the cloud voice stack on local protocol servers (cheap calls, no local inference),
``lisa serve`` as a real process to kill, and a throwaway PostgreSQL server of their own to stop and start
(never the machine's shared one)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from doubles.processes import children
from fakes.deepgram_protocol_server import DeepgramProtocolServer
from fakes.elevenlabs_protocol_server import ElevenLabsProtocolServer
from prerequisites import missing

from api.cli.inprocess_server import free_port
from pipelines.settings import VoiceSettings

ROOT = Path(__file__).resolve().parent.parent
LISA = ROOT / ".venv" / "bin" / "lisa"
DEEPGRAM_KEY = "dg-fault-test"
ELEVENLABS_KEY = "xi-fault-test"
TWILIO_TOKEN = "fault-test-twilio-auth-token"


class CloudVoice:
    """Deepgram and ElevenLabs protocol servers, and the settings that point Lisa at them."""

    def __init__(self, *lines: str) -> None:
        # the callers here are silent between lines (Twilio would send silence): no NET-0001 idle close
        self.deepgram = DeepgramProtocolServer(
            lines, api_key=DEEPGRAM_KEY, per_connection=False, idle_timeout_s=300
        )
        self.elevenlabs = ElevenLabsProtocolServer(api_key=ELEVENLABS_KEY, ms_per_char=10)

    def settings(self, **values: Any) -> VoiceSettings:
        return VoiceSettings(_env_file=None, **self.values(), **values)

    def values(self) -> dict[str, Any]:
        return {
            "lisa_stt": "deepgram",
            "lisa_tts": "elevenlabs",
            "deepgram_api_key": DEEPGRAM_KEY,
            "deepgram_base_url": self.deepgram.url,
            "elevenlabs_api_key": ELEVENLABS_KEY,
            "elevenlabs_base_url": self.elevenlabs.url,
        }

    def env(self) -> dict[str, str]:
        return {k.upper(): str(v) for k, v in self.values().items()}

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CloudVoice]:
        async with self.deepgram, self.elevenlabs:
            yield self


# ------------------------------------------------------------------------------------------ lisa serve


class LisaServe:
    """``lisa serve`` in a process of its own (its output in ``log``), to be killed and started again."""

    def __init__(self, workdir: Path, env: dict[str, str], workers: int = 1) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LISA_", "OPENAI_", "DATABASE_"))}
        self.env = (
            base
            | {
                "PYTHONPATH": str(ROOT),
                "LISA_CLOCK": "2026-11-23T09:00:00+01:00",
                "LISA_BRAIN": "rule",
                "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "PUBLIC_URL": self.url,
            }
            | env
        )
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "lisa-serve.log"
        self.runs = 0

    def start(self, timeout_s: float = 90.0) -> LisaServe:
        command = [str(LISA)] if LISA.exists() else [sys.executable, "-m", "api.cli.main"]
        args = [*command, "serve", "--port", str(self.port)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        self.runs += 1
        with open(self.log, "a") as out:
            out.write(f"\n===== run {self.runs}\n")
            out.flush()
            self.proc = subprocess.Popen(args, cwd=self.workdir, env=self.env, stdout=out, stderr=out)
        self.wait_healthy(timeout_s)
        return self

    def wait_healthy(self, timeout_s: float = 90.0) -> float:
        """Seconds until ``/api/v1/health`` answered 200."""
        began = time.monotonic()
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/api/v1/health").status_code == 200:
                        return time.monotonic() - began
                assert self.proc is not None and self.proc.poll() is None, self.output()
                assert time.monotonic() - began < timeout_s, "lisa serve did not come up\n" + self.output()
                time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        return children(self.proc.pid)

    def kill(self) -> None:
        """``kill -9`` of the whole server (master and workers)."""
        assert self.proc is not None
        for pid in self.worker_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""


# ------------------------------------------------------------------------------------------ PostgreSQL


def postgres_bin() -> Path:
    """The directory of ``initdb``/``postgres``; :func:`missing` when there is none (fails under CI)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    which = shutil.which("initdb")
    path = Path(found[0]) if found else Path(which) if which else None
    if path is None:
        missing("no PostgreSQL server binaries (initdb) to start a throwaway server with")
    return path.parent


class ThrowawayPostgres:
    """A PostgreSQL server of this test alone (its own data directory and port), stopped and started at will;
    run as the ``postgres`` user when the test runs as root (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="lisa-pg-"))
        self.user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = "postgres"
            try:
                shutil.chown(self.dir, self.user)
            except LookupError:
                shutil.rmtree(self.dir, ignore_errors=True)
                missing("running as root and there is no 'postgres' user to run a throwaway PostgreSQL as")
        self.data = self.dir / "data"
        self.proc: subprocess.Popen | None = None
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, user=self.user, cwd=self.dir, timeout=120)

    def init(self) -> ThrowawayPostgres:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        return self

    def start(self, timeout_s: float = 30.0) -> float:
        """Start the server on its port; seconds until it accepted connections."""
        log = open(self.dir / "postgres.log", "a")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D", str(self.data),
                "-p", str(self.port),
                "-k", str(self.dir),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "max_connections=60",
            ],
            stdout=log,
            stderr=log,
            user=self.user,
            cwd=self.dir,
        )  # fmt: skip
        log.close()
        began = time.monotonic()
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                ready = subprocess.run(
                    [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                    capture_output=True,
                )
                if ready.returncode == 0:
                    return time.monotonic() - began
            assert self.proc.poll() is None, (self.dir / "postgres.log").read_text()[-3000:]
            assert time.monotonic() - began < timeout_s, "PostgreSQL did not start"
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGINT) -> None:
        """Stop the server: SIGINT is PostgreSQL's fast shutdown (a restart; SIGTERM would wait for the app's
        pooled connections to leave), SIGKILL a crash of the server and its backends."""
        if self.proc is None or self.proc.poll() is not None:
            return
        backends = children(self.proc.pid) if sig == signal.SIGKILL else []
        self.proc.send_signal(sig)
        for pid in backends:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if sig == signal.SIGKILL:
            deadline = time.monotonic() + 10
            while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in backends):
                assert time.monotonic() < deadline, "PostgreSQL backends outlived SIGKILL"
                time.sleep(0.05)

    def remove(self) -> None:
        self.stop(signal.SIGINT)
        shutil.rmtree(self.dir, ignore_errors=True)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    try:
        pg.init().start()
        yield pg
    finally:
        pg.remove()
