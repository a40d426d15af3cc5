"""`lisa serve --workers 2` as an operator runs it: one port, two app processes, one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from doubles.processes import children

from api.cli.inprocess_server import free_port

ROOT = Path(__file__).resolve().parent.parent
LISA = ROOT / ".venv" / "bin" / "lisa"


def test_two_workers_share_the_port_and_the_database(tmp_path):
    port = free_port()
    command = [str(LISA)] if LISA.exists() else [sys.executable, "-m", "api.cli.main"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISA_", "OPENAI_", "DATABASE_"))} | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/lisa.db",
        # cloud speech settings (no call is placed in this test)
        "LISA_STT": "deepgram",
        "DEEPGRAM_API_KEY": "dg-test",
        "LISA_TTS": "elevenlabs",
        "ELEVENLABS_API_KEY": "xi-test",
        "LISA_CLOCK": "2026-11-23T09:00:00+01:00",
    }
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,  # no stray .env
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
            workers = [pid for pid in children(proc.pid) if _is_python(pid)]
            assert len(workers) == 2, [_cmdline(pid) for pid in children(proc.pid)]

            # sessions made through one connection are there for the next (whichever worker takes it)
            made = []
            for _ in range(6):
                with httpx.Client(base_url=url, timeout=10) as fresh:  # a new connection each time
                    r = fresh.post("/api/v1/sessions", json={"language": "en"})
                    assert r.status_code == 201, r.text
                    made.append(r.json()["session_id"])
            for sid in made:
                with httpx.Client(base_url=url, timeout=10) as fresh:
                    r = fresh.post(f"/api/v1/sessions/{sid}/chat", json={"message": "When are you open?"})
                    assert r.status_code == 200, r.text
                    assert r.json()["reply"]
            assert client.get("/api/v1/sessions/unknown-session").status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    assert "2 workers: calls spread over them" in out  # and what stays per process is said at start


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _is_python(pid: int) -> bool:
    return "python" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
