"""An ASGI app served by uvicorn inside the running event loop on a free 127.0.0.1 port (the replay runner's
and the demo's in-process app, the request benchmark's, the tests' app server)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.state import AppState


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (for a server in another process, or an address where
    nothing listens)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_socket(*, nodelay: bool = True) -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 (not yet listening; uvicorn listens on it).

    ``nodelay`` (on by default) sets TCP_NODELAY, which accepted connections inherit. asyncio sets it itself
    only on sockets whose ``proto`` is IPPROTO_TCP (this one's is 0), and uvicorn writes a response's headers
    and body in two writes: without it Nagle holds the body until the client's delayed ACK, ~40 ms a response."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def loopback_telephony() -> Iterator[None]:
    """In-process replays and the demo always use the loopback carrier (never dial real numbers from them),
    whatever ``LISA_TELEPHONY`` says; restored afterwards."""
    previous = os.environ.get("LISA_TELEPHONY")
    os.environ["LISA_TELEPHONY"] = "loopback"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LISA_TELEPHONY", None)
        else:
            os.environ["LISA_TELEPHONY"] = previous


@dataclass
class InProcessServer:
    """An app served by uvicorn on 127.0.0.1:<port> in this event loop; :meth:`stop` is idempotent."""

    port: int
    app: FastAPI
    server: uvicorn.Server
    task: asyncio.Task[None]
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def state(self) -> AppState:
        """The app's :class:`api.state.AppState` (settings, db, engine, each area's services)."""
        state: AppState = self.app.state.lisa
        return state

    async def stop(self) -> None:
        """Ask uvicorn to shut down gracefully; force it after 15 s."""
        if self._stopped:
            return
        self._stopped = True
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 15)
        except TimeoutError:
            self.server.force_exit = True
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def serve_in_process(app: FastAPI, sock: socket.socket, *, name: str | None = None) -> InProcessServer:
    """Serve ``app`` on ``sock`` (from :func:`loopback_socket`) and return once uvicorn has started (lifespan
    start-up done); raises the app's start-up error if it cannot start. Signals stay with the caller."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws_ping_interval=20)
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[assignment]  # the caller keeps Ctrl-C
    task = asyncio.create_task(server.serve(sockets=[sock]), name=name)
    while not server.started:
        if task.done():
            sock.close()
            task.result()  # raises the start-up error
            raise RuntimeError("uvicorn exited during start-up")
        await asyncio.sleep(0.01)
    return InProcessServer(sock.getsockname()[1], app, server, task)
