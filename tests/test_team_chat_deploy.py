"""The team chat as deployed: two workers on one PostgreSQL (live messages and attempt budgets cross
processes), CORS for browser clients, and a walk over every endpoint of seed 004 checking its JSON shapes."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from team_chat_support import register, team_env  # noqa: F401
from websockets.asyncio.client import connect

pytestmark = pytest.mark.usefixtures("team_env")

MESSAGE_KEYS = {"id", "chatId", "userId", "userName", "content", "type", "createdAt"}
CHAT_KEYS = {
    "id",
    "name",
    "type",
    "participantIds",
    "inviteCode",
    "createdAt",
    "lastMessageAt",
    "lastMessage",
}


async def recv(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


@pytest.mark.postgres
async def test_three_members_on_two_workers_see_each_other_live(app_server, postgres_url, team_env):  # noqa: F811
    team_env.setenv("TEAM_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    one = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    two = await app_server(database_url=postgres_url, api={"lisa_workers": 2})
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=30) as h1,
        httpx.AsyncClient(base_url=two.url, timeout=30) as h2,
    ):
        a, b, c = await register(h1, "Anna"), await register(h2, "Ben"), await register(h1, "Cleo")
        group = (
            await h1.post(
                "/groups", json={"name": "Ops", "participantIds": [b["user"]["id"]]}, headers=a["headers"]
            )
        ).json()["group"]
        joined = await h2.post("/groups/join", json={"inviteCode": group["inviteCode"]}, headers=c["headers"])
        assert joined.status_code == 200, "a token issued by one worker is accepted by the other"
        path = f"/ws/chat/{group['id']}?token="
        async with (
            connect(one.ws_url + path + a["accessToken"]) as wa,
            connect(two.ws_url + path + b["accessToken"]) as wb,
            connect(two.ws_url + path + c["accessToken"]) as wc,
        ):
            await asyncio.sleep(0.3)  # the relays listen
            await wa.send(json.dumps({"type": "message", "content": "from worker one"}))
            for ws in (wa, wb, wc):
                assert (await recv(ws))["content"] == "from worker one"
            await h2.post(
                f"/chats/{group['id']}/messages", json={"content": "REST on two"}, headers=b["headers"]
            )
            await wc.send(json.dumps({"type": "message", "content": "socket on two"}))
            for ws in (wa, wb, wc):
                got = [(await recv(ws))["content"] for _ in range(2)]
                assert got == ["REST on two", "socket on two"]
            # each message arrives once: nothing more within a moment
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(wa.recv(), 0.5)

        # the sign-in budget of an account is counted across workers (in the database)
        statuses = []
        for client in (h1, h2, h1, h2):
            r = await client.post("/auth/login", json={"email": a["email"], "password": "wrong-password"})
            statuses.append(r.status_code)
        assert statuses == [401, 401, 401, 429]


async def test_cors_preflight_for_configured_origins_only(app_server):
    server = await app_server(api={"cors_origins": "https://app.example.com"})
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        ok = await client.options(
            "/auth/login",
            headers={**preflight, "Access-Control-Request-Headers": "authorization,content-type"},
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "authorization" in ok.headers["access-control-allow-headers"].lower()
        foreign = await client.options("/auth/login", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
        a = await register(client, "Anna")
        listed = await client.get("/chats", headers={**a["headers"], "Origin": "https://app.example.com"})
        assert listed.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_no_cors_by_default(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.options(
            "/auth/login",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        )
    assert "access-control-allow-origin" not in r.headers


async def test_seed_004_walk_every_endpoint_and_shape(app_server):
    """Each endpoint of seed 004 once, with the exact request of the seed, checking the keys it answers."""
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        reg = await client.post(
            "/auth/register",
            json={"email": "user@example.com", "password": "password123", "name": "User Name"},
        )
        assert set(reg.json()) >= {"user", "accessToken", "refreshToken"}
        assert set(reg.json()["user"]) >= {"id", "email", "name"}
        login = (
            await client.post("/auth/login", json={"email": "user@example.com", "password": "password123"})
        ).json()
        assert set(login) >= {"user", "accessToken", "refreshToken"} and set(login["user"]) >= {
            "id",
            "email",
            "name",
            "phone",
        }
        await client.post("/auth/phone/code", json={"phone": "+79991234567"})
        text = (await server.state.team_chat.store.outbox("+79991234567"))[0]["body"]
        by_phone = await client.post(
            "/auth/login", json={"phone": "+79991234567", "code": text.split(": ")[1][:6]}
        )
        assert by_phone.json()["user"]["phone"] == "+79991234567"
        refreshed = (await client.post("/auth/refresh", json={"refreshToken": login["refreshToken"]})).json()
        assert "accessToken" in refreshed
        headers = {"Authorization": f"Bearer {refreshed['accessToken']}"}
        other = by_phone.json()["user"]["id"]

        group = (
            await client.post(
                "/groups", json={"name": "Group Name", "participantIds": [other]}, headers=headers
            )
        ).json()
        assert set(group["group"]) >= {"id", "name", "type", "participantIds", "inviteCode", "createdAt"}
        joined = (
            await client.post(
                "/groups/join", json={"inviteCode": group["group"]["inviteCode"]}, headers=headers
            )
        ).json()
        assert joined["group"]["id"] == group["group"]["id"]
        chat_id = group["group"]["id"]
        posted = (
            await client.post(f"/chats/{chat_id}/messages", json={"content": "Message text"}, headers=headers)
        ).json()
        assert set(posted["message"]) >= MESSAGE_KEYS and posted["message"]["type"] == "text"
        listed = (await client.get("/chats", headers=headers)).json()
        assert set(listed["chats"][0]) >= CHAT_KEYS and listed["chats"][0]["type"] == "group"
        page = (await client.get(f"/chats/{chat_id}/messages?limit=100", headers=headers)).json()
        assert all(set(m) >= MESSAGE_KEYS for m in page["messages"])
        asked = (
            await client.post(
                "/ai/ask", json={"chatId": chat_id, "question": "User question"}, headers=headers
            )
        ).json()
        assert set(asked["message"]) >= MESSAGE_KEYS and asked["message"]["type"] == "ai"
        suggestions = (await client.get(f"/ai/suggestions?chatId={chat_id}", headers=headers)).json()
        assert all(
            set(s) >= {"id", "chatId", "userId", "content", "type", "createdAt"}
            for s in suggestions["suggestions"]
        )
        meet = (await client.post("/google/meet/create", json={}, headers=headers)).json()
        assert meet["meetUrl"].startswith("https://")
        async with connect(f"{server.ws_url}/ws/chat/{chat_id}?token={refreshed['accessToken']}") as ws:
            await ws.send(json.dumps({"type": "message", "content": "Message text"}))
            frame = await recv(ws)
            assert set(frame) >= MESSAGE_KEYS and frame["content"] == "Message text"
        spec = (await client.get("/openapi.json")).json()["paths"]
        for path in ("/auth/login", "/auth/register", "/auth/refresh", "/auth/gmail/token", "/chats",
                     "/chats/{chat_id}/messages", "/groups", "/groups/join", "/ai/ask", "/ai/suggestions",
                     "/google/meet/create"):  # fmt: skip
            assert path in spec, path
        assert "422" in spec["/groups"]["post"]["responses"] and "401" in spec["/chats"]["get"]["responses"]
