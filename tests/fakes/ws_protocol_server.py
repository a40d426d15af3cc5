"""What the local WebSocket protocol servers (Deepgram, ElevenLabs) share: a free loopback port,
start/stop, ``async with``, and the knob that drops the next connections (a provider outage).

Subclasses implement ``_connection(ws)`` and ``_handshake(connection, request)``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


class WebSocketProtocolServer:
    def __init__(self) -> None:
        self._drop: list[float] = []
        self._server: Server | None = None
        self.port = 0

    async def _connection(self, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        raise NotImplementedError

    def drop_next(self, count: int = 1, after_s: float = 0.2) -> None:
        """Accept the next ``count`` connections, then close each with 1011 after ``after_s``."""
        self._drop.extend([after_s] * count)

    async def start(self) -> Self:
        self._server = await serve(
            self._connection,
            "127.0.0.1",
            0,
            process_request=self._handshake,
            compression=None,
            ping_interval=None,
            max_size=2**22,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
