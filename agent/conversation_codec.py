"""Conversations as plain JSON data, so a chat survives a restart of the server.

``conversation_to_dict`` keeps everything a conversation needs to go on: mode, language, request, history,
slots, outcome, events, what the channel still has to do, and the brain's own state. Values that JSON has
no type for (datetimes, dates, times, durations, sets, tuples, enums and dataclasses of ``agent``) are
tagged so that ``conversation_from_dict`` gives them back as they were; anything else is kept as its text
(with a warning) rather than losing the turn.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

import orjson

from agent.conversation import (
    BookingRequest,
    Conversation,
    ConversationEvent,
    Language,
    Message,
    Mode,
    Outcome,
    Status,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_TAG = "__t"


def encode(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with tagged non-JSON types."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        kind = type(value)
        return {_TAG: "enum", "cls": f"{kind.__module__}:{kind.__qualname__}", "v": encode(value.value)}
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "v": value.total_seconds()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {_TAG: "set", "v": [encode(v) for v in sorted(value, key=repr)]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {_TAG: "dataclass", "cls": f"{cls.__module__}:{cls.__qualname__}", "v": fields}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if callable(getattr(value, "model_dump", None)):  # pydantic models: their data
        return encode(value.model_dump())
    # anything else would lose the whole turn: keep its text and say so
    log.warning("storing a %s in a conversation as text", type(value).__name__)
    return {_TAG: "text", "type": type(value).__name__, "v": repr(value)}


def _class(path: str) -> type:
    module, _, qualname = path.partition(":")
    if module.split(".")[0] != "agent":  # only our own data classes, never arbitrary code
        raise ValueError(f"refusing to load class {path!r}")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{path!r} is not a class")
    return obj


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {k: decode(v) for k, v in value.items()}
    v: Any = value.get("v")
    if tag == "datetime":
        return datetime.fromisoformat(v)
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "time":
        return time.fromisoformat(v)
    if tag == "timedelta":
        return timedelta(seconds=v)
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "set":
        return {decode(x) for x in v}
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "enum":
        return _class(value["cls"])(decode(v))
    if tag == "text":
        return v
    if tag == "dataclass":
        return _class(value["cls"])(**{k: decode(x) for k, x in v.items()})
    raise ValueError(f"unknown tag {tag!r} in a stored conversation")


def _message(m: Message) -> dict[str, Any]:
    # the time stays a datetime: dumps writes it as its ISO-8601 text, in C (isoformat of a zoned time was
    # most of a long chat's per-turn write)
    return {"role": m.role, "text": m.text, "at": m.at, "meta": encode(m.meta) if m.meta else {}}


def event_list(conv: Conversation) -> list[dict[str, str]]:
    """The conversation's events as JSON values (``type``, ``message``, ``at``), oldest first."""
    return [{"type": e.type, "message": e.message, "at": e.at.isoformat()} for e in conv.events]


def stored_events(text: str) -> list[dict[str, str]]:
    """:func:`event_list` of a conversation stored by :func:`dumps`, read without rebuilding the rest of it."""
    events: list[dict[str, str]] = orjson.loads(text).get("events", [])
    return events


def conversation_to_dict(conv: Conversation) -> dict[str, Any]:
    """Everything needed to continue ``conv`` later, as JSON-ready data (the messages' times as datetimes,
    which :func:`dumps` writes as ISO-8601 text)."""
    return {
        "format": FORMAT_VERSION,
        "id": conv.id,
        "mode": str(conv.mode),
        "language": str(conv.language),
        "request": encode(conv.request.as_dict()) if conv.request else None,
        "history": [_message(m) for m in conv.history],
        "slots": encode(conv.slots),
        "outcome": {
            "status": str(conv.outcome.status),
            "appointment": conv.outcome.appointment.isoformat() if conv.outcome.appointment else None,
            "summary": conv.outcome.summary,
        },
        "events": event_list(conv),
        "end_requested": conv.end_requested,
        "transfer_to": conv.transfer_to,
        "state": encode(conv.state),
    }


def conversation_from_dict(data: dict[str, Any]) -> Conversation:
    """Rebuild a conversation stored with :func:`conversation_to_dict`."""
    outcome = data.get("outcome") or {}
    appointment = outcome.get("appointment")
    request = data.get("request")
    return Conversation(
        mode=Mode(data["mode"]),
        language=Language(data["language"]),
        id=data["id"],
        request=BookingRequest(**decode(request)) if request else None,
        history=[
            Message(m["role"], m["text"], datetime.fromisoformat(m["at"]), decode(m.get("meta") or {}))
            for m in data.get("history", [])
        ],
        slots=decode(data.get("slots") or {}),
        outcome=Outcome(
            status=Status(outcome.get("status", Status.OPEN)),
            appointment=datetime.fromisoformat(appointment) if appointment else None,
            summary=outcome.get("summary", ""),
        ),
        events=[
            ConversationEvent(e["type"], e["message"], datetime.fromisoformat(e["at"]))
            for e in data.get("events", [])
        ],
        end_requested=bool(data.get("end_requested")),
        transfer_to=data.get("transfer_to"),
        state=decode(data.get("state") or {}),
    )


def dumps(conv: Conversation) -> str:
    """The conversation as compact JSON text (a chat's grows with every turn: orjson writes it ~8x faster)."""
    data = conversation_to_dict(conv)
    try:
        return orjson.dumps(data).decode()
    except (orjson.JSONEncodeError, TypeError):  # a value only the standard library takes (an int > 64 bits)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def loads(text: str) -> Conversation:
    return conversation_from_dict(orjson.loads(text))
