"""Team chat accounts over real HTTP (seed 004): register, login by password and by SMS code through the local
outbox, /auth/me, refresh rotation with family revocation on replay, logout, expired tokens, rate limits, and
validation errors naming the field; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from team_chat_support import bearer, register, team_env  # noqa: F401

from api.team_chat.store import now_utc

pytestmark = pytest.mark.usefixtures("team_env")


async def test_register_login_me_refresh_logout(app_server, db_url):
    server = await app_server(database_url=db_url)
    async with httpx.AsyncClient(base_url=server.url) as client:
        anna = await register(client, "Anna")
        assert set(anna) >= {"user", "accessToken", "refreshToken"}
        assert anna["user"]["email"] == anna["email"] and anna["user"]["name"] == "Anna"
        assert anna["user"]["phone"] is None

        me = await client.get("/auth/me", headers=anna["headers"])
        assert me.status_code == 200, me.text
        assert me.json()["user"]["id"] == anna["user"]["id"] and me.json()["role"] == "member"

        login = await client.post(
            "/auth/login", json={"email": anna["email"].upper(), "password": anna["password"]}
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["id"] == anna["user"]["id"]

        # no enumeration: the same answer for a wrong password and an unknown email
        wrong = await client.post(
            "/auth/login", json={"email": anna["email"], "password": "not-the-password"}
        )
        unknown = await client.post(
            "/auth/login", json={"email": "nobody@example.com", "password": "whatever1"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]

        twice = await client.post("/auth/register", json={"email": anna["email"], "password": "another-pw-1"})
        assert twice.status_code == 409

        # refresh rotates; the old refresh token replayed revokes the whole family
        first = await client.post("/auth/refresh", json={"refreshToken": anna["refreshToken"]})
        assert first.status_code == 200, first.text
        rotated = first.json()
        assert rotated["refreshToken"] != anna["refreshToken"]
        assert (await client.get("/auth/me", headers=bearer(rotated["accessToken"]))).status_code == 200
        replay = await client.post("/auth/refresh", json={"refreshToken": anna["refreshToken"]})
        assert replay.status_code == 401 and "already used" in replay.json()["detail"]
        after = await client.post("/auth/refresh", json={"refreshToken": rotated["refreshToken"]})
        assert after.status_code == 401, "the family is revoked: the newest token is refused too"

        # logout revokes the refresh token of another sign-in
        session = login.json()
        out = await client.post("/auth/logout", json={"refreshToken": session["refreshToken"]})
        assert out.status_code == 200 and out.json() == {"success": True}
        refused = await client.post("/auth/refresh", json={"refreshToken": session["refreshToken"]})
        assert refused.status_code == 401


async def test_expired_and_forged_access_tokens_get_401(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        anna = await register(client, "Anna")
        team = server.state.team_chat
        user = await team.store.user(anna["user"]["id"])
        expired = team.accounts.issuer.access_token(user, now=now_utc() - timedelta(hours=1))
        response = await client.get("/auth/me", headers=bearer(expired))
        assert response.status_code == 401 and response.json()["detail"] == "token expired"
        forged = anna["accessToken"][:-4] + ("AAAA" if not anna["accessToken"].endswith("AAAA") else "BBBB")
        assert (await client.get("/auth/me", headers=bearer(forged))).status_code == 401
        assert (await client.get("/auth/me")).status_code == 401


async def test_phone_code_login_through_the_local_outbox(app_server, db_url):
    server = await app_server(database_url=db_url)
    phone = "+491701234567"
    async with httpx.AsyncClient(base_url=server.url) as client:
        sent = await client.post("/auth/phone/code", json={"phone": phone})
        assert sent.status_code == 200, sent.text
        assert sent.json()["expiresIn"] == 300
        texts = await server.state.team_chat.store.outbox(phone)
        code = texts[0]["body"].split(": ")[1][:6]
        assert code.isdigit()

        bad = await client.post(
            "/auth/login", json={"phone": phone, "code": "000000" if code != "000000" else "111111"}
        )
        assert bad.status_code == 401
        good = await client.post("/auth/login", json={"phone": phone, "code": code})
        assert good.status_code == 200, good.text
        user = good.json()["user"]
        assert user["phone"] == phone and user["email"] is None
        again = await client.post("/auth/login", json={"phone": phone, "code": code})
        assert again.status_code == 401, "a code is single-use"

        # the same number signs in to the same account next time
        await client.post("/auth/phone/code", json={"phone": phone})
        code2 = (await server.state.team_chat.store.outbox(phone))[0]["body"].split(": ")[1][:6]
        second = await client.post("/auth/login", json={"phone": phone, "code": code2})
        assert second.json()["user"]["id"] == user["id"]


async def test_code_attempts_are_limited(app_server, team_env):  # noqa: F811
    team_env.setenv("TEAM_CODE_MAX_ATTEMPTS", "3")
    server = await app_server()
    phone = "+14155550123"
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/auth/phone/code", json={"phone": phone})
        code = (await server.state.team_chat.store.outbox(phone))[0]["body"].split(": ")[1][:6]
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(3):
            assert (await client.post("/auth/login", json={"phone": phone, "code": wrong})).status_code == 401
        right = await client.post("/auth/login", json={"phone": phone, "code": code})
        assert right.status_code == 401, "after the allowed attempts even the right code is refused"


async def test_login_attempts_are_rate_limited_per_account(app_server, db_url, team_env):  # noqa: F811
    team_env.setenv("TEAM_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    server = await app_server(database_url=db_url)
    async with httpx.AsyncClient(base_url=server.url) as client:
        anna = await register(client, "Anna")
        answers = [
            await client.post("/auth/login", json={"email": anna["email"], "password": "wrong-password"})
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        # even the right password waits: the account's budget is spent
        right = await client.post("/auth/login", json={"email": anna["email"], "password": anna["password"]})
        assert right.status_code == 429


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/auth/register", {"email": "not-an-email", "password": "long-enough-1"}, "email"),
        ("/auth/register", {"email": "a@example.com", "password": "short"}, "password"),
        (
            "/auth/register",
            {"email": "a@example.com", "password": "long-enough-1", "phone": "0170 123"},
            "phone",
        ),
        ("/auth/login", {"phone": "+491701234567", "code": "12ab56"}, "code"),
        ("/auth/phone/code", {"phone": "12345"}, "phone"),
        ("/auth/refresh", {}, "refreshToken"),
    ],
)
async def test_bad_input_is_422_naming_the_field(app_server, path, body, field):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_login_without_a_way_is_422(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/auth/login", json={"email": "a@example.com"})
    assert response.status_code == 422 and "password" in response.text


async def test_phone_code_through_twilio_messages(app_server, team_env):  # noqa: F811
    """With Twilio configured the code goes out as an SMS through Twilio's Messages REST API (here a local
    server speaking it), never to the outbox; a number Twilio refuses is a 502 and no code stays valid."""
    from fakes.twilio_rest_protocol_server import TwilioRestProtocolServer

    sid, secret = "AC" + "1" * 32, "twilio-auth-token"
    with TwilioRestProtocolServer(sid, secret) as twilio:
        for name, value in {
            "TEAM_SMS_PROVIDER": "auto",
            "TWILIO_ACCOUNT_SID": sid,
            "TWILIO_AUTH_TOKEN": secret,
            "TWILIO_API_BASE_URL": twilio.base_url,
            "TEAM_SMS_FROM": "+15005550006",
        }.items():
            team_env.setenv(name, value)
        server = await app_server()
        phone = "+491701234567"
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/api/v1/health")).json()["providers"]["sms"] == "twilio"
            sent = await client.post("/auth/phone/code", json={"phone": phone})
            assert sent.status_code == 200, sent.text
            message = twilio.messages[-1]
            assert message["to"] == phone and message["from"] == "+15005550006"
            assert await server.state.team_chat.store.outbox(phone) == []
            code = message["body"].split(": ")[1][:6]
            login = await client.post("/auth/login", json={"phone": phone, "code": code})
            assert login.status_code == 200 and login.json()["user"]["phone"] == phone

            twilio.fail_next(400, code=21614, message="'To' number is not a valid mobile number")
            refused = await client.post("/auth/phone/code", json={"phone": "+4930123456"})
            assert refused.status_code == 502
            assert await server.state.team_chat.store.code("+4930123456") is None


def test_every_team_chat_setting_is_documented_in_env_example(monkeypatch):
    from pathlib import Path

    from api.team_chat.settings import TeamChatSettings

    names = {}
    for line in (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            names[name] = value
            if not value:
                monkeypatch.setenv(name, "")
    missing = [f.upper() for f in TeamChatSettings.model_fields if f.upper() not in names]
    assert not missing, f"not in .env.example: {missing}"
    settings = TeamChatSettings()  # empty values copied from .env.example mean the defaults
    assert settings.team_jwt_secret is None and settings.jitsi_base_url == "https://meet.jit.si"


async def test_one_principal_model_with_auth_on(app_server):
    """With AUTH_ENABLED our access tokens are accepted by the other areas like Supabase's (the user is the
    owner of what they make, not an admin), and a Supabase user gets a team chat account on first use."""
    from doubles.tokens import SECRET
    from doubles.tokens import bearer as supabase_bearer
    from doubles.tokens import token as supabase_token

    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    async with httpx.AsyncClient(base_url=server.url) as client:
        anna = await register(client, "Anna")
        session = await client.post("/api/v1/sessions", json={"language": "en"}, headers=anna["headers"])
        assert session.status_code == 201, session.text
        sid = session.json()["session_id"]
        assert (await server.state.chat.store.get(sid)).user_id == anna["user"]["id"]
        assert (await client.get("/api/v1/sessions", headers=anna["headers"])).status_code == 403
        assert (await client.get("/api/v1/sessions")).status_code == 401

        supabase = supabase_bearer(supabase_token("supabase-user-7"))
        me = await client.get("/auth/me", headers=supabase)
        assert me.status_code == 200 and me.json()["user"]["id"] == "supabase-user-7"
        group = await client.post(
            "/groups", json={"name": "Mixed", "participantIds": [anna["user"]["id"]]}, headers=supabase
        )
        assert group.status_code == 200 and anna["user"]["id"] in group.json()["group"]["participantIds"]
