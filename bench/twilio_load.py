"""Many Twilio media streams from one process, cheaply enough to load a server with a hundred calls.

:class:`~simulation.media_stream_client.MediaStreamClient` gives every call its own 20 ms line task; a hundred of
them cost the load generator more CPU than a 2-core machine can spare next to the server under test. Here
one ticker sends every call's next 20 ms frame (the party's queued speech, else μ-law silence, payloads
base64-encoded once) and echoes Lisa's marks when their audio has "played", as Twilio does; a ``clear``
drops unplayed audio and echoes pending marks at once. Each call keeps when each of Lisa's utterances
began (first media after a mark or a clear). :attr:`Ticker.late_ticks` counts ticks that ran more than
20 ms late, so a report can show whether the line kept real time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections import deque
from typing import Any

from telephony.media_stream import TwilioMessages

FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz
FRAME_S = 0.02
SILENCE_B64 = base64.b64encode(b"\xff" * FRAME_BYTES).decode()
ACCOUNT = "AC00000000000000000000000000000000"


def ulaw_frames(ulaw: bytes) -> list[str]:
    """μ-law audio as base64 payloads of 20 ms frames (the last one padded with silence)."""
    frames = []
    for i in range(0, len(ulaw), FRAME_BYTES):
        frame = ulaw[i : i + FRAME_BYTES]
        frames.append(base64.b64encode(frame.ljust(FRAME_BYTES, b"\xff")).decode())
    return frames


class LoadCall:
    """One media stream driven by a :class:`Ticker`."""

    def __init__(
        self, ws: Any, custom_parameters: dict[str, str] | None = None, call_sid: str | None = None
    ) -> None:
        self.ws = ws
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self._msgs = TwilioMessages(self.stream_sid, self.call_sid, ACCOUNT)
        self._sid = json.dumps(self.stream_sid)
        self.custom_parameters = custom_parameters or {}
        self.t0 = time.monotonic()
        self._queue: deque[str] = deque()
        self._spoken: asyncio.Future[float] | None = None
        self._sent_ms = 0
        # Lisa's side
        self.utterance_starts: list[float] = []  # monotonic time of the first media of each utterance
        self._in_utterance = False
        self.play_end = 0.0
        self.last_media = 0.0
        self.marks: deque[tuple[float, str]] = deque()  # (due, name)
        self.marks_echoed = 0
        self.clears = 0
        self.closed = asyncio.Event()
        self._activity = asyncio.Event()
        self._rx: asyncio.Task | None = None

    async def start(self) -> None:
        await self.ws.send(self._msgs.connected())
        self.t0 = time.monotonic()
        await self.ws.send(self._msgs.start(self.custom_parameters))
        self._rx = asyncio.create_task(self._receive())

    async def stop(self) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(Exception):
                await self.ws.send(self._msgs.stop())
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self._rx:
            self._rx.cancel()
            with contextlib.suppress(BaseException):
                await self._rx
        self.closed.set()
        if self._spoken and not self._spoken.done():
            self._spoken.cancel()

    # -- the party ---------------------------------------------------------------------------------------

    async def speak(self, frames: list[str]) -> float:
        """Queue the party's frames; returns the monotonic time the last one went out."""
        self._spoken = asyncio.get_running_loop().create_future()
        self._queue.extend(frames)
        return await self._spoken

    async def tick(self, now: float) -> None:
        """Send this call's next 20 ms frame and echo the marks whose audio has played."""
        if self.closed.is_set():
            return
        payload = self._queue.popleft() if self._queue else SILENCE_B64
        message = (
            '{"event":"media","sequenceNumber":"'
            + str(self._msgs._next())
            + '","media":{"track":"inbound","chunk":"'
            + str(self._sent_ms // 20 + 1)
            + '","timestamp":"'
            + str(self._sent_ms)
            + '","payload":"'
            + payload
            + '"},"streamSid":'
            + self._sid
            + "}"
        )
        self._sent_ms += 20
        await self.ws.send(message)
        if not self._queue and self._spoken is not None and not self._spoken.done():
            self._spoken.set_result(now)
        while self.marks and self.marks[0][0] <= now:
            await self._echo(self.marks.popleft()[1])

    async def _echo(self, name: str) -> None:
        await self.ws.send(self._msgs.mark(name))
        self.marks_echoed += 1
        self._activity.set()

    # -- Lisa --------------------------------------------------------------------------------------------

    async def _receive(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                event = msg.get("event")
                now = time.monotonic()
                if event == "media":
                    if not self._in_utterance:
                        self._in_utterance = True
                        self.utterance_starts.append(now)
                    payload = msg["media"]["payload"]
                    self.play_end = max(now, self.play_end) + len(payload) * 3 // 4 / 8000
                    self.last_media = now
                elif event == "mark":
                    self._in_utterance = False
                    self.marks.append((max(now, self.play_end), msg["mark"]["name"]))
                elif event == "clear":
                    self.clears += 1
                    self._in_utterance = False
                    self.play_end = now
                    while self.marks:
                        await self._echo(self.marks.popleft()[1])
                self._activity.set()
        except Exception:  # the socket went away: the call is over
            pass
        finally:
            self.closed.set()
            self._activity.set()

    async def _wait(self, condition: Any, limit_s: float, what: str) -> Any:
        deadline = time.monotonic() + limit_s
        while not (result := condition()):
            if self.closed.is_set():
                raise ConnectionError(f"call closed while waiting for {what}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {limit_s:.0f} s waiting for {what}")
            self._activity.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), min(remaining, 0.1))
        return result

    async def wait_speaking(self, after: float, limit_s: float = 30.0) -> float:
        """The monotonic start of Lisa's first utterance beginning after ``after``."""
        return await self._wait(
            lambda: next((t for t in self.utterance_starts if t >= after), None), limit_s, "Lisa to speak"
        )

    async def wait_done(self, limit_s: float = 60.0, settle: float = 0.4) -> None:
        """Lisa's audio has played, her marks came back and nothing new came for ``settle`` seconds."""
        await self._wait(
            lambda: not self.marks and time.monotonic() - max(self.play_end, self.last_media) >= settle,
            limit_s,
            "Lisa to finish",
        )


class Ticker:
    """Drives every registered call's line in one 20 ms loop."""

    def __init__(self) -> None:
        self.calls: list[LoadCall] = []
        self.ticks = 0
        self.late_ticks = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _run(self) -> None:
        next_at = time.monotonic()
        while True:
            now = time.monotonic()
            if now - next_at > FRAME_S:
                self.late_ticks += 1
            if now - next_at > 0.2:  # far behind: resync rather than burst
                next_at = now
            for call in list(self.calls):
                try:
                    await call.tick(now)
                except Exception:  # that call's socket is gone
                    call.closed.set()
            self.calls = [c for c in self.calls if not c.closed.is_set()]
            self.ticks += 1
            next_at += FRAME_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def connect(
        self,
        url: str,
        custom_parameters: dict[str, str] | None = None,
        *,
        call_sid: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> LoadCall:
        """A stream to ``url`` with the TwiML's parameters (the app serves it only with their stream token),
        for call ``call_sid``, ``headers`` on the upgrade (Twilio's signature)."""
        from websockets.asyncio.client import connect

        ws = await connect(url, open_timeout=30, max_size=2**22, compression=None, additional_headers=headers)
        call = LoadCall(ws, custom_parameters, call_sid)
        await call.start()
        self.calls.append(call)
        return call
