"""Seed 003's WebSocket chat and manager flow, from real `websockets` clients against a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


async def next_frame(ws: ClientConnection, match: Callable[[Frame], bool], within_s: float = 10) -> Frame:
    """The next frame that matches (frames before it are skipped)."""
    async with asyncio.timeout(within_s):
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return frame


async def frames_within(ws: ClientConnection, seconds: float) -> list[Frame]:
    """Every frame that arrives within ``seconds``."""
    got: list[Frame] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                got.append(json.loads(await ws.recv()))
    except TimeoutError:
        return got


def sender(name: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("sender") == name


def event(name: str, chat_id: str | None = None) -> Callable[[Frame], bool]:
    return lambda f: f.get("event") == name and (chat_id is None or f.get("chat_id") == chat_id)


async def test_takeover_and_release_between_user_and_manager_sockets(app_server):
    server = await app_server()
    asked = str(uuid.uuid4())
    async with (
        connect(f"{server.ws_url}/manager/ws") as manager,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        snapshot = json.loads(await manager.recv())
        assert snapshot["event"] == "chats" and snapshot["chats"] == []

        # an unknown chat_id starts a new chat under an id the server makes (no squatting of chosen ids)
        async with connect(f"{server.ws_url}/ws?chat_id={asked}") as user:
            greeting = await next_frame(user, sender("lisa"))
            chat_id = greeting["chatId"]
            assert greeting["type"] == "ai" and chat_id != asked and "Lisa" in greeting["content"]
            assert user.response.headers["x-chat-id"] == chat_id
            created = await next_frame(manager, event("session_created", chat_id))
            assert created["session"]["channel"] == "ws"

            # Lisa answers while nobody has taken over
            await user.send(json.dumps({"type": "message", "content": "Where are you located?"}))
            echo = await next_frame(user, sender("user"))
            assert echo["content"] == "Where are you located?" and echo["type"] == "text"
            answer = await next_frame(user, sender("lisa"))
            assert "Parkstraße" in answer["content"]
            seen = await next_frame(
                manager, lambda f: f.get("event") == "message" and f["message"]["id"] == answer["id"]
            )
            assert seen["chat_id"] == chat_id and seen["message"]["content"] == answer["content"]

            # the manager takes over: Lisa goes silent, the manager's words reach the user
            r = await http.post("/manager/takeover", json={"chat_id": chat_id, "manager": "Anna"})
            assert r.status_code == 200 and r.json()["taken_over_by"] == "Anna"
            note = await next_frame(user, sender("system"))
            assert note["type"] == "system" and note["metadata"]["takeover"] is True
            await next_frame(manager, event("takeover", chat_id))

            await user.send(json.dumps({"type": "message", "content": "Do you have parking?"}))
            await next_frame(user, sender("user"))
            from_user = await next_frame(
                manager, lambda f: f.get("event") == "message" and f["message"]["sender"] == "user"
            )
            assert from_user["message"]["content"] == "Do you have parking?"
            assert [f for f in await frames_within(user, 0.7) if f.get("sender") == "lisa"] == []

            r = await http.post(
                "/manager/send", json={"chat_id": chat_id, "content": "Yes, in the courtyard."}
            )
            assert r.status_code == 200 and r.json()["taken_over_by"] == "Anna"
            said = await next_frame(user, sender("manager"))
            assert said["content"] == "Yes, in the courtyard." and said["type"] == "text"

            # the REST view agrees: no reply while taken over
            sid_chat = await http.post(f"/api/v1/sessions/{chat_id}/chat", json={"message": "Thanks!"})
            assert sid_chat.status_code == 200
            assert sid_chat.json()["reply"] is None and sid_chat.json()["taken_over"] is True
            await next_frame(user, lambda f: f.get("content") == "Thanks!")

            # release: Lisa is back and answers the next message
            r = await http.post("/manager/release", json={"chat_id": chat_id})
            assert r.status_code == 200 and r.json()["taken_over_by"] is None
            back = await next_frame(user, sender("system"))
            assert back["metadata"]["takeover"] is False
            await next_frame(manager, event("released", chat_id))
            await user.send(json.dumps({"type": "message", "content": "How much does it cost?"}))
            await next_frame(user, sender("user"))
            assert (await next_frame(user, sender("lisa")))["content"]

        history = (await http.get("/history", params={"chat_id": chat_id})).json()["messages"]
        assert [m["sender"] for m in history] == [
            "lisa",
            "user",
            "lisa",
            "system",
            "user",
            "manager",
            "user",
            "system",
            "user",
            "lisa",
        ]
        chats = (await http.get("/manager/chats")).json()["chats"]
        assert chats[0]["id"] == chat_id and chats[0]["lastMessage"] == history[-1]["content"]


async def test_first_manager_message_takes_over_and_manager_can_act_over_the_socket(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as http:
        sid = (await http.post("/api/v1/sessions")).json()["session_id"]
        async with connect(f"{server.ws_url}/manager/ws?manager=Ben") as manager:
            snapshot = json.loads(await manager.recv())
            assert [c["id"] for c in snapshot["chats"]] == [sid]
            await manager.send(json.dumps({"type": "message", "chat_id": sid, "content": "Hi, this is Ben."}))
            taken = await next_frame(manager, event("takeover", sid))
            assert taken["session"]["taken_over_by"] == "Ben"
            r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": "Hello Ben"})
            assert r.json()["reply"] is None
            await manager.send(json.dumps({"type": "release", "chat_id": sid}))
            await next_frame(manager, event("released", sid))
            r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": "Where are you located?"})
            assert "Parkstraße" in r.json()["reply"]

            # bad frames are answered, the socket stays open
            await manager.send("{not json")
            assert (await next_frame(manager, lambda f: f.get("type") == "error"))["code"] == 422
            await manager.send(json.dumps({"type": "message", "content": "no chat id"}))
            assert "chat_id" in (await next_frame(manager, lambda f: f.get("type") == "error"))["detail"]
            await manager.send(json.dumps({"type": "takeover", "chat_id": "missing"}))
            assert (await next_frame(manager, lambda f: f.get("type") == "error"))["code"] == 404
            await manager.send(json.dumps({"type": "ping"}))
            assert (await next_frame(manager, lambda f: f.get("type") in ("pong", "error")))["type"] == "pong"

        # manager endpoints' bad input
        assert (await http.post("/manager/send", json={"chat_id": sid})).json()["detail"][0]["loc"] == [
            "body",
            "content",
        ]
        assert (
            await http.post("/manager/send", json={"chat_id": "missing", "content": "x"})
        ).status_code == 404
        await http.delete(f"/api/v1/sessions/{sid}")
        assert (await http.post("/manager/send", json={"chat_id": sid, "content": "x"})).status_code == 409
        assert (await http.post("/manager/takeover", json={"chat_id": sid})).status_code == 409


async def test_rest_sessions_and_ws_chats_are_the_same(app_server):
    server = await app_server(api={"max_message_chars": 100})
    async with httpx.AsyncClient(base_url=server.url) as http:
        sid = (await http.post("/api/v1/sessions", json={"language": "de"})).json()["session_id"]
        async with connect(f"{server.ws_url}/ws?chat_id={sid}") as user:
            # an existing chat: no second greeting
            await user.send(json.dumps({"type": "message", "content": "Wo finde ich Sie?"}))
            assert (await next_frame(user, sender("user")))["content"] == "Wo finde ich Sie?"
            assert "Parkstraße" in (await next_frame(user, sender("lisa")))["content"]

            # errors come as frames and the socket stays usable
            for raw, code in [
                ("{oops", 422),
                (json.dumps(["a"]), 422),
                (json.dumps({"type": "shout"}), 422),
                (json.dumps({"type": "message"}), 422),
                (json.dumps({"type": "message", "content": "x" * 101}), 413),
            ]:
                await user.send(raw)
                frame = await next_frame(user, lambda f: f.get("type") == "error")
                assert frame["code"] == code, (raw, frame)
            await user.send(b'{"type": "ping"}')
            assert (await next_frame(user, lambda f: "type" in f and f["type"] in ("pong", "error")))[
                "type"
            ] == "pong"

            r = await http.get(f"/api/v1/sessions/{sid}")
            assert [m["sender"] for m in r.json()["history"]] == ["lisa", "user", "lisa"]
            await http.delete(f"/api/v1/sessions/{sid}")
            assert (await next_frame(user, sender("system")))["metadata"]["reason"] == "ended_by_user"
            await user.send(json.dumps({"type": "message", "content": "Hallo?"}))
            assert (await next_frame(user, lambda f: f.get("type") == "error"))["code"] == 409

        # seed 004's address of the same socket
        async with connect(f"{server.ws_url}/ws/chat/{sid}") as user:
            await user.send(json.dumps({"type": "message", "content": "Hallo?"}))
            assert (await next_frame(user, lambda f: f.get("type") == "error"))["code"] == 409

        # without chat_id a new chat is started; its id comes with the greeting
        async with connect(f"{server.ws_url}/ws?language=de") as user:
            greeting = await next_frame(user, sender("lisa"))
            assert "Wie kann ich" in greeting["content"]
            assert (await http.get(f"/api/v1/sessions/{greeting['chatId']}")).json()["channel"] == "ws"

        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/ws?chat_id=bad%20id%21"):
                pass
        assert refused.value.response.status_code == 422


async def test_a_broken_client_is_dropped_without_affecting_others(app_server):
    server = await app_server()
    chat = server.state.chat
    async with (
        connect(f"{server.ws_url}/ws") as good,
        connect(f"{server.ws_url}/manager/ws") as mgr,
    ):
        chat_id = (await next_frame(good, sender("lisa")))["chatId"]
        await next_frame(mgr, event("chats"))
        broken = await connect(f"{server.ws_url}/ws?chat_id={chat_id}")
        broken_mgr = await connect(f"{server.ws_url}/manager/ws")
        await asyncio.sleep(0.2)
        assert chat.hub.listeners(chat_id) == 2 and len(chat.hub.managers) == 2
        # both vanish without a closing handshake (network gone)
        broken.transport.abort()
        broken_mgr.transport.abort()

        for line in ["Where are you located?", "Do you have parking?"]:
            await good.send(json.dumps({"type": "message", "content": line}))
            await next_frame(good, sender("user"))
            assert (await next_frame(good, sender("lisa")))["content"]
            await next_frame(mgr, lambda f: f.get("event") == "message" and f["message"]["sender"] == "lisa")
        for _ in range(50):
            if chat.hub.listeners(chat_id) == 1 and len(chat.hub.managers) == 1:
                break
            await asyncio.sleep(0.05)
        assert chat.hub.listeners(chat_id) == 1 and len(chat.hub.managers) == 1


async def test_a_client_that_does_not_read_is_dropped(app_server, monkeypatch):
    """A manager socket whose outbox overflows is closed; the chat and the other manager go on."""
    from api.chat import hub as chat_hub

    monkeypatch.setattr(chat_hub, "OUTBOX_SIZE", 4)
    server = await app_server()
    chat = server.state.chat
    async with (
        httpx.AsyncClient(base_url=server.url) as http,
        connect(f"{server.ws_url}/manager/ws") as reader,
    ):
        await next_frame(reader, event("chats"))
        stalled = chat.hub.join_managers(_NeverSends())  # a peer whose sends never complete
        sessions = [(await http.post("/api/v1/sessions")).json()["session_id"] for _ in range(4)]
        assert stalled.closed.is_set() and stalled not in chat.hub.managers
        for sid in sessions:
            await next_frame(reader, event("session_created", sid))


class _NeverSends:
    """Stands in for a WebSocket whose peer stopped reading: every send hangs."""

    async def send_json(self, payload: Any) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


async def test_idle_expiry_is_announced_to_the_chat_and_the_managers(app_server):
    from conftest import ManualClock

    clock = ManualClock()
    server = await app_server(api={"session_idle_timeout_s": 60, "session_sweep_interval_s": 0}, clock=clock)
    async with (
        connect(f"{server.ws_url}/ws") as user,
        connect(f"{server.ws_url}/manager/ws") as mgr,
    ):
        chat_id = (await next_frame(user, sender("lisa")))["chatId"]
        await next_frame(mgr, event("chats"))
        clock.advance(61)
        assert await server.state.chat.sweep_idle() == [chat_id]
        note = await next_frame(user, sender("system"))
        assert note["metadata"]["reason"] == "idle_timeout"
        ended = await next_frame(mgr, event("session_ended", chat_id))
        assert ended["session"]["end_reason"] == "idle_timeout"
        await user.send(json.dumps({"type": "message", "content": "Hello?"}))
        assert (await next_frame(user, lambda f: f.get("type") == "error"))["code"] == 409


@pytest.mark.postgres
async def test_watchers_see_messages_handled_by_another_worker(app_server, postgres_url):
    """Two workers (here: two servers) on one PostgreSQL database: a chat watched through one sees the turns
    that the other handled (LISTEN/NOTIFY between them), and so does a manager."""
    one = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    two = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    async with httpx.AsyncClient(base_url=two.url, timeout=30) as http:
        sid = (await http.post("/api/v1/sessions")).json()["session_id"]
        async with (
            connect(f"{one.ws_url}/ws?chat_id={sid}") as user,
            connect(f"{one.ws_url}/manager/ws") as manager,
        ):
            await asyncio.sleep(0.2)  # both sockets registered
            r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": "Where are you located?"})
            assert r.status_code == 200, r.text
            assert (await next_frame(user, sender("user")))["content"] == "Where are you located?"
            assert (await next_frame(user, sender("lisa")))["content"] == r.json()["reply"]
            seen = await next_frame(
                manager, lambda f: f.get("event") == "message" and f.get("chat_id") == sid
            )
            assert seen["message"]["content"] in ("Where are you located?", r.json()["reply"])
            # an event is delivered once: the handling worker's own notifications are not echoed back
            assert not [f for f in await frames_within(user, 0.5) if f.get("sender") in ("user", "lisa")]

            # the relays' database connections drop (a database restart): each is replaced within 2 s
            # (api/chat/relay.py), plus the event loop's lag on a loaded CI machine
            killed = await relay_connections(postgres_url, terminate=True)
            assert killed == 2
            async with asyncio.timeout(RELAY_REPLACED_S + LOOP_LAG_S):
                while await relay_connections(postgres_url) < 2:  # noqa: ASYNC110 - polling the database
                    await asyncio.sleep(0.05)
            r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": "Do you have parking?"})
            assert (await next_frame(user, sender("user")))["content"] == "Do you have parking?"
            assert (await next_frame(user, sender("lisa")))["content"] == r.json()["reply"]


RELAY_REPLACED_S = 2.0  # a dropped chat relay connection is replaced within this (PostgresRelay.CHECK_S)
LOOP_LAG_S = 0.3  # what such a figure may be exceeded by: the event loop's lag on a loaded 2-core machine


async def relay_connections(database_url: str, terminate: bool = False) -> int:
    """The chat relays' connections to this test database (ended first with ``terminate``)."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        action = "pg_terminate_backend(pid)" if terminate else "pid"
        rows = await conn.fetch(
            f"SELECT {action} FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'lisa-chat-relay-%'"
        )
        return len(rows)
    finally:
        await conn.close()
