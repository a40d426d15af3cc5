"""The HTTP edge on the real app over real sockets: content type, deep JSON, invalid Unicode and NUL, one error
contract, security headers and the docs setting, and broadcasts that isolate a failure per socket."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from conftest import ManualClock
from doubles.tokens import SECRET, token
from requests_support import SAMPLE
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from api.edge.json_input import BadJson, loads, nesting_depth

DEEP = "[" * 100_000
MONDAY = "2026-11-23T09:15:00+01:00"


async def frame(ws, match, within_s: float = 10) -> dict:
    async with asyncio.timeout(within_s):
        while True:
            got = json.loads(await ws.recv())
            if match(got):
                return got


def is_error(f: dict) -> bool:
    return f.get("type") == "error"


# --- parsing untrusted JSON ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "field", "kind"),
    [
        (DEEP.encode(), "body", "json_too_deep"),
        (b'{"a": ' * 70 + b"1" + b"}" * 70, "body", "json_too_deep"),
        (b'{"message": "hi \\ud800"}', "message", "string_invalid"),
        (b'{"message": "Hallo \\uDFFF!"}', "message", "string_invalid"),
        (b'{"meta": {"tags": ["ok", "a\\u0000b"]}}', "meta.tags[1]", "string_invalid"),
        (b'{"message": "caf\xc3"}', "body", "utf8_invalid"),
        (b'{"message": "\xed\xa0\x80"}', "body", "utf8_invalid"),  # a surrogate as raw (CESU-8) bytes
        (b'{"message": ', "body", "json_invalid"),
    ],
)
def test_untrusted_json_is_refused_naming_the_field(raw, field, kind):
    with pytest.raises(BadJson) as caught:
        loads(raw)
    assert (caught.value.field, caught.value.kind) == (field, kind)


def test_good_json_passes_untouched():
    text = '{"message": "Grüße 😀 \\ud83d\\ude00 [not] {nested}", "n": [[1], {"a": "\\\\ud800"}]}'
    value = loads(text.encode())
    assert value["message"] == "Grüße 😀 😀 [not] {nested}" and value["n"][1]["a"] == "\\ud800"
    assert nesting_depth(b'["[[[[", {"a": [1]}]') == 3


# --- content type, deep JSON, invalid text over HTTP -------------------------------------------------------
async def test_process_request_needs_json_content_type_and_places_no_call(app_server):
    server = await app_server(clock=ManualClock(MONDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"):
            r = await http.post(
                "/api/process-request",
                content=json.dumps(SAMPLE),
                headers={"content-type": content_type, "origin": "https://evil.example"},
            )
            assert r.status_code == 415, r.text
            assert r.json() == {
                "status": "error",
                "request_id": None,
                "error": "Content-Type must be application/json",
            }
        r = await http.post("/api/v1/sessions/x/chat", content="hi", headers={"content-type": "text/plain"})
        assert r.status_code == 415 and r.json() == {"detail": "Content-Type must be application/json"}
        assert (await http.get(f"/api/requests/{SAMPLE['request_id']}")).status_code == 404
        r = await http.post("/api/process-request", content=json.dumps(SAMPLE).encode(), headers={})
        assert r.status_code == 415  # a body without any type is not taken for JSON either
    assert not server.state.telephony.carrier.placed
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        r = await http.post(
            "/api/process-request", content=json.dumps(SAMPLE), headers={"content-type": "application/json"}
        )
        assert r.status_code == 200 and r.json()["status"] == "accepted"


async def test_deep_json_is_422_on_every_json_route(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sid = (await http.post("/api/v1/sessions")).json()["session_id"]
        headers = {"content-type": "application/json"}
        r = await http.post("/api/process-request", content=DEEP, headers=headers)
        assert r.status_code == 422
        body = r.json()
        assert body["status"] == "error" and body["request_id"] is None and "nested" in body["error"]
        for path in (
            "/api/v1/sessions",
            f"/api/v1/sessions/{sid}/chat",
            "/manager/send",
            "/manager/takeover",
            f"/api/requests/{SAMPLE['request_id']}/cancel",
        ):
            r = await http.post(path, content=DEEP, headers=headers)
            assert r.status_code == 422, (path, r.text)
            assert r.json()["detail"][0]["type"] == "json_too_deep", path
        assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('"hi \\ud800"', "surrogate"),
        ('"Hallo \\udc00 Welt"', "surrogate"),
        ('"Termin\\u0000morgen"', "NUL"),
    ],
)
async def test_invalid_text_in_a_chat_message_is_422_naming_the_field(app_server, db_url, text, why):
    server = await app_server(database_url=db_url)  # PostgreSQL refuses NUL in text: it never gets there
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        sid = (await http.post("/api/v1/sessions")).json()["session_id"]
        raw = '{"message": ' + text + "}"
        r = await http.post(
            f"/api/v1/sessions/{sid}/chat", content=raw, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, r.text
        [problem] = r.json()["detail"]
        assert problem["loc"] == ["body", "message"] and why in problem["msg"]
        r = await http.post(
            "/api/process-request",
            content=json.dumps(SAMPLE)[:-1] + ', "title": ' + text + "}",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422 and r.json()["error"].startswith("title:")
        # the chat goes on
        r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": "When are you open?"})
        assert r.status_code == 200 and r.json()["reply"]


async def test_nul_in_path_or_query_is_422(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        r = await http.get("/api/v1/sessions/abc%00def")
        assert r.status_code == 422 and "path" in r.json()["detail"][0]["msg"]
        r = await http.get("/history", params={"chat_id": "a\x00b"})
        assert r.status_code == 422 and "chat_id" in r.json()["detail"][0]["msg"]


# --- WebSockets: bad frames answered, nobody else's socket dropped -----------------------------------------
async def test_bad_ws_frames_are_answered_and_no_socket_is_dropped(app_server, db_url):
    server = await app_server(database_url=db_url)
    async with (
        connect(f"{server.ws_url}/manager/ws") as manager_a,
        connect(f"{server.ws_url}/manager/ws") as manager_b,
        connect(f"{server.ws_url}/ws") as user,
        connect(f"{server.ws_url}/ws") as bystander,
    ):
        for manager in (manager_a, manager_b):
            await frame(manager, lambda f: f.get("event") == "chats")
        greeting = await frame(user, lambda f: f.get("sender") == "lisa")
        chat_id = greeting["chatId"]
        await frame(bystander, lambda f: f.get("sender") == "lisa")

        bad = [
            ("[" * 60_000, "nested deeper"),  # deep, yet under the frame size limit
            ('{"type": "message", "content": "hi \\ud800"}', "content"),
            ('{"type": "message", "content": "x\\u0000y"}', "content"),
            ('{"type": "message", "content": "ok", "extra": ["\\udfff"]}', "extra[0]"),
        ]
        for raw, named in bad:
            await user.send(raw)
            error = await frame(user, is_error)
            assert error["code"] == 422 and named in error["detail"], error
        await user.send(DEEP)  # too long for a frame
        assert "longer than" in (await frame(user, is_error))["detail"]
        for raw, _ in bad[:2]:  # a manager's bad frames too
            await manager_a.send(raw)
            assert (await frame(manager_a, is_error))["code"] == 422

        # every socket is still open and working
        await user.send(json.dumps({"type": "message", "content": "Where are you located?"}))
        answer = await frame(user, lambda f: f.get("sender") == "lisa")
        assert "Parkstraße" in answer["content"]
        for manager in (manager_a, manager_b):
            seen = await frame(manager, lambda f: f.get("event") == "message" and f["chat_id"] == chat_id)
            assert seen["message"]["content"]
        await bystander.send(json.dumps({"type": "ping"}))
        assert (await frame(bystander, lambda f: f.get("type") == "pong"))["type"] == "pong"

        # an event that cannot be encoded as UTF-8 (if one ever got past the edge) reaches every manager
        # escaped; no socket is dropped
        server.state.chat.hub.to_managers({"event": "note", "text": "bad \ud800 text"})
        for manager in (manager_a, manager_b):
            note = await frame(manager, lambda f: f.get("event") == "note")
            assert note["text"] == "bad \ud800 text"
        await manager_b.send(json.dumps({"type": "takeover", "chat_id": chat_id}))
        for watcher in (manager_a, manager_b):
            await frame(watcher, lambda f: f.get("event") == "takeover")
        assert (await frame(user, lambda f: f.get("sender") == "system"))["metadata"]["takeover"] is True


# --- one error contract --------------------------------------------------------------------------------------
async def test_unexpected_error_is_500_json_with_an_error_id_in_the_log(app_server, caplog):
    server = await app_server()
    chat = server.state.chat

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    chat.list_sessions = broken
    with caplog.at_level(logging.ERROR, logger="api.edge.errors"):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            r = await http.get("/api/v1/sessions?token=abc")
    assert r.status_code == 500
    body = r.json()
    assert set(body) == {"detail", "error_id"} and body["detail"] == "internal error"
    assert "secret internals" not in r.text and "Traceback" not in r.text
    [record] = [rec for rec in caplog.records if body["error_id"] in rec.getMessage()]
    assert record.exc_info is not None and "token=abc" not in record.getMessage()


async def test_process_request_failure_answers_seed_002_and_marks_the_stored_request_failed(app_server):
    server = await app_server(clock=ManualClock(MONDAY))
    processor = server.state.requests.processor

    def broken() -> None:
        raise RuntimeError("the scheduler is gone")

    processor._changed = broken  # fails after the request was stored
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        r = await http.post("/api/process-request", json=SAMPLE)
        assert r.status_code == 500
        body = r.json()
        assert body["status"] == "error" and body["request_id"] == SAMPLE["request_id"]
        assert body["error_id"] in body["error"] and "scheduler" not in r.text
        data = (await http.get(f"/api/requests/{SAMPLE['request_id']}")).json()
    assert data["status"] == "failed"
    assert [e["type"] for e in data["events"]][-1] == "error"
    assert not server.state.telephony.carrier.placed


async def test_every_error_body_is_json(app_server):
    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answers = [
            await http.get("/no/such/route"),
            await http.delete("/api/v1/health"),
            await http.get("/api/v1/sessions"),
            await http.post("/api/process-request", json=SAMPLE),
            await http.get("/api/v1/sessions", headers={"authorization": "Bearer nope"}),
        ]
        assert [r.status_code for r in answers] == [404, 405, 401, 401, 401]
        for r in answers:
            assert r.headers["content-type"].startswith("application/json"), r.request.url
            assert r.json()
        assert answers[3].json() == {"status": "error", "request_id": None, "error": "missing bearer token"}


# --- security headers and the docs -------------------------------------------------------------------------
async def test_html_pages_carry_security_headers(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        page = await http.get("/manager")
        docs = await http.get("/docs")
        api = await http.get("/api/v1/health")
    assert page.status_code == 200 and docs.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'sha256-" in csp
    assert "unsafe-inline" not in csp and "cdn.jsdelivr.net" not in csp
    assert f"connect-src 'self' ws://127.0.0.1:{server.port} wss://127.0.0.1:{server.port}" in csp
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        odd = await http.get("/manager", headers={"host": "x; script-src *"})
    assert "script-src *" not in odd.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert int(page.headers["content-length"]) == len(page.content)
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert api.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in api.headers


@pytest.mark.parametrize(
    ("auth", "mode", "anonymous", "signed_in"),
    [
        (False, "auto", 200, 200),
        (True, "auto", 404, 404),
        (True, "auth", 401, 200),
        (True, "public", 200, 200),
        (False, "off", 404, 404),
    ],
)
async def test_docs_follow_the_auth_setting(app_server, auth, mode, anonymous, signed_in):
    server = await app_server(api={"auth_enabled": auth, "supabase_jwt_secret": SECRET, "api_docs": mode})
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await http.get(path)).status_code == anonymous, path
            signed = await http.get(path, headers={"authorization": f"Bearer {token()}"})
            assert signed.status_code == signed_in, path
        if signed_in == 200:
            assert (
                "/api/process-request"
                in (await http.get("/openapi.json", headers={"authorization": f"Bearer {token()}"})).json()[
                    "paths"
                ]
            )


async def test_an_unexpected_error_at_a_websocket_handshake_is_500_json_with_an_error_id(app_server, caplog):
    server = await app_server()

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    server.state.chat.open_chat = broken
    with caplog.at_level(logging.ERROR, logger="api.edge.errors"), pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/ws"):
            pass
    response = refused.value.response
    assert response.status_code == 500
    body = json.loads(response.body)
    assert body["detail"] == "internal error" and "secret" not in response.body.decode()
    assert any(body["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)


async def test_the_schema_documents_what_the_edge_answers(app_server):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    for path in ("/api/process-request", "/api/v1/sessions/{session_id}/chat", "/manager/send"):
        assert {"408", "413", "415", "422"} <= set(paths[path]["post"]["responses"]), path
    assert "415" not in paths["/twilio/status"]["post"]["responses"]


async def test_a_failed_turn_on_a_websocket_is_an_error_frame_with_an_id_and_the_socket_stays(
    app_server, caplog
):
    server = await app_server()
    chat = server.state.chat
    real_send, real_manager_send = chat.send, chat.manager_send

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    async with connect(f"{server.ws_url}/manager/ws") as manager, connect(f"{server.ws_url}/ws") as user:
        chat_id = (await frame(user, lambda f: f.get("sender") == "lisa"))["chatId"]
        await frame(manager, lambda f: f.get("event") == "chats")
        chat.send, chat.manager_send = broken, broken
        with caplog.at_level(logging.ERROR, logger="api.chat.socket_routes"):
            await user.send(json.dumps({"type": "message", "content": "Hello"}))
            failed = await frame(user, is_error)
            await manager.send(json.dumps({"type": "message", "chat_id": chat_id, "content": "Hi"}))
            failed_too = await frame(manager, is_error)
        for error in (failed, failed_too):
            assert error["code"] == 500 and error["detail"] == "internal error" and "secret" not in str(error)
            assert any(error["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)
        chat.send, chat.manager_send = real_send, real_manager_send
        await user.send(json.dumps({"type": "message", "content": "Where are you located?"}))
        assert "Parkstraße" in (await frame(user, lambda f: f.get("sender") == "lisa"))["content"]
        await frame(manager, lambda f: f.get("event") == "message")
