"""The HTTP edge of a real `lisa serve` (auth on): huge bodies cost no memory, slow clients are dropped, the
limits answer JSON, and the log (uvicorn's access log included) carries no token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets
from doubles.tokens import SECRET, token
from websockets.asyncio.client import connect

from api.cli.inprocess_server import free_port

ROOT = Path(__file__).resolve().parent.parent
LISA = ROOT / ".venv" / "bin" / "lisa"
MB = 1024 * 1024


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def lisa_serve(directory: Path, **settings: str) -> Iterator[Served]:
    port = free_port()
    command = [str(LISA)] if LISA.exists() else [sys.executable, "-m", "api.cli.main"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISA_", "OPENAI_", "DATABASE_"))} | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{directory}/lisa.db",
        "LISA_STT": "deepgram",  # cloud speech settings (no call is placed here)
        "DEEPGRAM_API_KEY": "dg-test",
        "LISA_TTS": "elevenlabs",
        "ELEVENLABS_API_KEY": "xi-test",
        "LISA_CLOCK": "2026-11-23T09:00:00+01:00",
        "AUTH_ENABLED": "true",
        "SUPABASE_JWT_SECRET": SECRET,
        "RATE_LIMIT_PER_MINUTE": "0",
        **settings,
    }
    log = directory / f"lisa-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            cwd=directory,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(proc, port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{served.url}/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, served.output()
            time.sleep(0.2)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Served]:
    with lisa_serve(tmp_path_factory.mktemp("edge"), HEADER_TIMEOUT_S="1", BODY_TIMEOUT_S="1") as served:
        yield served


def head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def post_huge(
    port: int, path: str, headers: dict[str, str], size: int, chunked: bool
) -> tuple[str, int]:
    """Offer a ``size``-byte body (chunked or with Content-Length) as curl does (``Expect: 100-continue``),
    stream it once the server asks for it, and read the answer meanwhile. The status line ("reset" when the
    server dropped the connection mid-upload, which may swallow its answer) and the body bytes sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
    writer.write(
        head(path, {"Content-Type": "application/json", "Expect": "100-continue", **headers, **framing})
    )
    first = (await asyncio.wait_for(reader.readline(), 10)).decode().strip()
    if not first.startswith("HTTP/1.1 100"):
        writer.close()
        return first, 0
    await reader.readline()
    sent = 0
    answer = asyncio.create_task(reader.readline())
    chunk = b"[" + b" " * (64 * 1024 - 1)
    try:
        while sent < size and not answer.done():
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            await writer.drain()
            sent += len(chunk)
        status = (await asyncio.wait_for(answer, 10)).decode().strip()
    except (ConnectionError, OSError):
        status = "reset"
    writer.close()
    return status, sent


def test_a_50_mb_body_costs_no_memory_and_is_refused_before_auth_work(server):
    sid = httpx.post(
        f"{server.url}/api/v1/sessions", json={}, headers={"authorization": f"Bearer {token()}"}
    ).json()["session_id"]
    path = f"/api/v1/sessions/{sid}/chat"
    before = server.rss_mb()
    cases = [
        ({}, False, "413"),  # declared 50 MB: refused on the header
        ({}, True, "401"),  # chunked, no token: refused before the body is read
        ({"Authorization": f"Bearer {token()}"}, True, "413"),  # chunked, signed in: refused after 1 MB
    ]
    for headers, chunked, expected in cases:
        status, sent = asyncio.run(post_huge(server.port, path, headers, 50 * MB, chunked))
        assert status == "reset" or status.split()[1] == expected, (headers, chunked, status)
        assert sent < 20 * MB, sent  # the server answered long before the 50 MB were out
    time.sleep(0.3)
    answers = [line for line in server.output().splitlines() if f'"POST {path} HTTP/1.1"' in line]
    assert [line.rsplit(" ", 1)[-1] for line in answers[-3:]] == ["413", "401", "413"], answers
    grown = server.rss_mb() - before
    print(f"RSS {before:.1f} MB -> +{grown:.1f} MB after three 50 MB bodies")
    assert grown < 15, grown
    r = httpx.post(
        f"{server.url}{path}", json={"message": "Hello"}, headers={"authorization": f"Bearer {token()}"}
    )
    assert r.status_code == 200


def test_twilio_webhooks_take_at_most_64_kb(server):
    r = httpx.post(f"{server.url}/twilio/status", content=b"CallSid=CA1&x=" + b"a" * 70_000)
    assert r.status_code == 413 and r.json() == {"detail": "body larger than 65536 bytes"}


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> tuple[float, bytes]:
    """Trickle ``trickle`` one byte per 0.2 s until the server answers or closes; (elapsed s, answer)."""
    sock.settimeout(0.2)
    start = time.monotonic()
    got = b""
    for i in range(int(seconds / 0.2)):
        if trickle:
            try:
                sock.send(trickle[i % len(trickle) : i % len(trickle) + 1])
            except OSError:
                break
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        if not data:
            break
        got += data
    return time.monotonic() - start, got


def test_slow_clients_are_dropped_with_a_json_answer(server):
    # headers trickling in, a byte at a time
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.send(b"GET /api/v1/health HTTP/1.1\r\n")
        elapsed, got = _closed_within(sock, 10, b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert elapsed < 4 and got.startswith(b"HTTP/1.1 408"), (elapsed, got)
    assert json.loads(got.split(b"\r\n\r\n", 1)[1])["detail"].startswith("request headers not received")
    # a connection that sends nothing
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        elapsed, got = _closed_within(sock, 10)
    assert elapsed < 4 and got.startswith(b"HTTP/1.1 408"), (elapsed, got)
    # a body trickling in
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.send(
            head(
                "/api/v1/sessions",
                {
                    "Content-Type": "application/json",
                    "Content-Length": "200",
                    "Authorization": f"Bearer {token()}",
                },
            )
        )
        elapsed, got = _closed_within(sock, 10, b"{" + b" " * 150)
    assert elapsed < 4 and got.startswith(b"HTTP/1.1 408"), (elapsed, got)
    assert b'"detail":"the body did not arrive within 1 s"' in got
    # malformed HTTP: uvicorn's 400, as JSON
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        _, got = _closed_within(sock, 3)
    assert got.startswith(b"HTTP/1.1 400") and b"application/json" in got, got


async def _socket_traffic(server: Served, user_token: str) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/ws?token={user_token}") as ws:
        assert json.loads(await ws.recv())["sender"] == "lisa"
    for refused in ("not-a-jwt", token()[:-4] + "abcd"):
        with pytest.raises(websockets.InvalidStatus):
            async with connect(f"ws://127.0.0.1:{server.port}/ws?token={refused}"):
                pass
    with pytest.raises(websockets.InvalidStatus):  # a user on the manager socket
        async with connect(f"ws://127.0.0.1:{server.port}/manager/ws?token={user_token}"):
            pass


def test_log_lines_carry_no_tokens_and_refused_sockets_no_errors(server):
    user_token = token("user-log")
    httpx.get(f"{server.url}/api/v1/health?token=SECRET-QUERY-TOKEN&access_token=AT-123&key=K-456")
    httpx.get(f"{server.url}/manager", params={"token": user_token})
    asyncio.run(_socket_traffic(server, user_token))
    time.sleep(0.5)
    out = server.output()
    assert "/api/v1/health?token=[redacted]&access_token=[redacted]&key=[redacted]" in out  # access log
    assert "/ws?token=[redacted]" in out
    for secret in ("SECRET-QUERY-TOKEN", "AT-123", "K-456", user_token, "not-a-jwt", "eyJ"):
        assert secret not in out, secret
    assert "Traceback" not in out and " ERROR " not in out, out[-3000:]
    refusals = [line for line in out.splitlines() if '"WebSocket /ws?token=[redacted]" 401' in line]
    assert len(refusals) == 2 and all(" WARNING " in line for line in refusals), refusals


def test_over_the_concurrency_limit_the_answer_is_json_503(tmp_path):
    with lisa_serve(tmp_path, LIMIT_CONCURRENCY="3", HEADER_TIMEOUT_S="20") as served:
        idle = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(3)]
        try:
            time.sleep(0.3)
            r = httpx.get(f"{served.url}/api/v1/health", timeout=10)
            assert r.status_code == 503 and r.json() == {"detail": "the server is busy; retry shortly"}
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.3)
        assert httpx.get(f"{served.url}/api/v1/health", timeout=10).status_code == 200


def loaded_uvloop(pid: int) -> bool:
    """Whether the process has uvloop's extension module mapped (imported)."""
    return "uvloop/loop.cpython" in Path(f"/proc/{pid}/maps").read_text()


def test_serve_runs_the_standard_event_loop_unless_told_otherwise(server, tmp_path):
    """The standard library's loop by default (README, "The HTTP edge": fair to every connection on a busy
    CPU); ``EVENT_LOOP=uvloop`` still chooses uvloop."""
    assert not loaded_uvloop(server.proc.pid)
    with lisa_serve(tmp_path, EVENT_LOOP="uvloop") as served:
        assert loaded_uvloop(served.proc.pid)
