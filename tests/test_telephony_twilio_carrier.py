"""TwilioCarrier (the real twilio client) against the local Twilio REST protocol server."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from call_support import record_call_statuses
from fakes.twilio_rest_protocol_server import TwilioRestProtocolServer

from api.cli.inprocess_server import free_port
from api.storage import Database
from telephony.carrier import Carrier, CarrierError
from telephony.settings import TwilioSettings
from telephony.stream_tokens import StreamRefused, StreamTokens
from telephony.twilio_carrier import STATUS_EVENTS, TwilioCarrier

ACCOUNT = "AC" + "1" * 32
TOKEN = "rest-token-for-tests"
FROM = "+15005550006"
TO = "+493012345678"
PUBLIC = "https://lisa.example.com"


@pytest.fixture
def twilio():
    with TwilioRestProtocolServer(ACCOUNT, TOKEN) as server:
        yield server


_TOKENS: list[StreamTokens] = []


@pytest.fixture(autouse=True)
async def stream_tokens(sqlite_url):
    """The stream token store the carrier issues each call's token from (a real SQLite database)."""
    db = await Database.connect(sqlite_url)
    _TOKENS[:] = [StreamTokens(db)]
    yield _TOKENS[0]
    _TOKENS.clear()
    await db.close()


def make_carrier(base_url: str, **overrides) -> TwilioCarrier:
    values = {
        "lisa_telephony": "twilio",
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TOKEN,
        "twilio_from_number": FROM,
        "twilio_api_base_url": base_url,
        "twilio_max_attempts": 3,
    }
    values.update(overrides)
    return TwilioCarrier(TwilioSettings(_env_file=None, **values), PUBLIC, tokens=_TOKENS[0], backoff_s=0.01)


async def test_place_call_creates_call_with_stream_twiml(twilio, stream_tokens) -> None:
    carrier = make_carrier(twilio.base_url)
    assert isinstance(carrier, Carrier)
    sid = await carrier.place_call(TO, {"request_id": "req-42", "language": "de"})
    assert sid in twilio.calls
    req = twilio.requests[-1]
    assert req.method == "POST" and req.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert req.auth == (ACCOUNT, TOKEN)
    assert req.one("To") == TO and req.one("From") == FROM
    assert req.form["StatusCallbackEvent"] == STATUS_EVENTS
    assert req.one("MachineDetection") == "DetectMessageEnd" and req.one("AsyncAmd") == "true"
    callback = urlsplit(req.one("StatusCallback") or "")
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{PUBLIC}/twilio/status"
    query = parse_qs(callback.query)
    assert query["request_id"] == ["req-42"] and query["direction"] == ["outbound"]
    assert "to" not in query and "from" not in query  # no numbers on URLs
    assert req.one("AsyncAmdStatusCallback") == req.one("StatusCallback")
    stream = ET.fromstring(req.one("Twiml") or "").find("./Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://lisa.example.com/twilio/media"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    token = params.pop("stream_token")
    assert params == {
        "direction": "outbound",
        "request_id": "req-42",
        "language": "de",
        "to": TO,
        "from": FROM,
    }
    assert token not in (req.one("StatusCallback") or "")  # the token rides in the TwiML only
    # the token is bound to this request and, once Twilio named it, to this call
    with pytest.raises(StreamRefused, match="another call"):
        await stream_tokens.redeem(token, direction="outbound", request_id="req-42", call_sid="CAother")
    with pytest.raises(StreamRefused, match="another request"):
        await stream_tokens.redeem(token, direction="outbound", request_id="req-43", call_sid=sid)
    await stream_tokens.redeem(token, direction="outbound", request_id="req-42", call_sid=sid)
    await carrier.close()


async def test_machine_detection_can_be_off(twilio) -> None:
    carrier = make_carrier(twilio.base_url, twilio_machine_detection=False)
    await carrier.place_call(TO, {"request_id": "r"})
    assert twilio.requests[-1].one("MachineDetection") is None


async def test_transient_errors_are_retried(twilio) -> None:
    carrier = make_carrier(twilio.base_url)
    twilio.fail_next(503, count=2)
    sid = await carrier.place_call(TO, {"request_id": "r"})
    assert sid in twilio.calls and len(twilio.requests) == 3

    twilio.fail_next(429, count=3, code=20429, message="Too Many Requests")
    with pytest.raises(CarrierError) as err:
        await carrier.place_call(TO, {"request_id": "r"})
    assert err.value.status == 429 and err.value.code == 20429
    assert len(twilio.calls) == 1


async def test_client_errors_are_not_retried_and_readable(twilio, caplog) -> None:
    carrier = make_carrier(twilio.base_url)
    before = len(twilio.requests)
    with pytest.raises(CarrierError, match="21211") as err:
        await carrier.place_call("0049 30 1234567", {"request_id": "r"})
    assert err.value.status == 400 and len(twilio.requests) == before + 1
    assert "1234567" not in str(err.value)  # the number in Twilio's message is masked

    wrong = make_carrier(twilio.base_url, twilio_auth_token="wrong-token")
    with caplog.at_level(logging.DEBUG), pytest.raises(CarrierError) as err:
        await wrong.place_call(TO, {"request_id": "r"})
    assert err.value.status == 401 and err.value.code == 20003
    assert "wrong-token" not in str(err.value) and TOKEN not in str(err.value)
    assert all(TOKEN not in r.getMessage() and "wrong-token" not in r.getMessage() for r in caplog.records)


async def test_unreachable_api_is_retried_then_reported() -> None:
    carrier = make_carrier(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CarrierError, match="ConnectionError"):
        await carrier.place_call(TO, {"request_id": "r"})


async def test_hangup_ends_the_call_and_is_harmless_when_over(twilio) -> None:
    carrier = make_carrier(twilio.base_url)
    sid = await carrier.place_call(TO, {"request_id": "r"})
    twilio.set_status(sid, "in-progress")
    await carrier.hangup(sid)
    assert twilio.calls[sid].status == "completed"
    assert twilio.requests[-1].path.endswith(f"/Calls/{sid}.json")
    assert twilio.requests[-1].one("Status") == "completed"
    await carrier.hangup(sid)  # again: still fine
    ringing = await carrier.place_call(TO, {"request_id": "r"})
    twilio.set_status(ringing, "ringing")
    await carrier.hangup(ringing)  # not answered yet: canceled
    assert twilio.calls[ringing].status == "canceled"
    assert [r.one("Status") for r in twilio.requests[-2:]] == ["completed", "canceled"]
    await carrier.hangup("CA" + "0" * 32)  # unknown (404): logged and ignored
    twilio.fail_next(400, code=21220, message="Call is not in-progress.")
    await carrier.hangup(sid)  # 400: logged and ignored

    twilio.fail_next(500, count=1)
    sid2 = await carrier.place_call(TO, {"request_id": "r"})
    twilio.set_status(sid2, "in-progress")
    twilio.fail_next(503, count=1)
    await carrier.hangup(sid2)  # retried
    assert twilio.calls[sid2].status == "completed"

    twilio.fail_next(503, count=3)
    with pytest.raises(CarrierError):
        await carrier.hangup(sid2)


async def test_transfer_redirects_with_dial(twilio) -> None:
    carrier = make_carrier(twilio.base_url)
    sid = await carrier.place_call(TO, {"request_id": "r"})
    with pytest.raises(CarrierError, match="21220"):
        await carrier.transfer(sid, "+4930999999")  # not answered yet
    twilio.set_status(sid, "in-progress")
    await carrier.transfer(sid, "+4930999999")
    assert ET.fromstring(twilio.calls[sid].twiml or "").findtext("Dial") == "+4930999999"


async def test_send_digits_plays_them_and_opens_the_stream_again(twilio, stream_tokens) -> None:
    """Keys on a live call the way Twilio documents: <Play digits>, then the call's stream again with a fresh
    token and resume=1 (the update ends the old stream)."""
    carrier = make_carrier(twilio.base_url)
    sid = await carrier.place_call(TO, {"request_id": "req-7"})
    twilio.set_status(sid, "in-progress")
    await carrier.send_digits(sid, "w1")
    response = ET.fromstring(twilio.calls[sid].twiml or "")
    assert [child.tag for child in response] == ["Play", "Connect"]
    assert response.find("Play").get("digits") == "w1"
    stream = response.find("./Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://lisa.example.com/twilio/media"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert params["resume"] == "1" and params["request_id"] == "req-7" and params["direction"] == "outbound"
    await stream_tokens.redeem(params["stream_token"], direction="outbound", request_id="req-7", call_sid=sid)
    with pytest.raises(CarrierError, match="not placed here"):
        await carrier.send_digits("CA" + "0" * 32, "1")
    await carrier.close()


def test_missing_settings_are_named() -> None:
    with pytest.raises(CarrierError, match="TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"):
        TwilioCarrier(
            TwilioSettings(
                _env_file=None, twilio_account_sid=ACCOUNT, twilio_auth_token=None, twilio_from_number=None
            ),
            PUBLIC,
            tokens=_TOKENS[0],
        )
    with pytest.raises(CarrierError, match="PUBLIC_URL"):
        make_carrier("http://127.0.0.1:1").__class__(
            TwilioSettings(
                _env_file=None, twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_from_number=FROM
            ),
            "",
            tokens=_TOKENS[0],
        )


async def test_status_callbacks_through_the_app(app_server, twilio, monkeypatch) -> None:
    """The app on LISA_TELEPHONY=twilio: the carrier places a call; 'Twilio' posts signed status callbacks."""
    for key, value in {
        "LISA_TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TWILIO_VALIDATE_SIGNATURE": "true",
        "LISA_ALLOW_UNAUTHENTICATED_TWILIO": "true",  # the API's auth is not what this test is about
    }.items():
        monkeypatch.setenv(key, value)
    server = await app_server(api={"public_url": PUBLIC})
    carrier = server.state.telephony.carrier
    assert carrier.name == "twilio"
    heard = record_call_statuses(server.state.telephony.statuses)
    sid = await carrier.place_call(TO, {"request_id": "req-5"})
    codes = await twilio.answer(sid, answered_by="machine_start", rewrite_base=server.url)
    assert codes == [200, 200, 200, 200]
    assert [s for _, s, _ in heard] == ["queued", "ringing", "in-progress", "in-progress"]
    assert all(sid_ == sid and info["request_id"] == "req-5" for sid_, _, info in heard)
    assert heard[-1][2]["AnsweredBy"] == "machine_start"
    await carrier.hangup(sid)
    assert twilio.calls[sid].status == "completed"
