"""TwiML we answer Twilio with: connect the call to our media WebSocket, or transfer it to a human."""

from __future__ import annotations

from urllib.parse import urlsplit

from twilio.twiml.voice_response import Connect, VoiceResponse

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
