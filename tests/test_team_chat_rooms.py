"""Team chat rooms over real HTTP and WebSockets (seed 004), on SQLite and PostgreSQL: three users register, A
makes a group with B, C joins by invite code, all three connected see each other's messages live (posted by
socket and by REST); D is refused (403, socket closed 1008 with a reason); direct chats, listing and paging."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from team_chat_support import bearer, register, team_env  # noqa: F401
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.usefixtures("team_env")


async def next_message(ws: ClientConnection, wait_s: float = 5.0) -> dict[str, Any]:
    """The next chat message frame (skips nothing: team sockets send only messages and answers)."""
    return json.loads(await asyncio.wait_for(ws.recv(), wait_s))


async def messages_until(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [await next_message(ws) for _ in range(count)]


async def test_group_flow_three_members_live_and_an_outsider_refused(app_server, db_url):
    server = await app_server(database_url=db_url)
    async with httpx.AsyncClient(base_url=server.url) as client:
        a, b, c, d = [await register(client, n) for n in ("Anna", "Ben", "Cleo", "Dan")]
        created = await client.post(
            "/groups", json={"name": "Trip", "participantIds": [b["user"]["id"]]}, headers=a["headers"]
        )
        assert created.status_code == 200, created.text
        group = created.json()["group"]
        assert group["type"] == "group" and group["name"] == "Trip"
        assert group["participantIds"] == [a["user"]["id"], b["user"]["id"]]
        code = group["inviteCode"]
        assert len(code) == 8 and code.isalnum()

        joined = await client.post("/groups/join", json={"inviteCode": code.lower()}, headers=c["headers"])
        assert joined.status_code == 200, joined.text
        assert c["user"]["id"] in joined.json()["group"]["participantIds"]
        again = await client.post("/groups/join", json={"inviteCode": code}, headers=c["headers"])
        assert (
            again.status_code == 200 and again.json()["group"]["participantIds"].count(c["user"]["id"]) == 1
        )

        chat_id = group["id"]
        url = f"{server.ws_url}/ws/chat/{chat_id}?token="
        async with (
            connect(url + a["accessToken"]) as wa,
            connect(url + b["accessToken"]) as wb,
            connect(url + c["accessToken"]) as wc,
        ):
            await wa.send(json.dumps({"type": "message", "content": "Hi all"}))
            for ws in (wa, wb, wc):
                got = await next_message(ws)
                assert got["content"] == "Hi all" and got["userId"] == a["user"]["id"]
                assert got["userName"] == "Anna" and got["type"] == "text" and got["chatId"] == chat_id
                assert set(got) >= {"id", "chatId", "userId", "userName", "content", "type", "createdAt"}
            posted = await client.post(
                f"/chats/{chat_id}/messages", json={"content": "Hello from REST"}, headers=b["headers"]
            )
            assert posted.status_code == 200, posted.text
            assert posted.json()["message"]["content"] == "Hello from REST"
            await wc.send(json.dumps({"type": "message", "content": "Cleo here"}))
            for ws in (wa, wb, wc):
                got = await messages_until(ws, 2)
                assert [m["content"] for m in got] == ["Hello from REST", "Cleo here"]
            await wa.send(json.dumps({"type": "message"}))
            error = await next_message(wa)
            assert error["type"] == "error" and error["code"] == 422 and "content" in error["detail"]

        # D is no member: 403 on REST, the socket is closed with 1008 and a reason
        for response in (
            await client.get(f"/chats/{chat_id}/messages", headers=d["headers"]),
            await client.post(f"/chats/{chat_id}/messages", json={"content": "x"}, headers=d["headers"]),
        ):
            assert response.status_code == 403, response.text
        async with connect(url + d["accessToken"]) as wd:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await next_message(wd)
            assert closed.value.rcvd.code == 1008 and "not a member" in closed.value.rcvd.reason
        async with connect(url + "not-a-token") as bad:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await next_message(bad)
            assert closed.value.rcvd.code == 1008 and closed.value.rcvd.reason
        unknown = await client.get("/chats/no-such-chat/messages", headers=a["headers"])
        assert unknown.status_code == 404

        # history: oldest first, the system notes of creating and joining, then the messages
        history = (await client.get(f"/chats/{chat_id}/messages", headers=c["headers"])).json()["messages"]
        assert [m["type"] for m in history] == ["system", "system", "text", "text", "text"]
        assert [m["content"] for m in history][2:] == ["Hi all", "Hello from REST", "Cleo here"]

        listed = (await client.get("/chats", headers=b["headers"])).json()["chats"]
        assert [ch["id"] for ch in listed] == [chat_id]
        assert listed[0]["lastMessage"] == "Cleo here" and listed[0]["lastMessageAt"]
        assert (await client.get("/chats", headers=d["headers"])).json() == {"chats": []}


async def test_direct_chat_is_one_per_pair_and_named_for_the_viewer(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a, b = await register(client, "Anna"), await register(client, "Ben")
        first = await client.post("/chats", json={"participantId": b["user"]["id"]}, headers=a["headers"])
        assert first.status_code == 200, first.text
        chat = first.json()["chat"]
        assert chat["type"] == "direct" and chat["name"] == "Ben" and chat["inviteCode"] is None
        second = await client.post("/chats", json={"participantId": a["user"]["id"]}, headers=b["headers"])
        assert second.json()["chat"]["id"] == chat["id"] and second.json()["chat"]["name"] == "Anna"
        assert (
            await client.post("/chats", json={"participantId": "nobody"}, headers=a["headers"])
        ).status_code == 404
        own = await client.post("/chats", json={"participantId": a["user"]["id"]}, headers=a["headers"])
        assert own.status_code == 422 and "participantId" in own.text


async def test_newest_activity_first_and_paging_back(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a, b = await register(client, "Anna"), await register(client, "Ben")
        one = (await client.post("/groups", json={"name": "One"}, headers=a["headers"])).json()["group"]
        two = (
            await client.post("/chats", json={"participantId": b["user"]["id"]}, headers=a["headers"])
        ).json()
        two = two["chat"]
        for i in range(7):
            await client.post(f"/chats/{two['id']}/messages", json={"content": f"m{i}"}, headers=a["headers"])
        await client.post(f"/chats/{one['id']}/messages", json={"content": "latest"}, headers=a["headers"])
        listed = (await client.get("/chats", headers=a["headers"])).json()["chats"]
        assert [c["id"] for c in listed] == [one["id"], two["id"]]

        page = (await client.get(f"/chats/{two['id']}/messages?limit=3", headers=b["headers"])).json()
        assert [m["content"] for m in page["messages"]] == ["m4", "m5", "m6"] and page["hasMore"]
        older = await client.get(
            f"/chats/{two['id']}/messages",
            params={"limit": 3, "before": page["messages"][0]["id"]},
            headers=b["headers"],
        )
        assert [m["content"] for m in older.json()["messages"]] == ["m1", "m2", "m3"]
        oldest = await client.get(
            f"/chats/{two['id']}/messages",
            params={"limit": 3, "before": older.json()["messages"][0]["id"]},
            headers=b["headers"],
        )
        assert [m["content"] for m in oldest.json()["messages"]] == ["m0"] and not oldest.json()["hasMore"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/groups", {"name": "", "participantIds": []}, "name"),
        ("/groups", {"name": "G", "participantIds": ["bad id!"]}, "participantIds"),
        ("/groups", {"name": "G", "participantIds": ["unknown-user"]}, "participantIds"),
        ("/groups/join", {"inviteCode": "O0I1"}, "inviteCode"),
        ("/chats", {"participantId": ""}, "participantId"),
    ],
)
async def test_bad_chat_input_is_422_naming_the_field(app_server, path, body, field):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        response = await client.post(path, json=body, headers=a["headers"])
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_post_checks_content_and_an_unknown_invite_is_404(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        group = (await client.post("/groups", json={"name": "G"}, headers=a["headers"])).json()["group"]
        blank = await client.post(
            f"/chats/{group['id']}/messages", json={"content": "   "}, headers=a["headers"]
        )
        assert blank.status_code == 422 and "content" in blank.text
        missing = await client.post("/groups/join", json={"inviteCode": "ZZZZZZZZ"}, headers=a["headers"])
        assert missing.status_code == 404
        assert (await client.get("/chats")).status_code == 401


async def test_join_attempts_are_rate_limited(app_server, team_env):  # noqa: F811
    team_env.setenv("TEAM_JOIN_ATTEMPTS_PER_MINUTE", "3")
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        answers = [
            (
                await client.post("/groups/join", json={"inviteCode": f"ZZZZZZZ{c}"}, headers=a["headers"])
            ).status_code
            for c in "23456"
        ]
        assert answers[:3] == [404, 404, 404] and answers[3] == 429


async def test_team_chats_stay_out_of_lisas_one_to_one_chat_paths(app_server):
    """The seed-003 paths never open a team chat (with auth off anyone may use them)."""
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        group = (await client.post("/groups", json={"name": "Private"}, headers=a["headers"])).json()["group"]
        await client.post(
            f"/chats/{group['id']}/messages", json={"content": "secret plan"}, headers=a["headers"]
        )
        history = await client.get("/history", params={"chat_id": group["id"]})
        assert history.status_code == 404
        session = await client.get(f"/api/v1/sessions/{group['id']}")
        assert session.status_code == 404
        assert "secret plan" not in (await client.get("/manager/chats")).text
        async with connect(f"{server.ws_url}/ws?chat_id={group['id']}") as ws:
            greeting = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert greeting["chatId"] != group["id"], "an unknown id starts a new Lisa chat"
        assert bearer("x")  # the helper stays in use for other modules
