"""TwiML we answer Twilio with: connect the call to our media WebSocket, or transfer it to a human."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from twilio.twiml.voice_response import Connect, VoiceResponse

if TYPE_CHECKING:
    from telephony.stream_tokens import StreamTokens

MEDIA_PATH = "/twilio/media"
STATUS_PATH = "/twilio/status"


def media_stream_url(public_url: str) -> str:
    """``https://host[:port]/prefix`` -> ``wss://host[:port]/prefix/twilio/media`` (``http`` -> ``ws``)."""
    parts = urlsplit(public_url if "://" in public_url else f"https://{public_url}")
    scheme = "ws" if parts.scheme in ("http", "ws") else "wss"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}{MEDIA_PATH}"


def connect_stream(stream_url: str, parameters: dict[str, str | None]) -> str:
    """``<Response><Connect><Stream url=…>`` with one ``<Parameter>`` per non-empty entry."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        if value:
            stream.parameter(name=name, value=str(value))
    response.append(connect)
    return str(response)


def play_digits_and_stream(digits: str, stream_url: str, parameters: dict[str, str | None]) -> str:
    """``<Response><Play digits=…/><Connect><Stream …>``: Twilio's documented way to press keys on a live
    call (``w`` = 0.5 s pause) — the new TwiML ends the call's stream, so a new one follows the keys."""
    response = VoiceResponse()
    response.play(digits=digits)
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        if value:
            stream.parameter(name=name, value=str(value))
    response.append(connect)
    return str(response)


async def connect_call(
    tokens: StreamTokens, stream_url: str, parameters: dict[str, str | None], *, call_sid: str | None = None
) -> str:
    """:func:`connect_stream` with a fresh stream token among the parameters, bound to the call's direction,
    request id and (when known) call sid: the only way a media stream gets served (see ``stream_tokens``)."""
    from telephony.stream_tokens import TOKEN_PARAMETER

    direction = "outbound" if parameters.get("direction") == "outbound" else "inbound"
    token = await tokens.issue(direction, request_id=parameters.get("request_id"), call_sid=call_sid)
    return connect_stream(stream_url, {**parameters, "direction": direction, TOKEN_PARAMETER: token})


def voice_parameters(form: Mapping[str, Any], query: Mapping[str, Any]) -> dict[str, str | None]:
    """The stream parameters for a call Twilio asks TwiML for (``/twilio/voice``): its signed form fields,
    and ``request_id``/``language`` from our own query (an outbound call's TwiML URL)."""
    twilio_direction = str(form.get("Direction") or "inbound")
    outbound = twilio_direction.startswith("outbound") or bool(query.get("request_id"))
    return {
        "direction": "outbound" if outbound else "inbound",
        "from": str(form.get("From") or ""),
        "to": str(form.get("To") or ""),
        "request_id": query.get("request_id"),
        "language": query.get("language"),
    }


def stream_of(twiml: str) -> tuple[str, dict[str, str]]:
    """The ``<Stream>`` URL and ``<Parameter>``s of ``<Connect><Stream>`` TwiML (what Twilio connects)."""
    root = ElementTree.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None or not stream.get("url"):
        raise ValueError("TwiML without <Connect><Stream url=…>")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return str(stream.get("url")), params


def dial(number: str, caller_id: str | None = None) -> str:
    """``<Response><Dial>number</Dial></Response>``: hand the live call to a human."""
    response = VoiceResponse()
    if caller_id:
        response.dial(number, caller_id=caller_id)
    else:
        response.dial(number)
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
