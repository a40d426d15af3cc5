"""Lisa asked into a team chat and meetings, over real HTTP and WebSockets (seed 004): /ai/ask posts an ``ai``
message every member receives (``suggestMeet`` on talk of a call, a created meeting's ``meetUrl``), answers in
the question's language, /ai/suggestions; /auth/gmail/token and /google/meet/create against a local server
speaking Google's tokeninfo and Calendar protocol, and the keyless Jitsi default."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from cryptography.fernet import Fernet
from fakes.google_protocol_server import GoogleProtocolServer
from team_chat_support import register, team_env  # noqa: F401
from websockets.asyncio.client import connect

from agent.room import about_meeting, language_of, wants_meeting_created

pytestmark = pytest.mark.usefixtures("team_env")


async def _group(client: httpx.AsyncClient, owner: dict, *others: dict) -> dict:
    response = await client.post(
        "/groups",
        json={"name": "Team", "participantIds": [o["user"]["id"] for o in others]},
        headers=owner["headers"],
    )
    return response.json()["group"]


async def test_ask_posts_an_ai_message_every_member_receives(app_server, db_url):
    server = await app_server(database_url=db_url)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        a, b, d = await register(client, "Anna"), await register(client, "Ben"), await register(client, "Dan")
        group = await _group(client, a, b)
        url = f"{server.ws_url}/ws/chat/{group['id']}?token="
        async with connect(url + a["accessToken"]) as wa, connect(url + b["accessToken"]) as wb:
            asked = await client.post(
                "/ai/ask",
                json={"chatId": group["id"], "question": "let's have a call tomorrow"},
                headers=a["headers"],
            )
            assert asked.status_code == 200, asked.text
            message = asked.json()["message"]
            assert message["type"] == "ai" and message["userId"] == "lisa" and message["userName"] == "Lisa"
            assert message["metadata"]["suggestMeet"] is True and "meetUrl" not in message["metadata"]
            for ws in (wa, wb):
                got = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert got["id"] == message["id"] and got["type"] == "ai" and got["metadata"]["suggestMeet"]

            made = await client.post(
                "/ai/ask",
                json={"chatId": group["id"], "question": "Lisa, please create a meeting"},
                headers=b["headers"],
            )
            meta = made.json()["message"]["metadata"]
            assert meta["meetUrl"].startswith("https://meet.jit.si/Lisa-") and len(meta["meetUrl"]) > 40
            assert meta["meetUrl"] in made.json()["message"]["content"]
            for ws in (wa, wb):
                assert (
                    json.loads(await asyncio.wait_for(ws.recv(), 5))["metadata"]["meetUrl"] == meta["meetUrl"]
                )

        outsider = await client.post(
            "/ai/ask", json={"chatId": group["id"], "question": "hi"}, headers=d["headers"]
        )
        assert outsider.status_code == 403
        history = (await client.get(f"/chats/{group['id']}/messages", headers=b["headers"])).json()[
            "messages"
        ]
        assert [m["type"] for m in history if m["type"] == "ai"] == ["ai", "ai"]


async def test_lisa_answers_in_the_language_of_the_question(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        a = await register(client, "Anna")
        group = await _group(client, a)
        english = await client.post(
            "/ai/ask",
            json={"chatId": group["id"], "question": "What are your opening hours?"},
            headers=a["headers"],
        )
        german = await client.post(
            "/ai/ask",
            json={"chatId": group["id"], "question": "Wann habt ihr geöffnet?"},
            headers=a["headers"],
        )
        en, de = english.json()["message"], german.json()["message"]
        assert en["content"] and de["content"] and en["content"] != de["content"]
        assert language_of(en["content"]) == "en" and language_of(de["content"]) == "de"
        assert "suggestMeet" not in (en.get("metadata") or {})
        russian = await client.post(
            "/ai/ask",
            json={"chatId": group["id"], "question": "Давайте созвонимся завтра"},
            headers=a["headers"],
        )
        ru = russian.json()["message"]
        assert ru["metadata"]["suggestMeet"] is True and language_of(ru["content"]) == "ru"


async def test_suggestions_are_one_to_three_ai_items(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a, b = await register(client, "Anna"), await register(client, "Ben")
        group = await _group(client, a, b)
        await client.post(
            f"/chats/{group['id']}/messages",
            json={"content": "Shall we meet on a call?"},
            headers=a["headers"],
        )
        response = await client.get("/ai/suggestions", params={"chatId": group["id"]}, headers=b["headers"])
        assert response.status_code == 200, response.text
        items = response.json()["suggestions"]
        assert 1 <= len(items) <= 3
        assert all(i["type"] == "ai" and i["userId"] == "lisa" and i["chatId"] == group["id"] for i in items)
        assert any("Anna" in i["content"] for i in items) and any("meeting" in i["content"] for i in items)
        assert (await client.get("/ai/suggestions", params={"chatId": group["id"]})).status_code == 401
        assert (await client.get("/ai/suggestions", headers=b["headers"])).status_code == 422


async def test_keyless_meeting_is_a_jitsi_room_named_in_health(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        first = (await client.post("/google/meet/create", json={}, headers=a["headers"])).json()
        second = (await client.post("/google/meet/create", json={}, headers=a["headers"])).json()
        assert first["provider"] == "jitsi" and first["meetUrl"].startswith("https://meet.jit.si/Lisa-")
        assert first["meetUrl"] != second["meetUrl"]
        health = (await client.get("/api/v1/health")).json()
        assert "jitsi" in health["providers"]["meetings"] and health["providers"]["sms"] == "outbox"
        assert (await client.post("/google/meet/create", json={})).status_code == 401


async def test_google_token_kept_encrypted_and_meet_created_through_calendar(app_server, db_url, team_env):  # noqa: F811
    with GoogleProtocolServer() as google:
        team_env.setenv("TEAM_TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
        team_env.setenv("GOOGLE_TOKENINFO_URL", google.tokeninfo_url)
        team_env.setenv("GOOGLE_CALENDAR_URL", google.calendar_url)
        team_env.setenv("GOOGLE_CLIENT_ID", google.client_id)
        server = await app_server(database_url=db_url)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            a = await register(client, "Anna")
            bad = await client.post(
                "/auth/gmail/token", json={"token": "ya29.unknown-token"}, headers=a["headers"]
            )
            assert bad.status_code == 401
            token = google.issue("anna@gmail.example")
            kept = await client.post("/auth/gmail/token", json={"token": token}, headers=a["headers"])
            assert kept.status_code == 200 and kept.json() == {"success": True}
            stored = await server.state.db.fetchone("SELECT * FROM team_google_tokens")
            assert token not in json.dumps(stored) and stored["google_email"] == "anna@gmail.example"
            assert (await client.get("/auth/me", headers=a["headers"])).json()["googleConnected"] is True

            made = await client.post("/google/meet/create", json={}, headers=a["headers"])
            assert made.status_code == 200, made.text
            assert made.json()["provider"] == "google"
            assert made.json()["meetUrl"] == google.events[-1]["hangoutLink"]
            assert made.json()["meetUrl"].startswith("https://meet.google.com/")
            insert = [r for r in google.requests if r["path"].endswith("/events")][-1]
            assert insert["headers"]["Authorization"] == f"Bearer {token}"
            assert insert["query"]["conferenceDataVersion"] == ["1"]
            create = insert["body"]["conferenceData"]["createRequest"]
            assert create["conferenceSolutionKey"] == {"type": "hangoutsMeet"} and create["requestId"]

            group = await _group(client, a)
            asked = await client.post(
                "/ai/ask",
                json={"chatId": group["id"], "question": "set up a meeting for us"},
                headers=a["headers"],
            )
            assert asked.json()["message"]["metadata"]["meetUrl"] == google.events[-1]["hangoutLink"]

            google.tokens.clear()  # the user revoked our access at Google
            stale = await client.post("/google/meet/create", json={}, headers=a["headers"])
            assert stale.status_code == 401 and "gmail/token" in stale.json()["detail"]


async def test_gmail_token_without_an_encryption_key_is_409(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        a = await register(client, "Anna")
        response = await client.post(
            "/auth/gmail/token", json={"token": "ya29.whatever"}, headers=a["headers"]
        )
    assert response.status_code == 409 and "TEAM_TOKEN_ENCRYPTION_KEY" in response.json()["detail"]


@pytest.mark.parametrize(
    ("text", "talk", "set_up"),
    [
        ("let's have a call tomorrow", True, False),
        ("Lisa, please create a meeting", True, True),
        ("Können wir morgen telefonieren?", True, False),
        ("Leg bitte ein Meeting an", True, True),
        ("Давайте созвонимся завтра", True, False),
        ("Создай встречу, пожалуйста", True, True),
        ("The invoice is attached", False, False),
    ],
)
def test_meeting_talk_and_requests(text, talk, set_up):
    assert about_meeting(text) is talk
    assert wants_meeting_created(text) is set_up
