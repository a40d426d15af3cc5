"""Bearer auth with Supabase-style HS256 JWTs: token checks, and the chat API with auth on and off."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import jwt
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from doubles.tokens import SECRET, bearer, token
from websockets.asyncio.client import connect

from api.auth import AuthError, check_settings, decode_token
from api.settings import ApiSettings


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


# --- claims: exp required, nbf, aud for every role -------------------------------------------------------
def test_exp_is_required_nbf_checked_and_aud_checked_for_every_role():
    now = int(time.time())
    forever = jwt.encode({"sub": "u", "role": "authenticated", "aud": "authenticated"}, SECRET)
    with pytest.raises(AuthError, match="'exp'"):
        decode_token(forever, SECRET)
    with pytest.raises(AuthError, match="not valid yet"):
        decode_token(token("u", nbf=now + 300), SECRET)
    assert decode_token(token("u", nbf=now - 5), SECRET).user_id == "u"
    # the service role: Supabase's service key carries no aud (accepted); any other aud is refused
    for aud in ("anon", "another-project", ["anon", "x"]):
        with pytest.raises(AuthError, match="audience"):
            decode_token(token(None, role="service_role", aud=aud), SECRET)
    assert decode_token(token(None, role="service_role", aud="authenticated"), SECRET).is_admin
    assert decode_token(token(None, role="service_role"), SECRET).is_admin
    with pytest.raises(AuthError, match="'exp'"):
        decode_token(jwt.encode({"role": "service_role"}, SECRET), SECRET)
    # a configured audience is the one every token must carry
    with pytest.raises(AuthError, match="audience is not 'lisa'"):
        decode_token(token("u"), SECRET, audience="lisa")


async def test_service_role_with_a_foreign_audience_is_refused_over_http(app_server):
    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    async with httpx.AsyncClient(base_url=server.url) as http:
        foreign = token(None, role="service_role", aud="anon")
        r = await http.get("/api/v1/sessions", headers=bearer(foreign))
        assert r.status_code == 401 and "audience" in r.json()["detail"]
        r = await http.get("/api/v1/sessions", headers=bearer(token(None, role="service_role")))
        assert r.status_code == 200


# --- Supabase's asymmetric signing keys (JWKS) -----------------------------------------------------------
@pytest.fixture
def jwks():
    from fakes.jwks_protocol_server import JwksProtocolServer

    server = JwksProtocolServer().start()
    server.rotate("ES256")
    yield server
    server.stop()


async def test_asymmetric_tokens_from_the_jwks_with_a_rotated_key(app_server, jwks):
    from api.auth import jwks_cache

    server = await app_server(
        api={"auth_enabled": True, "supabase_jwt_secret": SECRET, "supabase_url": jwks.url}
    )
    cache = jwks_cache(f"{jwks.url}/auth/v1/.well-known/jwks.json")
    first = jwks.keys[0]
    async with httpx.AsyncClient(base_url=server.url) as http:

        async def status(tok: str) -> tuple[int, str]:
            r = await http.post("/api/v1/sessions", headers=bearer(tok))
            return r.status_code, r.text

        assert (await status(jwks.sign(first, "alice")))[0] == 201
        assert (await status(jwks.sign(first, "alice")))[0] == 201
        assert jwks.fetches == 1  # cached
        assert (await status(token("bob")))[0] == 201  # the legacy HS256 secret still works beside it
        r = await http.post("/api/v1/sessions", headers=bearer(jwks.sign(first, "alice")))
        assert (
            r.json()["session_id"]
            and (
                await http.get(
                    f"/api/v1/sessions/{r.json()['session_id']}", headers=bearer(jwks.sign(first, "alice"))
                )
            ).json()["user_id"]
            == "alice"
        )

        # refused: expired, not yet valid, wrong audience, no exp, a forged key with a known kid
        now = int(time.time())
        for bad, reason in [
            (jwks.sign(first, "alice", exp=now - 5), "expired"),
            (jwks.sign(first, "alice", nbf=now + 300), "not valid yet"),
            (jwks.sign(first, "alice", aud="anon"), "audience"),
            (jwks.sign(first, "alice", exp=None), "'exp'"),
        ]:
            code, text = await status(bad)
            assert code == 401 and reason in text, (reason, text)
        from fakes.jwks_protocol_server import SigningKey

        forged = SigningKey("ES256", kid=first.kid)
        assert (await status(jwks.sign(forged, "alice")))[0] == 401
        # algorithm confusion: HS256 "signed" with the public key, and alg=none
        public_pem = first.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        confused = hmac_token(
            {"sub": "alice", "aud": "authenticated", "exp": now + 60}, public_pem, first.kid
        )
        assert (await status(confused))[0] == 401
        unsigned = jwt.encode(
            {"sub": "alice", "aud": "authenticated", "exp": now + 60}, None, algorithm="none"
        )
        assert (await status(unsigned))[0] == 401

        # the project rotates its key: the new kid is fetched once; the old key is retired with it
        cache.min_refetch_s = 0.5
        await asyncio.sleep(0.6)
        fetches = jwks.fetches
        second = jwks.rotate("RS256", retire_old=True)
        assert (await status(jwks.sign(second, "carol")))[0] == 201
        assert jwks.fetches == fetches + 1
        # tokens with unknown kids do not hammer the endpoint: at most one fetch per min_refetch_s
        for _ in range(5):
            assert (await status(jwks.sign(SigningKey("ES256"), "mallory")))[0] == 401
        assert jwks.fetches <= fetches + 2
        assert (await status(jwks.sign(first, "alice")))[0] == 401  # retired


def hmac_token(claims: dict, secret: bytes, kid: str) -> str:
    """HS256 over raw bytes, bypassing PyJWT's refusal to use a PEM as an HMAC secret."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


async def test_auth_on_with_only_the_jwks_and_an_unreachable_endpoint(app_server, jwks):
    server = await app_server(api={"auth_enabled": True, "supabase_url": jwks.url})
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.post("/api/v1/sessions", headers=bearer(jwks.sign(sub="dora")))).status_code == 201
        # HS256 tokens need the legacy secret, which is not configured here
        assert (await http.post("/api/v1/sessions", headers=bearer(token("eve")))).status_code == 401
        jwks.stop()  # the endpoint goes away: known keys stay in use
        from api.auth import jwks_cache

        jwks_cache(f"{jwks.url}/auth/v1/.well-known/jwks.json").fetched_at = -1e9  # stale: refresh fails
        assert (await http.post("/api/v1/sessions", headers=bearer(jwks.sign(sub="dora")))).status_code == 201


# --- WebSockets: tokens out of URLs, Origin ------------------------------------------------------------
async def recv_json(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def until(ws, predicate) -> dict:
    while not predicate(frame := await recv_json(ws)):
        pass
    return frame


async def closed_with(ws) -> tuple[int | None, list[dict]]:
    frames = []
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        while True:
            frames.append(await recv_json(ws))
    return closed.value.rcvd.code if closed.value.rcvd else None, frames


async def test_websocket_tokens_by_subprotocol_and_first_frame(app_server, monkeypatch):
    from api.edge import socket_admission

    monkeypatch.setattr(socket_admission, "AUTH_FRAME_TIMEOUT_S", 0.5)
    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    alice, admin = token("alice"), token(None, role="service_role")
    lisa = lambda f: f.get("sender") == "lisa"  # noqa: E731

    # Sec-WebSocket-Protocol: ["bearer", <jwt>]; the server echoes only "bearer"
    async with connect(f"{server.ws_url}/ws", subprotocols=["bearer", alice]) as ws:
        assert ws.subprotocol == "bearer"
        assert ws.response.headers["sec-websocket-protocol"] == "bearer"
        sid = (await until(ws, lisa))["chatId"]
    async with connect(f"{server.ws_url}/ws/chat/{sid}", subprotocols=["bearer", alice]) as ws:
        await ws.send(json.dumps({"type": "message", "content": "Where are you located?"}))
        assert "Parkstraße" in (await until(ws, lisa))["content"]
    async with connect(f"{server.ws_url}/manager/ws", subprotocols=["bearer", admin]) as ws:
        assert (await recv_json(ws))["event"] == "chats"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/ws/chat/{sid}", subprotocols=["bearer", token("bob")]):
            pass
    assert refused.value.response.status_code == 403

    # first frame {"type": "auth", "token": ...}
    async with connect(f"{server.ws_url}/ws?chat_id={sid}") as ws:
        await ws.send(json.dumps({"type": "auth", "token": alice}))
        await ws.send(json.dumps({"type": "message", "content": "Do you have parking?"}))
        assert "park" in (await until(ws, lambda f: lisa(f) and "park" in f["content"].lower()))["content"]
    async with connect(f"{server.ws_url}/manager/ws") as ws:
        await ws.send(json.dumps({"type": "auth", "token": f"Bearer {admin}"}))
        assert (await recv_json(ws))["event"] == "chats"
    # a user's token on the manager socket, a bad token, another first frame, or silence: error, close 1008
    for first in [
        {"type": "auth", "token": alice},
        {"type": "auth", "token": "not.a.jwt"},
        {"type": "message", "content": "hi"},
        None,
    ]:
        async with connect(f"{server.ws_url}/manager/ws") as ws:
            if first is not None:
                await ws.send(json.dumps(first))
            code, frames = await closed_with(ws)
        assert code == 1008 and [f["type"] for f in frames] == ["error"], (first, frames)
        assert frames[0]["code"] == (403 if first and first.get("token") == alice else 401)
        assert not any(f.get("event") == "chats" for f in frames)
    # an auth frame after the handshake already carried the token is ignored
    async with connect(f"{server.ws_url}/ws?chat_id={sid}", subprotocols=["bearer", alice]) as ws:
        await ws.send(json.dumps({"type": "auth", "token": alice}))
        await ws.send(json.dumps({"type": "ping"}))
        assert (await until(ws, lambda f: f.get("type") in ("pong", "error")))["type"] == "pong"


async def test_websocket_origin_is_checked(app_server, caplog):
    import logging

    server = await app_server(api={"cors_origins": "https://app.example.com, http://localhost:3000"})
    base = server.ws_url
    own = f"http://127.0.0.1:{server.port}"
    async with httpx.AsyncClient(base_url=server.url) as http:
        sid = (await http.post("/api/v1/sessions")).json()["session_id"]
    pong = lambda f: f.get("type") == "pong"  # noqa: E731
    for path in [f"/ws?chat_id={sid}", f"/ws/chat/{sid}", "/manager/ws"]:
        for origin in [None, own, "https://app.example.com", "http://localhost:3000"]:
            async with connect(base + path, origin=origin) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                await until(ws, pong)
        foreign = [
            "https://evil.example",
            "http://localhost:3001",
            "null",
            f"http://evil.example:{server.port}",
        ]
        for origin in foreign:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="api.edge.socket_admission"):
                async with connect(base + path, origin=origin) as ws:
                    code, frames = await closed_with(ws)
            assert code == 1008 and frames == [], (path, origin)
            assert any("Origin" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    chats = server.state.chat
    assert await chats.store.count(None) == 1  # refused sockets started no chat


def test_same_origin_needs_an_address_not_just_a_name():
    from api.edge.socket_admission import origin_allowed

    settings = ApiSettings(_env_file=None, public_url="https://lisa.example.com")
    assert origin_allowed(settings, None, "anything")
    assert origin_allowed(settings, "https://lisa.example.com", "lisa.example.com")
    assert origin_allowed(settings, "http://127.0.0.1:8000", "127.0.0.1:8000")
    assert origin_allowed(settings, "http://[::1]:8000", "[::1]:8000")
    assert origin_allowed(settings, "http://localhost:8000", "localhost:8000")
    assert not origin_allowed(settings, "http://localhost:8001", "localhost:8000")
    # DNS rebinding: a foreign name that resolves to this server is not its origin
    assert not origin_allowed(settings, "http://rebind.evil.example:8000", "rebind.evil.example:8000")
    assert not origin_allowed(settings, "https://evil.example", "127.0.0.1:8000")
    assert origin_allowed(ApiSettings(_env_file=None, cors_origins="*"), "https://evil.example", "x")
