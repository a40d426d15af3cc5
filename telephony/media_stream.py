"""Twilio Media Streams: the wire protocol, both ways.

Server side (our ``WS /twilio/media``): :func:`parse_message` turns Twilio's ``connected`` / ``start`` /
``media`` / ``mark`` / ``dtmf`` / ``stop`` JSON into typed objects (raising :class:`ProtocolError` with a
readable reason on garbage), :class:`StreamTracker` also checks their order, and :class:`OutboundMessages`
builds the ``media`` / ``mark`` / ``clear`` messages we send back (cheap string building, no ``json.dumps``
per audio frame).

Twilio side: :class:`TwilioMessages` builds what Twilio sends and :func:`parse_outbound_message` reads what we
send; the simulated Twilio end of a call that uses them is :mod:`simulation.media_stream_client`.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass, field
from typing import Any

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160 bytes of μ-law per 20 ms frame
ULAW_SILENCE = b"\xff"
MEDIA_ENCODING = "audio/x-mulaw"


class ProtocolError(ValueError):
    """A message that is not valid Twilio Media Streams protocol (the reason is in the message)."""


# --------------------------------------------------------------------------- messages Twilio sends us


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str = "Call"
    version: str = "1.0.0"
    event = "connected"


@dataclass(frozen=True, slots=True)
class MediaFormat:
    encoding: str = MEDIA_ENCODING
    sample_rate: int = SAMPLE_RATE
    channels: int = 1


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str = ""
    tracks: tuple[str, ...] = ("inbound",)
    media_format: MediaFormat = MediaFormat()
    custom_parameters: dict[str, str] = field(default_factory=dict)
    sequence_number: int = 0
    event = "start"

    def check_format(self) -> None:
        """Raise :class:`ProtocolError` unless the stream is 8 kHz mono μ-law (all we speak)."""
        fmt = self.media_format
        if (fmt.encoding, fmt.sample_rate, fmt.channels) != (MEDIA_ENCODING, SAMPLE_RATE, 1):
            raise ProtocolError(
                f"unsupported media format {fmt.encoding} {fmt.sample_rate} Hz x{fmt.channels}; "
                f"expected {MEDIA_ENCODING} {SAMPLE_RATE} Hz mono"
            )


@dataclass(frozen=True, slots=True)
class Media:
    stream_sid: str
    payload: bytes  # μ-law 8 kHz
    track: str = "inbound"
    chunk: int = 0
    timestamp_ms: int = 0
    sequence_number: int = 0
    event = "media"


@dataclass(frozen=True, slots=True)
class Mark:
    stream_sid: str
    name: str
    sequence_number: int = 0
    event = "mark"


@dataclass(frozen=True, slots=True)
class Dtmf:
    stream_sid: str
    digit: str
    track: str = "inbound_track"
    sequence_number: int = 0
    event = "dtmf"


@dataclass(frozen=True, slots=True)
class Stop:
    stream_sid: str
    call_sid: str = ""
    account_sid: str = ""
    sequence_number: int = 0
    event = "stop"


InboundMessage = Connected | Start | Media | Mark | Dtmf | Stop

# --------------------------------------------------------------------------- messages we send Twilio


@dataclass(frozen=True, slots=True)
class OutMedia:
    stream_sid: str
    payload: bytes
    event = "media"


@dataclass(frozen=True, slots=True)
class OutMark:
    stream_sid: str
    name: str
    event = "mark"


@dataclass(frozen=True, slots=True)
class Clear:
    stream_sid: str
    event = "clear"


OutboundMessage = OutMedia | OutMark | Clear

_DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _load(raw: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    except RecursionError:  # e.g. 50k nested "[": a protocol error like any other, not a crash of the reader
        raise ProtocolError("not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object, got {type(data).__name__}")
    event = data.get("event")
    if not isinstance(event, str):
        raise ProtocolError("missing field 'event'")
    return data


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{data['event']}: missing object field '{key}'")
    return value


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ProtocolError(f"{where}: missing string field '{key}'")
    return value


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key, 0)
    if isinstance(value, bool):
        raise ProtocolError(f"{where}: field '{key}' is not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: field '{key}' is not a number: {value!r}") from None


def _b64decode(payload: Any, where: str) -> bytes:
    if not isinstance(payload, str):
        raise ProtocolError(f"{where}: missing string field 'payload'")
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"{where}: payload is not base64: {exc}") from None


def _b64(payload: bytes) -> str:
    return binascii.b2a_base64(payload, newline=False).decode("ascii")


def parse_message(raw: str | bytes) -> InboundMessage:
    """Parse one message Twilio sends to our media WebSocket; :class:`ProtocolError` on anything else."""
    data = _load(raw)
    event = data["event"]
    seq = _int(data, "sequenceNumber", event) if "sequenceNumber" in data else 0
    if event == "media":
        media = _section(data, "media")
        return Media(
            stream_sid=_text(data, "streamSid", "media"),
            payload=_b64decode(media.get("payload"), "media"),
            track=media.get("track") or "inbound",
            chunk=_int(media, "chunk", "media"),
            timestamp_ms=_int(media, "timestamp", "media"),
            sequence_number=seq,
        )
    if event == "mark":
        return Mark(
            stream_sid=_text(data, "streamSid", "mark"),
            name=_text(_section(data, "mark"), "name", "mark"),
            sequence_number=seq,
        )
    if event == "start":
        start = _section(data, "start")
        fmt = start.get("mediaFormat") or {}
        if not isinstance(fmt, dict):
            raise ProtocolError("start: field 'mediaFormat' is not an object")
        params = start.get("customParameters") or {}
        if not isinstance(params, dict):
            raise ProtocolError("start: field 'customParameters' is not an object")
        tracks = start.get("tracks") or ["inbound"]
        if not isinstance(tracks, list):
            raise ProtocolError("start: field 'tracks' is not a list")
        return Start(
            stream_sid=_text(start, "streamSid", "start", required=False)
            or _text(data, "streamSid", "start"),
            call_sid=_text(start, "callSid", "start"),
            account_sid=_text(start, "accountSid", "start", required=False),
            tracks=tuple(str(t) for t in tracks),
            media_format=MediaFormat(
                encoding=str(fmt.get("encoding", MEDIA_ENCODING)),
                sample_rate=_int(fmt, "sampleRate", "start.mediaFormat")
                if "sampleRate" in fmt
                else SAMPLE_RATE,
                channels=_int(fmt, "channels", "start.mediaFormat") if "channels" in fmt else 1,
            ),
            custom_parameters={str(k): "" if v is None else str(v) for k, v in params.items()},
            sequence_number=seq,
        )
    if event == "dtmf":
        dtmf = _section(data, "dtmf")
        digit = _text(dtmf, "digit", "dtmf")
        if digit not in _DTMF_DIGITS:
            raise ProtocolError(f"dtmf: not a DTMF digit: {digit!r}")
        return Dtmf(
            stream_sid=_text(data, "streamSid", "dtmf"),
            digit=digit,
            track=dtmf.get("track") or "inbound_track",
            sequence_number=seq,
        )
    if event == "connected":
        return Connected(protocol=str(data.get("protocol", "Call")), version=str(data.get("version", "")))
    if event == "stop":
        stop_field = data.get("stop")
        stop: dict[str, Any] = stop_field if isinstance(stop_field, dict) else {}
        return Stop(
            stream_sid=_text(data, "streamSid", "stop"),
            call_sid=_text(stop, "callSid", "stop", required=False),
            account_sid=_text(stop, "accountSid", "stop", required=False),
            sequence_number=seq,
        )
    raise ProtocolError(f"unknown event {event!r}")


def parse_outbound_message(raw: str | bytes) -> OutboundMessage:
    """Parse one message our server sends to Twilio (``media`` / ``mark`` / ``clear``): the Twilio side."""
    data = _load(raw)
    event = data["event"]
    stream_sid = _text(data, "streamSid", event)
    if event == "media":
        return OutMedia(stream_sid, _b64decode(_section(data, "media").get("payload"), "media"))
    if event == "mark":
        return OutMark(stream_sid, _text(_section(data, "mark"), "name", "mark"))
    if event == "clear":
        return Clear(stream_sid)
    raise ProtocolError(f"unknown event {event!r} (Twilio accepts media, mark and clear)")


class StreamTracker:
    """Parses a stream's messages in order: ``connected``? → ``start`` → media/mark/dtmf… → ``stop``.

    Anything out of order (media before start, a second start, a message after stop, another stream's
    sid) raises :class:`ProtocolError`, so the caller can close that one call cleanly with the reason.
    """

    def __init__(self) -> None:
        self.start: Start | None = None
        self.stopped = False

    @property
    def stream_sid(self) -> str | None:
        return self.start.stream_sid if self.start else None

    def feed(self, raw: str | bytes) -> InboundMessage:
        message = parse_message(raw)
        if self.stopped:
            raise ProtocolError(f"{message.event} after stop")
        if isinstance(message, Connected):
            if self.start is not None:
                raise ProtocolError("connected after start")
            return message
        if isinstance(message, Start):
            if self.start is not None:
                raise ProtocolError("second start on one stream")
            self.start = message
            return message
        if self.start is None:
            raise ProtocolError(f"{message.event} before start")
        if message.stream_sid != self.start.stream_sid:
            raise ProtocolError(f"{message.event} for another stream ({message.stream_sid})")
        if isinstance(message, Stop):
            self.stopped = True
        return message


class OutboundMessages:
    """Builds what we send Twilio on one stream; the JSON prefix is made once per stream."""

    def __init__(self, stream_sid: str) -> None:
        self.stream_sid = stream_sid
        sid = json.dumps(stream_sid)
        self._media_prefix = '{"event":"media","streamSid":' + sid + ',"media":{"payload":"'
        self._clear = '{"event":"clear","streamSid":' + sid + "}"
        self._mark_prefix = '{"event":"mark","streamSid":' + sid + ',"mark":{"name":'

    def media(self, ulaw: bytes) -> str:
        return self._media_prefix + _b64(ulaw) + '"}}'

    def mark(self, name: str) -> str:
        return self._mark_prefix + json.dumps(name) + "}}"

    def clear(self) -> str:
        return self._clear


def build_media(stream_sid: str, ulaw: bytes) -> str:
    return OutboundMessages(stream_sid).media(ulaw)


def build_mark(stream_sid: str, name: str) -> str:
    return OutboundMessages(stream_sid).mark(name)


def build_clear(stream_sid: str) -> str:
    return OutboundMessages(stream_sid).clear()


# --------------------------------------------------------------------------- what Twilio sends (builders)


class TwilioMessages:
    """Builds the messages Twilio sends on one stream, with its running sequence/chunk numbers."""

    def __init__(self, stream_sid: str, call_sid: str, account_sid: str) -> None:
        self.stream_sid, self.call_sid, self.account_sid = stream_sid, call_sid, account_sid
        self._seq = 0
        self._chunk = 0
        self._sid = json.dumps(stream_sid)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def connected(self) -> str:
        return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})

    def start(self, custom_parameters: dict[str, str], tracks: tuple[str, ...] = ("inbound",)) -> str:
        return json.dumps(
            {
                "event": "start",
                "sequenceNumber": str(self._next()),
                "start": {
                    "accountSid": self.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": list(tracks),
                    "customParameters": dict(custom_parameters),
                    "mediaFormat": {"encoding": MEDIA_ENCODING, "sampleRate": SAMPLE_RATE, "channels": 1},
                },
                "streamSid": self.stream_sid,
            }
        )

    def media(self, ulaw: bytes, timestamp_ms: int) -> str:
        self._chunk += 1
        return (
            '{"event":"media","sequenceNumber":"' + str(self._next()) + '","media":{"track":"inbound",'
            '"chunk":"'
            + str(self._chunk)
            + '","timestamp":"'
            + str(timestamp_ms)
            + '","payload":"'
            + _b64(ulaw)
            + '"},"streamSid":'
            + self._sid
            + "}"
        )

    def mark(self, name: str) -> str:
        return json.dumps(
            {
                "event": "mark",
                "sequenceNumber": str(self._next()),
                "streamSid": self.stream_sid,
                "mark": {"name": name},
            }
        )

    def dtmf(self, digit: str) -> str:
        if digit not in _DTMF_DIGITS:
            raise ValueError(f"not a DTMF digit: {digit!r}")
        return json.dumps(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": str(self._next()),
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    def stop(self) -> str:
        return json.dumps(
            {
                "event": "stop",
                "sequenceNumber": str(self._next()),
                "streamSid": self.stream_sid,
                "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
            }
        )
