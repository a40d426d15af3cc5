"""Bearer auth with Supabase-style HS256 JWTs: token checks, and the chat API with auth on and off."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
import websockets
from websockets.asyncio.client import connect

from api.auth import AuthError, check_settings, decode_token
from api.settings import ApiSettings

SECRET = "test-only-jwt-secret-0123456789abcdef"


def token(sub: str | None = "user-a", role: str = "authenticated", secret: str = SECRET, **claims) -> str:
    payload = {"role": role, "iat": int(time.time()), "exp": int(time.time()) + 3600, **claims}
    if role != "service_role":
        payload.setdefault("aud", "authenticated")
    if sub:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_user_and_service_tokens_are_recognised():
    user = decode_token(token("u-1"), SECRET)
    assert user.user_id == "u-1" and not user.is_admin
    assert user.may_access("u-1") and not user.may_access("u-2") and not user.may_access(None)
    service = decode_token(token(None, role="service_role", iss="supabase"), SECRET)
    assert service.is_admin and service.may_access("anyone")


@pytest.mark.parametrize(
    ("tok", "message"),
    [
        (token(secret="another-secret-another-secret-xxxx"), "invalid token"),
        (token(exp=int(time.time()) - 10), "expired"),
        (token(aud="anon"), "audience"),
        (token(sub=None), "subject"),
        ("not.a.jwt", "invalid token"),
        (jwt.encode({"sub": "u", "aud": "authenticated"}, "k" * 64, algorithm="HS512"), "invalid token"),
    ],
)
def test_bad_tokens_are_refused_with_a_safe_message(tok, message):
    with pytest.raises(AuthError, match=message) as err:
        decode_token(tok, SECRET)
    assert SECRET not in str(err.value) and tok not in str(err.value)


def test_auth_on_without_a_secret_refuses_to_start():
    with pytest.raises(RuntimeError, match="SUPABASE_JWT_SECRET"):
        check_settings(ApiSettings(_env_file=None, auth_enabled=True, supabase_jwt_secret=None))
    check_settings(ApiSettings(_env_file=None, auth_enabled=False))


async def test_with_auth_on_users_see_only_their_own_sessions(app_server):
    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    alice, bob, admin = token("alice"), token("bob"), token(None, role="service_role")
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/v1/health")).status_code == 200  # health needs no token

        r = await http.post("/api/v1/sessions")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = await http.post(
            "/api/v1/sessions", headers=bearer(token("alice", secret="wrong-secret-wrong-secret-wrong-xx"))
        )
        assert r.status_code == 401 and r.json()["detail"] == "invalid token"

        sid = (await http.post("/api/v1/sessions", headers=bearer(alice))).json()["session_id"]
        r = await http.post(f"/api/v1/sessions/{sid}/chat", headers=bearer(alice), json={"message": "Hello"})
        assert r.status_code == 200
        assert (await http.get(f"/api/v1/sessions/{sid}", headers=bearer(alice))).json()["user_id"] == "alice"

        for method, path in [
            ("GET", f"/api/v1/sessions/{sid}"),
            ("POST", f"/api/v1/sessions/{sid}/chat"),
            ("DELETE", f"/api/v1/sessions/{sid}"),
            ("GET", f"/history?chat_id={sid}"),
        ]:
            r = await http.request(
                method, path, headers=bearer(bob), json={"message": "hi"} if method == "POST" else None
            )
            assert r.status_code == 403, (method, path, r.text)

        # admin endpoints need the service role
        for method, path, body in [
            ("GET", "/api/v1/sessions", None),
            ("GET", "/manager/chats", None),
            ("POST", "/manager/send", {"chat_id": sid, "content": "hi"}),
            ("POST", "/manager/takeover", {"chat_id": sid}),
            ("POST", "/manager/release", {"chat_id": sid}),
        ]:
            assert (await http.request(method, path, headers=bearer(alice), json=body)).status_code == 403
            assert (await http.request(method, path, json=body)).status_code == 401
        await http.post("/api/v1/sessions", headers=bearer(bob))
        r = await http.get("/api/v1/sessions", headers=bearer(admin))
        assert r.status_code == 200 and {s["user_id"] for s in r.json()["sessions"]} == {"alice", "bob"}
        assert (await http.get(f"/api/v1/sessions/{sid}", headers=bearer(admin))).status_code == 200
        r = await http.post(
            "/manager/send", headers=bearer(admin), json={"chat_id": sid, "content": "Hi Alice"}
        )
        assert r.status_code == 200 and r.json()["taken_over_by"] == "Manager"
        assert (
            await http.post("/manager/release", headers=bearer(admin), json={"chat_id": sid})
        ).status_code == 200

        # WebSockets take the token as ?token= (old clients; see below for the ways without the URL)
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/ws?chat_id={sid}&token=not.a.jwt"):
                pass
        assert refused.value.response.status_code == 401
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/ws?chat_id={sid}&token={bob}"):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/manager/ws?token={alice}"):
                pass
        assert refused.value.response.status_code == 403

        async with connect(f"{server.ws_url}/ws?chat_id={sid}&token={alice}") as ws:
            await ws.send(json.dumps({"type": "message", "content": "Where are you located?"}))
            while (frame := json.loads(await ws.recv())).get("sender") != "lisa":
                pass
            assert "Parkstraße" in frame["content"]
        async with connect(f"{server.ws_url}/manager/ws?token={admin}") as ws:
            assert json.loads(await ws.recv())["event"] == "chats"


async def test_with_auth_off_everyone_is_admin(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as http:
        sid = (await http.post("/api/v1/sessions", headers=bearer("garbage"))).json()["session_id"]
        assert (await http.get("/api/v1/sessions")).status_code == 200
        assert (await http.get("/manager/chats")).status_code == 200
        assert (await http.get(f"/api/v1/sessions/{sid}")).json()["user_id"] is None


async def test_rate_limit_counts_per_user_when_authenticated(app_server):
    server = await app_server(
        api={"auth_enabled": True, "supabase_jwt_secret": SECRET, "rate_limit_per_minute": 3}
    )
    alice, bob = token("alice"), token("bob")
    async with httpx.AsyncClient(base_url=server.url) as http:
        codes = [(await http.post("/api/v1/sessions", headers=bearer(alice))).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        assert (await http.post("/api/v1/sessions", headers=bearer(bob))).status_code == 201  # same IP
        async with connect(f"{server.ws_url}/ws?token={bob}") as ws:
            for _ in range(3):
                await ws.send(json.dumps({"type": "message", "content": "Hello"}))
            frames = []
            while not any(f.get("type") == "error" for f in frames):
                frames.append(json.loads(await ws.recv()))
            error = frames[-1]
            assert error["code"] == 429 and error["retry_after"] >= 1
