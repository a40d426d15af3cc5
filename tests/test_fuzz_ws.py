"""Randomised frames against every WebSocket route: ``/ws``, ``/ws/chat/{id}``, ``/manager/ws``, ``/twilio/media``.

Frames come from a seeded generator (``SEED``; ``FUZZ_WS_FRAMES`` frames per route, more with the environment
variable): JSON of the wrong type, objects without or with an unknown ``type``, fields of the wrong type,
malformed and deeply nested JSON, unpaired surrogates and NUL, frames over the size limits, binary frames
(garbage and JSON), text frames that are not UTF-8, floods of pings and messages.

Every frame is answered (an error frame naming the problem, a pong, the chat's messages) or its socket is
closed with a code that says why (1007 not UTF-8, 1008 policy/protocol, 1009 too big; never 1011 or a
dropped connection), and the socket is probed with a ping after each frame, so a stuck receive loop fails
the test. The app runs in this process (tests/conftest.py ``app_server``), so afterwards its asyncio tasks,
uvicorn's open connections, the chat hub's subscribers and this process's file descriptors are back where
they were: nothing stuck, nothing leaked. No exception reaches the app's log with a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
import websockets
from call_support import app_stream
from websockets.exceptions import ConnectionClosed

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("fuzz-ws")]

SEED = 20261123
FRAMES = int(os.environ.get("FUZZ_WS_FRAMES", "40"))  # per chat route; the media stream gets a quarter
ANSWER_TIMEOUT_S = 10.0  # a frame not answered (nor its socket closed) within this is a stuck socket
SETTLE_TIMEOUT_S = 15.0  # time for the app to let go of everything after the sockets closed
CHURN_S = 2.5  # a new task alive this long is no periodic wait (the request scheduler's is 1 s)
CLOSE_CODES = {1000, 1003, 1007, 1008, 1009}  # closed with a reason; 1011 (crash) and 1006 (dropped) are not
HUGE = 2 * 1024 * 1024  # over MAX_FRAME_CHARS (answered 422) and over `lisa serve`'s 1 MB (closed 1009)


# --- frames -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """One thing to send: ``data`` as a text (str) or binary (bytes) frame; ``text_bytes`` sends bytes as a
    *text* frame (not UTF-8 when so generated); ``count`` repeats it (a flood)."""

    kind: str
    data: str | bytes
    text_bytes: bool = False
    count: int = 1


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _random_text(rng: random.Random, n: int) -> str:
    alphabet = "aZ09 ,.!?äöüßé€😀\t\n\"\\/{}[]<>'" + "".join(
        chr(rng.randrange(0x20, 0x2FFF)) for _ in range(8)
    )
    return "".join(rng.choice(alphabet) for _ in range(n))


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0, -1, 2**70, 1.5e308, rng.randrange(-(10**6), 10**6)])
    if pick in (3, 4):
        return _random_text(rng, rng.randrange(0, 40))
    if pick == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "type",
        "content",
        "message",
        "chat_id",
        "chatId",
        "event",
        "media",
        "payload",
        _random_text(rng, 5),
    ]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def chat_frames(rng: random.Random, route: str) -> list[Frame]:
    """A fixed-for-the-seed list of frames for a chat or manager socket, every kind at least once."""
    msg_type = "message"
    kinds: dict[str, Callable[[], Frame]] = {
        "not_json": lambda: Frame("not_json", rng.choice(["{", "nope", "{'type': 1}", "", "[1,", "\x00"])),
        "not_object": lambda: Frame(
            "not_object", json.dumps(rng.choice([[], 1, "s", None, True, [{"type": "x"}]]))
        ),
        "no_type": lambda: Frame("no_type", json.dumps({"content": _random_text(rng, 10)})),
        "type_not_string": lambda: Frame("type_not_string", json.dumps({"type": _random_json(rng, 2) or 0})),
        "unknown_type": lambda: Frame("unknown_type", json.dumps({"type": _random_text(rng, 8) + "x"})),
        "wrong_content": lambda: Frame(
            "wrong_content",
            json.dumps(
                {"type": msg_type, "content": rng.choice([None, 1, [], {"a": 1}, True]), "chat_id": 7}
            ),
        ),
        "random_json": lambda: Frame("random_json", json.dumps(_random_json(rng))),
        "deep_json": lambda: Frame("deep_json", _deep(rng.choice([100, 5_000, 60_000]))),
        "surrogate": lambda: Frame(
            "surrogate", '{"type": "message", "content": "hi \\ud800 there", "chat_id": "x\\udfff"}'
        ),
        "nul": lambda: Frame("nul", '{"type": "message", "content": "a\\u0000b", "chat_id": "\\u0000"}'),
        "too_long": lambda: Frame("too_long", json.dumps({"type": msg_type, "content": "a" * 70_000})),
        "huge": lambda: Frame("huge", "x" * HUGE),
        "binary_garbage": lambda: Frame("binary_garbage", rng.randbytes(rng.randrange(1, 300))),
        "binary_json": lambda: Frame(
            "binary_json", json.dumps({"type": "ping"}).encode() if rng.random() < 0.5 else b"\xff\xfe{}"
        ),
        "invalid_utf8_text": lambda: Frame(
            "invalid_utf8_text",
            rng.choice([b"\xff", b'{"type": "ping", "x": "\xc3\x28"}', b"\xed\xa0\x80"]),
            True,
        ),
        "message": lambda: Frame(
            "message",
            json.dumps(
                {
                    "type": msg_type,
                    "content": _random_text(rng, rng.randrange(1, 120)),
                    "chat_id": "no-such-chat",
                }
            ),
        ),
        "ping_flood": lambda: Frame("ping_flood", json.dumps({"type": "ping"}), count=100),
        "garbage_flood": lambda: Frame("garbage_flood", "{", count=100),
    }
    if route == "manager":
        kinds["takeover"] = lambda: Frame(
            "takeover",
            json.dumps({"type": rng.choice(["takeover", "release"]), "chat_id": _random_text(rng, 12)}),
        )
    names = sorted(kinds)
    order = names + [rng.choice(names) for _ in range(max(0, FRAMES - len(names)))]
    rng.shuffle(order)
    return [kinds[name]() for name in order]


# --- the app's resources ----------------------------------------------------------------------------
def _task_kind(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", None) or type(coro).__name__


@dataclass
class Snapshot:
    tasks: Counter[str]  # running tasks by coroutine
    connections: int
    subscribers: int
    fds: set[str]  # what the file descriptors point at

    def more_than(self, before: Snapshot) -> dict[str, Any]:
        """What is held now beyond ``before``."""
        extra: dict[str, Any] = dict(self.tasks - before.tasks)
        for name in ("connections", "subscribers"):
            if getattr(self, name) > getattr(before, name):
                extra[name] = getattr(self, name) - getattr(before, name)
        if len(self.fds) > len(before.fds):
            extra["fds"] = sorted(self.fds - before.fds)
        return extra


def snapshot(server: Any) -> Snapshot:
    hub = server.state.chat.hub
    current = asyncio.current_task()
    return Snapshot(
        tasks=Counter(_task_kind(t) for t in asyncio.all_tasks() if not t.done() and t is not current),
        connections=len(server.server.server_state.connections),
        subscribers=sum(len(s) for s in hub.chats.values()) + len(hub.managers),
        fds=open_files(),
    )


def open_files() -> set[str]:
    """What this process's file descriptors point at (sockets, pipes, files), but the database's own files:
    its connection pool may grow to its bounded size under load and keep those connections."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if not target.endswith((".db", ".db-wal", ".db-shm", ".db-journal")):
                found.add(f"{fd}->{target}")
    return found


async def settled(server: Any, before: Snapshot) -> dict[str, Any]:
    """What the app still holds beyond ``before`` once it had ``SETTLE_TIMEOUT_S`` to let go ({} = nothing).

    Tasks are counted by coroutine: a periodic wait that is replaced by a new one (the request scheduler polls
    every second) is not a leak; something held must be held at two looks ``CHURN_S`` apart."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT_S
    while True:
        extra = snapshot(server).more_than(before)
        if not extra:
            await asyncio.sleep(CHURN_S)
            if not (extra := snapshot(server).more_than(before)):
                return {}
        if loop.time() > deadline:
            return extra
        await asyncio.sleep(0.2)


# --- one socket under fire ---------------------------------------------------------------------------
@dataclass
class Outcome:
    frames: int = 0
    answered: int = 0
    closed: dict[int, int] = field(default_factory=dict)  # close code -> times
    failures: list[str] = field(default_factory=list)


class ChatSocket:
    """A chat or manager WebSocket that a test opens again whenever the server closed it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: Any = None

    async def open(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=None, max_queue=None, open_timeout=10)
        await self.ws.send(json.dumps({"type": "ping"}))
        await self.drain_until(lambda f: f.get("type") == "pong")  # after the greeting or chat list

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def drain_until(self, done: Callable[[dict[str, Any]], bool]) -> list[dict]:
        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while True:
                raw = await self.ws.recv()
                frame = json.loads(raw)
                frames.append(frame)
                if done(frame):
                    return frames


async def send(ws: Any, frame: Frame) -> None:
    for _ in range(frame.count):
        if frame.text_bytes:
            await ws.send(frame.data, text=True)
        else:
            await ws.send(frame.data)


def is_ping(frame: Frame) -> int:
    """1 when a single frame is itself a ping (binary JSON ping), else 0."""
    data = frame.data.decode("utf-8", "replace") if isinstance(frame.data, bytes) else frame.data
    return int(
        frame.count == 1 and frame.kind != "invalid_utf8_text" and data == json.dumps({"type": "ping"})
    )


def expected_error(kind: str) -> bool:
    """Frame kinds every chat socket must answer with an error frame (422) and stay open."""
    return kind in {
        "not_json", "not_object", "no_type", "type_not_string", "unknown_type", "wrong_content",
        "deep_json", "too_long", "binary_garbage", "garbage_flood",
    }  # fmt: skip


async def fuzz_chat_socket(url: str, frames: list[Frame], manager: bool = False) -> Outcome:
    """Send each frame, then a ping: the pong (and, for a bad frame, an error frame before it) must come, or
    the socket must be closed with a reason; a closed socket is opened again for the next frame."""
    outcome = Outcome()
    sock = ChatSocket(url)
    await sock.open()
    try:
        for frame in frames:
            outcome.frames += frame.count
            try:
                await send(sock.ws, frame)
                await sock.ws.send(json.dumps({"type": "ping"}))
                pongs_due = 1 + (frame.count if frame.kind == "ping_flood" else 0) + is_ping(frame)
                received: list[dict[str, Any]] = []
                while pongs_due:
                    got = await sock.drain_until(lambda f: f.get("type") == "pong")
                    received += got
                    pongs_due -= 1
                errors = [f for f in received if f.get("type") == "error"]
                if expected_error(frame.kind) and not any(e.get("code") == 422 for e in errors):
                    outcome.failures.append(
                        f"{frame.kind}: no 422 error frame before the pong: {received[:3]}"
                    )
                if frame.kind == "garbage_flood" and len(errors) != frame.count:
                    outcome.failures.append(f"garbage_flood: {len(errors)} error frames for {frame.count}")
                if any(e.get("code", 0) >= 500 for e in errors):
                    outcome.failures.append(f"{frame.kind}: server error frame {errors}")
                if manager and frame.kind in ("message", "takeover") and not errors:
                    outcome.failures.append(
                        f"{frame.kind} for an unknown chat was not refused: {received[:3]}"
                    )
                outcome.answered += 1
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                reason = exc.rcvd.reason if exc.rcvd else ""
                outcome.closed[code or 0] = outcome.closed.get(code or 0, 0) + 1
                if code not in CLOSE_CODES:
                    outcome.failures.append(
                        f"{frame.kind}: socket closed without a reason (code {code}, {reason!r})"
                    )
                await sock.open()
            except TimeoutError:
                outcome.failures.append(
                    f"{frame.kind}: neither answered nor closed within {ANSWER_TIMEOUT_S} s"
                )
                await sock.close()
                await sock.open()
    finally:
        await sock.close()
    return outcome


@contextlib.contextmanager
def app_log_errors() -> Any:
    """ERROR records with a traceback from the app's own loggers while the block runs."""
    found: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.name.split(".")[0] in ("api", "pipelines", "telephony", "agent"):
                found.append(record)

    handler = Catch(logging.ERROR)
    logging.getLogger().addHandler(handler)
    try:
        yield found
    finally:
        logging.getLogger().removeHandler(handler)


def describe(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()} ({r.exc_info[1]!r})" for r in records if r.exc_info]


async def assert_settled(server: Any, before: Snapshot) -> None:
    held = await settled(server, before)
    assert not held, f"still held after the sockets closed (tasks by coroutine, connections, fds): {held}"


@pytest.fixture
async def chat_app(app_server: Any) -> AsyncIterator[tuple[Any, str]]:
    """The app (auth off), a chat session made over HTTP, and one warm-up round of each chat socket (so that
    what every process starts once is in the baseline)."""
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        created = await http.post("/api/v1/sessions", json={})
        assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    for path in ("/ws", f"/ws/chat/{session_id}", "/manager/ws"):
        sock = ChatSocket(server.ws_url + path)
        await sock.open()
        await sock.close()
    yield server, session_id


@pytest.mark.parametrize("route", ["ws", "ws_chat", "manager"])
async def test_chat_sockets_answer_or_close_every_random_frame(chat_app: Any, route: str) -> None:
    server, session_id = chat_app
    path = {"ws": "/ws", "ws_chat": f"/ws/chat/{session_id}", "manager": "/manager/ws"}[route]
    frames = chat_frames(random.Random(f"{SEED}-{route}"), route)
    await asyncio.sleep(0.2)
    before = snapshot(server)
    with app_log_errors() as errors:
        outcome = await fuzz_chat_socket(server.ws_url + path, frames, manager=route == "manager")
        await assert_settled(server, before)
    assert not outcome.failures, "\n".join(outcome.failures)
    assert outcome.answered + sum(outcome.closed.values()) == len(frames)
    assert outcome.closed.get(1007), "a text frame that is not UTF-8 closes the socket with 1007"
    assert not describe(errors), describe(errors)
    # the chat is still served: the app did not lose it to the frames before
    sock = ChatSocket(server.ws_url + f"/ws/chat/{session_id}")
    await sock.open()
    await sock.ws.send(json.dumps({"type": "message", "content": "What are your opening hours?"}))
    replies = await sock.drain_until(lambda f: f.get("sender") == "lisa")
    await sock.close()
    assert replies[-1]["content"]


@pytest.mark.parametrize("route", ["ws", "manager"])
async def test_a_burst_of_frames_is_answered_not_dropped(chat_app: Any, route: str) -> None:
    """A client that sends 300 pings at once and reads as fast as the server writes gets 300 pongs (or, if the
    server sheds load, a close with a reason) — not a dropped connection."""
    server, _ = chat_app
    sock = ChatSocket(server.ws_url + ("/ws" if route == "ws" else "/manager/ws"))
    await sock.open()
    try:
        outcome = await fuzz_chat_socket(
            sock.url, [Frame("ping_flood", json.dumps({"type": "ping"}), count=300)]
        )
    finally:
        await sock.close()
    assert not outcome.failures, outcome.failures


# --- the media stream ---------------------------------------------------------------------------------
STRANGER_SID = "MZ" + "0" * 32  # replaced by the call's own stream sid in frames sent during a call


def media_frames(rng: random.Random) -> list[Frame]:
    """Frames a party (or a stranger) might send on a media stream after its ``start``."""
    sid = STRANGER_SID

    def media(payload: Any, timestamp: Any = "0") -> str:
        body = {"track": "inbound", "chunk": "1", "timestamp": timestamp, "payload": payload}
        return json.dumps({"event": "media", "sequenceNumber": "2", "streamSid": sid, "media": body})

    kinds: dict[str, Callable[[], Frame]] = {
        "not_json": lambda: Frame("not_json", rng.choice(["{", "", "media"])),
        "not_object": lambda: Frame("not_object", json.dumps(rng.choice([[], 3, "media", None]))),
        "unknown_event": lambda: Frame("unknown_event", json.dumps({"event": _random_text(rng, 6) + "x"})),
        "bad_payload": lambda: Frame("bad_payload", media(rng.choice(["***", 5, None, "ab=c"]))),
        "bad_timestamp": lambda: Frame("bad_timestamp", media("/w==", rng.choice(["x", None, [], "-"]))),
        "random_json": lambda: Frame("random_json", json.dumps(_random_json(rng))),
        "deep_json": lambda: Frame("deep_json", _deep(50_000)),
        "binary_garbage": lambda: Frame("binary_garbage", rng.randbytes(200)),
        "invalid_utf8_text": lambda: Frame("invalid_utf8_text", b'{"event": "\xc3\x28"}', True),
        "huge": lambda: Frame("huge", media("A" * HUGE)),
        "media_flood": lambda: Frame(
            "media_flood", media(base64.b64encode(b"\xff" * 160).decode()), count=500
        ),
    }
    names = sorted(kinds)
    order = names + [rng.choice(names) for _ in range(max(0, FRAMES // 4 - len(names)))]
    rng.shuffle(order)
    return [kinds[name]() for name in order]


async def test_media_stream_closes_with_a_reason_on_every_random_frame(app_server: Any) -> None:
    """A stream that sends anything but Twilio's protocol is closed: before its ``start`` (a stranger) at once
    with 1008 and the reason (1007 from the server for text that is not UTF-8), during a call with the call
    ended and its record saying why (the close frame carries the reason: 1008); a flood of valid audio is
    just audio. Nothing of the calls stays behind, nothing is logged with a traceback."""
    server = await app_server()
    rng = random.Random(f"{SEED}-media")
    async with app_stream(server) as warm:  # a first call loads what every call shares (baseline)
        await warm.wait_lisa_speaking(30)
        await warm.stop()
    await asyncio.sleep(0.5)
    before = snapshot(server)
    failures: list[str] = []
    with app_log_errors() as errors:
        # before any start: a stranger's garbage is refused at once
        for frame in media_frames(rng)[:6]:
            async with websockets.connect(server.ws_url + "/twilio/media", max_size=None) as ws:
                try:
                    await send(ws, frame)
                    async with asyncio.timeout(ANSWER_TIMEOUT_S):
                        await ws.recv()
                    failures.append(f"before start, {frame.kind}: answered instead of closed")
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd else None
                    if code not in CLOSE_CODES or (code == 1008 and not exc.rcvd.reason):
                        failures.append(f"before start, {frame.kind}: closed with {code} {exc.rcvd!r}")
                except TimeoutError:
                    failures.append(f"before start, {frame.kind}: neither answered nor closed")
        # during a call: each frame on a call of its own
        closes = await fuzz_calls(server, media_frames(rng), failures)
        for kind, code, reason in closes:
            if code not in CLOSE_CODES:
                failures.append(f"in a call, {kind}: closed with {code} {reason!r}")
        await assert_settled(server, before)
    assert not failures, "\n".join(failures)
    assert not describe(errors), describe(errors)


async def fuzz_calls(
    server: Any, frames: list[Frame], failures: list[str]
) -> list[tuple[str, int | None, str]]:
    """Each frame on a call of its own, after Lisa's greeting: a frame that is not Twilio's protocol ends
    the call (its record closed by the system with the protocol error as the reason); valid media (a flood,
    a huge frame) is just audio, the call goes on until the party hangs up. Returns how each protocol
    error's socket was closed: (frame kind, close code, close reason)."""
    closes = []
    for frame in frames:
        async with app_stream(server) as call:
            await call.wait_lisa_speaking(30)
            if isinstance(frame.data, str):  # media of this call's stream
                frame = replace(frame, data=frame.data.replace(STRANGER_SID, call.stream_sid))
            audio = frame.kind in ("media_flood", "huge")
            try:
                await send(call._ws, frame)
                if audio:
                    await call.stop()
                await call.wait_closed(ANSWER_TIMEOUT_S)
            except ConnectionClosed:
                with contextlib.suppress(TimeoutError):
                    await call.wait_closed(ANSWER_TIMEOUT_S)
            except TimeoutError:
                failures.append(f"in a call, {frame.kind}: the call was neither ended nor answered")
                continue
            if not audio:
                closes.append((frame.kind, call.close_code, call.close_reason))
        record = await call_record(server, call.call_sid)
        if record is None or not record.get("ended_at"):
            failures.append(f"in a call, {frame.kind}: the call record was not closed: {record}")
        elif (
            not audio
            and frame.kind != "invalid_utf8_text"
            and "protocol error" not in record.get("reason", "")
        ):
            failures.append(f"in a call, {frame.kind}: the record does not say why: {record.get('reason')!r}")
    return closes


async def test_a_protocol_error_during_a_call_closes_with_1008_and_the_reason(app_server: Any) -> None:
    server = await app_server()
    failures: list[str] = []
    frames = [Frame("not_json", "{"), Frame("unknown_event", json.dumps({"event": "dance"}))]
    closes = await fuzz_calls(server, frames, failures)
    assert not failures, failures
    assert [(code, bool(reason)) for _, code, reason in closes] == [(1008, True)] * 2, closes


async def call_record(server: Any, call_sid: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for _ in range(100):
            response = await http.get(f"/api/calls/{call_sid}")
            if response.status_code == 200 and response.json().get("ended_at"):
                return response.json()
            await asyncio.sleep(0.1)
    return response.json() if response.status_code == 200 else None
