"""A whole phone call on the Twilio path, with the local Twilio REST protocol server playing Twilio.

Inbound: "Twilio" rings the signed ``/twilio/voice`` webhook, opens the media stream named by the TwiML
it got back and a caller talks with Lisa over the real pipeline. Outbound: the app's ``TwilioCarrier``
creates the call over REST; "Twilio" answers (signed status callbacks), streams the TwiML's media URL with
its parameters, and Lisa's REST hang-up ends the stream.
"""

from __future__ import annotations

import asyncio

import pytest
from call_support import record_call_statuses
from doubles.party_voice import party_speech
from fakes.twilio_rest_protocol_server import TwilioRestProtocolServer

from simulation.media_stream_client import MediaStreamClient

pytestmark = pytest.mark.voice

ACCOUNT = "AC" + "2" * 32
TOKEN = "flow-token-for-tests"
PUBLIC = "https://lisa.example.com"
OUR_NUMBER = "+4930555000"


@pytest.fixture
def twilio(monkeypatch):
    with TwilioRestProtocolServer(ACCOUNT, TOKEN) as server:
        for key, value in {
            "LISA_TELEPHONY": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": OUR_NUMBER,
            "TWILIO_API_BASE_URL": server.base_url,
            "TWILIO_VALIDATE_SIGNATURE": "true",
            "TWILIO_MACHINE_DETECTION": "true",
            "LISA_ALLOW_UNAUTHENTICATED_TWILIO": "true",  # the API's bearer auth is not under test here
        }.items():
            monkeypatch.setenv(key, value)
        yield server


async def test_inbound_call_through_the_voice_webhook(app_server, twilio) -> None:
    server = await app_server(api={"public_url": PUBLIC})
    question = await asyncio.to_thread(party_speech, "What are your opening hours?")
    replies: list = []

    async def caller(call: MediaStreamClient) -> None:
        replies.append(await call.wait_lisa_done(timeout=20))  # Lisa greets first
        await call.send_audio(question)
        replies.append(await call.wait_lisa_done(timeout=30))

    twiml, call = await twilio.inbound_call(
        caller, app_url=server.url, public_url=PUBLIC, from_number="+4915112345678", to_number=OUR_NUMBER
    )
    assert 'url="wss://lisa.example.com/twilio/media"' in twiml
    assert call.custom_parameters["direction"] == "inbound"
    assert call.custom_parameters["from"] == "+4915112345678"
    assert len(replies) == 2 and all(r and r[0].duration_ms > 300 for r in replies)
    assert call.marks and not call.protocol_errors


async def test_outbound_call_placed_and_ended_over_rest(app_server, twilio) -> None:
    server = await app_server(api={"public_url": PUBLIC})
    carrier = server.state.telephony.carrier
    assert carrier.name == "twilio"
    statuses = record_call_statuses(server.state.telephony.statuses)
    bye = await asyncio.to_thread(party_speech, "That's all, thank you. Goodbye!")
    ended_by_lisa: list[bool] = []

    async def callee(call: MediaStreamClient) -> None:
        await call.wait_lisa_done(timeout=20)  # unknown request -> Lisa treats it like an inbound call
        await call.send_audio(bye)
        await call.wait_lisa_done(timeout=30)
        await call.wait_closed(timeout=15)
        ended_by_lisa.append(call.closed_by_server)

    # direction "inbound" in the parameters: no request to brief Lisa, so she greets first
    sid = await carrier.place_call("+493012345678", {"direction": "inbound", "request_id": "req-flow"})
    assert twilio.calls[sid].async_amd == "true"
    call = await twilio.connect_media(sid, callee, ws_base=server.ws_url, http_base=server.url)

    assert ended_by_lisa == [True]  # Lisa said goodbye and hung up over REST; Twilio stopped the stream
    hangups = [r for r in twilio.requests if r.path.endswith(f"/Calls/{sid}.json") and r.one("Status")]
    assert hangups and hangups[0].one("Status") == "completed"
    assert twilio.calls[sid].status == "completed"
    assert call.custom_parameters["request_id"] == "req-flow"
    seen = [s for c, s, _ in statuses if c == sid]
    assert seen[:3] == ["queued", "ringing", "in-progress"] and seen[-1] == "completed"
    assert any(info.get("AnsweredBy") == "human" for _, _, info in statuses)
    assert all(info.get("request_id") == "req-flow" for _, _, info in statuses)
