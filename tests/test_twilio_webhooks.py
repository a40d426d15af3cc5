"""Twilio webhooks through the real HTTP routes: signatures (403 when wrong), TwiML, status callbacks."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Any, cast

import httpx
import pytest
from call_support import record_call_statuses
from twilio.request_validator import RequestValidator

from agent.settings import AgentSettings
from api.state import Core, Overrides
from telephony.signature import is_valid, sign
from telephony.twiml import connect_stream, dial, media_stream_url

# Twilio's documented example (https://www.twilio.com/docs/usage/security#validating-requests).
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

TEST_TOKEN = "test-auth-token-not-a-secret"


def test_documented_example_signature() -> None:
    assert RequestValidator(DOC_TOKEN).compute_signature(DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert sign(DOC_TOKEN, DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert is_valid(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not is_valid(DOC_TOKEN, DOC_URL, {**DOC_PARAMS, "Digits": "1235"}, DOC_SIGNATURE)
    assert not is_valid(DOC_TOKEN, DOC_URL.replace("foo=1", "foo=2"), DOC_PARAMS, DOC_SIGNATURE)
    assert not is_valid("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not is_valid(DOC_TOKEN, DOC_URL, DOC_PARAMS, None)
    assert not is_valid("", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)


def test_twiml_builders() -> None:
    assert media_stream_url("https://lisa.example.com") == "wss://lisa.example.com/twilio/media"
    assert media_stream_url("https://x.ngrok.app/lisa/") == "wss://x.ngrok.app/lisa/twilio/media"
    assert media_stream_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/twilio/media"
    xml = connect_stream("wss://h/twilio/media", {"direction": "inbound", "from": 'a<&"', "request_id": None})
    stream = ET.fromstring(xml).find("./Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://h/twilio/media"
    assert {p.get("name"): p.get("value") for p in stream.findall("Parameter")} == {
        "direction": "inbound",
        "from": 'a<&"',
    }
    assert ET.fromstring(dial("+4930123456")).findtext("Dial") == "+4930123456"


def _stream(xml: str) -> tuple[str, dict[str, str]]:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    stream = root.find("./Connect/Stream")
    assert stream is not None, xml
    return stream.get("url") or "", {
        p.get("name") or "": p.get("value") or "" for p in stream.findall("Parameter")
    }


@pytest.fixture
def twilio_env(monkeypatch):
    """A known auth token for the server under test (and nothing from a developer's .env)."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURE", "true")
    monkeypatch.setenv("LISA_TELEPHONY", "loopback")
    return monkeypatch


INBOUND = {
    "CallSid": "CA0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+4915112345678",
    "To": "+493012345678",
    "Direction": "inbound",
    "CallStatus": "ringing",
}


async def test_voice_webhook_signed_unsigned_and_wrong(app_server, twilio_env) -> None:
    server = await app_server(api={"public_url": "https://lisa.example.com"})
    async with httpx.AsyncClient(base_url=server.url) as client:
        unsigned = await client.post("/twilio/voice", data=INBOUND)
        assert unsigned.status_code == 403
        assert "signature" in unsigned.json()["detail"]
        assert TEST_TOKEN not in unsigned.text

        wrong = await client.post(
            "/twilio/voice", data=INBOUND, headers={"X-Twilio-Signature": sign("other-token", "x", INBOUND)}
        )
        assert wrong.status_code == 403

        # signed for another URL (not the public one Twilio used)
        local = sign(TEST_TOKEN, f"{server.url}/twilio/voice", INBOUND)
        assert (
            await client.post("/twilio/voice", data=INBOUND, headers={"X-Twilio-Signature": local})
        ).status_code == 403

        # tampered body
        good = sign(TEST_TOKEN, "https://lisa.example.com/twilio/voice", INBOUND)
        tampered = {**INBOUND, "From": "+4915100000000"}
        resp = await client.post("/twilio/voice", data=tampered, headers={"X-Twilio-Signature": good})
        assert resp.status_code == 403

        # not a form body at all: unsigned -> 403, signed -> 422 naming what was expected
        assert (await client.post("/twilio/voice", json=INBOUND)).status_code == 403
        resp = await client.post("/twilio/voice", json=INBOUND, headers={"X-Twilio-Signature": good})
        assert resp.status_code == 422 and "x-www-form-urlencoded" in resp.json()["detail"]

        resp = await client.post("/twilio/voice", data=INBOUND, headers={"X-Twilio-Signature": good})
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/xml")
        url, params = _stream(resp.text)
        assert url == "wss://lisa.example.com/twilio/media"
        token = params.pop("stream_token")  # the stream of this call is served only with it
        assert params == {"direction": "inbound", "from": "+4915112345678", "to": "+493012345678"}
        assert len(token) >= 40 and token not in resp.headers.get("location", "")
        row = await server.state.db.fetchone("SELECT direction, call_sid, used_at FROM media_stream_tokens")
        assert row == {"direction": "inbound", "call_sid": INBOUND["CallSid"], "used_at": None}

        no_sid = {k: v for k, v in INBOUND.items() if k != "CallSid"}
        signed = sign(TEST_TOKEN, "https://lisa.example.com/twilio/voice", no_sid)
        resp = await client.post("/twilio/voice", data=no_sid, headers={"X-Twilio-Signature": signed})
        assert resp.status_code == 422 and "CallSid" in resp.json()["detail"]


async def test_voice_webhook_behind_a_tunnel(app_server, twilio_env) -> None:
    """No PUBLIC_URL: the URL Twilio signed is rebuilt from X-Forwarded-Proto and Host."""
    server = await app_server()
    signed_url = "https://abc123.ngrok.app/twilio/voice?request_id=req-7"
    headers = {
        "Host": "abc123.ngrok.app",
        "X-Forwarded-Proto": "https",
        "X-Twilio-Signature": sign(TEST_TOKEN, signed_url, {**INBOUND, "Direction": "outbound-api"}),
    }
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.post(
            "/twilio/voice?request_id=req-7", data={**INBOUND, "Direction": "outbound-api"}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        url, params = _stream(resp.text)
        assert url == "wss://abc123.ngrok.app/twilio/media"
        assert params["direction"] == "outbound" and params["request_id"] == "req-7"

        # a reverse proxy that forwards the public host separately
        form = {**INBOUND, "Direction": "outbound-api"}
        proxied = {
            "Host": "10.0.0.5:8000",
            "X-Forwarded-Host": "lisa.example.org",
            "X-Forwarded-Proto": "https",
            "X-Twilio-Signature": sign(
                TEST_TOKEN, "https://lisa.example.org/twilio/voice?request_id=req-7", form
            ),
        }
        resp = await client.post("/twilio/voice?request_id=req-7", data=form, headers=proxied)
        assert resp.status_code == 200, resp.text
        assert _stream(resp.text)[0] == "wss://lisa.example.org/twilio/media"

        # the same signature presented over plain http (no forwarded proto) does not match
        del headers["X-Forwarded-Proto"]
        resp = await client.post(
            "/twilio/voice?request_id=req-7", data={**INBOUND, "Direction": "outbound-api"}, headers=headers
        )
        assert resp.status_code == 403


async def test_status_callback_reaches_listeners(app_server, twilio_env) -> None:
    server = await app_server(api={"public_url": "https://lisa.example.com"})

    async def broken(call_sid, status, info):  # a failing listener must not stop the others
        raise RuntimeError("boom")

    server.state.telephony.statuses.add(broken)
    heard = record_call_statuses(server.state.telephony.statuses)
    form = {
        "CallSid": INBOUND["CallSid"],
        "CallStatus": "in-progress",
        "AnsweredBy": "machine_start",
        "To": "+493012345678",
    }
    url = "https://lisa.example.com/twilio/status?request_id=req-1"
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.post("/twilio/status?request_id=req-1", data=form)
        assert resp.status_code == 403 and heard == []

        resp = await client.post(
            "/twilio/status?request_id=req-1",
            data=form,
            headers={"X-Twilio-Signature": sign(TEST_TOKEN, url, form)},
        )
        assert resp.status_code == 200, resp.text
        assert len(heard) == 1
        sid, status, info = heard[0]
        assert sid == INBOUND["CallSid"] and status == "in-progress"
        assert info["AnsweredBy"] == "machine_start" and info["request_id"] == "req-1"

        # async machine detection result: no CallStatus, AnsweredBy only
        amd = {"CallSid": INBOUND["CallSid"], "AnsweredBy": "human", "MachineDetectionDuration": "1800"}
        resp = await client.post(
            "/twilio/status?request_id=req-1",
            data=amd,
            headers={"X-Twilio-Signature": sign(TEST_TOKEN, url, amd)},
        )
        assert resp.status_code == 200
        assert heard[-1][1] == "in-progress" and heard[-1][2]["AnsweredBy"] == "human"

        # a replayed callback (same CallSid and status, validly signed) is answered 200 and applied once
        for replayed in (form, amd, form):
            resp = await client.post(
                "/twilio/status?request_id=req-1",
                data=replayed,
                headers={"X-Twilio-Signature": sign(TEST_TOKEN, url, replayed)},
            )
            assert resp.status_code == 200
        assert len(heard) == 2
        done = {"CallSid": INBOUND["CallSid"], "CallStatus": "completed", "CallDuration": "12"}
        for _ in range(2):
            resp = await client.post(
                "/twilio/status?request_id=req-1",
                data=done,
                headers={"X-Twilio-Signature": sign(TEST_TOKEN, url, done)},
            )
            assert resp.status_code == 200
        assert [s for _, s, _ in heard] == ["in-progress", "in-progress", "completed"]

        bad = {"CallStatus": "completed"}
        resp = await client.post(
            "/twilio/status?request_id=req-1",
            data=bad,
            headers={"X-Twilio-Signature": sign(TEST_TOKEN, url, bad)},
        )
        assert resp.status_code == 422 and "CallSid" in resp.json()["detail"]


async def test_signature_check_off_only_explicitly_and_loudly(app_server, monkeypatch, caplog) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURE", "true")
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        # validation on but no token configured: refused, never waved through
        resp = await client.post("/twilio/voice", data=INBOUND, headers={"X-Twilio-Signature": "anything"})
        assert resp.status_code == 403
    await server.stop()

    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURE", "false")
    with caplog.at_level(logging.WARNING):
        server = await app_server()
    assert any("NOT signature-checked" in r.getMessage() for r in caplog.records)
    async with httpx.AsyncClient(base_url=server.url) as client:
        resp = await client.post("/twilio/voice", data=INBOUND)
        assert resp.status_code == 200
        url, params = _stream(resp.text)
        assert url == f"ws://127.0.0.1:{server.port}/twilio/media"
        assert params["direction"] == "inbound"
        # but never a stream that would brief Lisa from a request: that needs a checked signature
        resp = await client.post(
            "/twilio/voice?request_id=req-7", data={**INBOUND, "Direction": "outbound-api"}
        )
        assert resp.status_code == 403 and "signature" in resp.json()["detail"]


async def test_carrier_is_registered_at_startup(app_server, twilio_env) -> None:
    from telephony.carrier import Carrier

    server = await app_server()
    carrier = server.state.telephony.carrier
    assert isinstance(carrier, Carrier) and carrier.name == "loopback"
    assert carrier.media_url == f"ws://127.0.0.1:{server.port}/twilio/media"
    assert server.state.telephony.settings.twilio_validate_signature is True


def core_of(api: Any) -> Core:
    """What the telephony area starts from; it needs only the API settings before a call (no database)."""
    return Core(api, AgentSettings(_env_file=None), db=cast(Any, None), engine=cast(Any, None))


async def test_twilio_telephony_without_credentials_refuses_to_start(monkeypatch) -> None:
    """The start-up hook (uvicorn then exits with "Application startup failed") names what is missing."""
    from api.settings import ApiSettings
    from api.twilio.lifespan import telephony_lifespan
    from telephony.carrier import CarrierError

    monkeypatch.setenv("LISA_TELEPHONY", "twilio")
    monkeypatch.setenv("LISA_ALLOW_UNAUTHENTICATED_TWILIO", "true")
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(
        CarrierError, match="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, PUBLIC_URL"
    ):
        async with telephony_lifespan(core_of(ApiSettings(_env_file=None)), Overrides()):
            pass


@pytest.mark.parametrize(
    ("auth", "validate", "refused_for"),
    [
        (False, True, "AUTH_ENABLED=false"),
        (True, False, "TWILIO_VALIDATE_SIGNATURE=false"),
        (False, False, "AUTH_ENABLED=false and TWILIO_VALIDATE_SIGNATURE=false"),
    ],
)
async def test_real_telephony_refuses_to_start_with_an_open_door(
    monkeypatch, caplog, auth: bool, validate: bool, refused_for: str
) -> None:
    """LISA_TELEPHONY=twilio with auth or webhook signatures off: no start, unless explicitly (and loudly)."""
    from api.settings import ApiSettings
    from api.twilio.lifespan import UnsafeTelephonyError, telephony_lifespan

    for key, value in {
        "LISA_TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_VALIDATE_SIGNATURE": str(validate).lower(),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LISA_ALLOW_UNAUTHENTICATED_TWILIO", raising=False)
    api = ApiSettings(_env_file=None, public_url="https://lisa.example.com", auth_enabled=auth)
    started: list[Any] = []
    with pytest.raises(UnsafeTelephonyError, match=refused_for):
        async with telephony_lifespan(core_of(api), Overrides()) as telephony:
            started.append(telephony)
    assert not started  # no carrier was built

    monkeypatch.setenv("LISA_ALLOW_UNAUTHENTICATED_TWILIO", "true")
    with caplog.at_level(logging.WARNING):
        async with telephony_lifespan(core_of(api), Overrides()) as telephony:  # closes the carrier after
            assert telephony.carrier.name == "twilio"
    loud = [r for r in caplog.records if "LISA_ALLOW_UNAUTHENTICATED_TWILIO=true" in r.getMessage()]
    assert loud and loud[0].levelno == logging.WARNING and refused_for in loud[0].getMessage()


async def test_auth_on_and_signatures_on_start_real_telephony(monkeypatch) -> None:
    from api.settings import ApiSettings
    from api.twilio.lifespan import telephony_lifespan

    for key, value in {
        "LISA_TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_VALIDATE_SIGNATURE": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LISA_ALLOW_UNAUTHENTICATED_TWILIO", raising=False)
    api = ApiSettings(_env_file=None, public_url="https://lisa.example.com", auth_enabled=True)
    async with telephony_lifespan(core_of(api), Overrides()) as telephony:  # closes the carrier after
        assert telephony.carrier.name == "twilio"
