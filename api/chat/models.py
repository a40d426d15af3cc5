"""Request and response bodies of the chat API (seeds 000/001 session API, seed 003/004 chat and manager)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import to_json

from api.chat.service import session_summary
from api.chat.store import ChatMessage, SessionRecord, wire_time

_SESSION_ID_EXAMPLE = "6f1c2b9e-8a4d-4f7b-9c3e-2d1a0b9c8d7e"
# examples in the OpenAPI schema (JSON values, as pydantic's json_schema_extra takes them)
_MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": "0b8e5a52-3f7e-4d1e-9a58-5a1f6d0f7c11",
    "chatId": _SESSION_ID_EXAMPLE,
    "userId": "lisa",
    "userName": "Lisa",
    "content": "Gern. Für welchen Tag und welche Uhrzeit möchten Sie den Termin?",
    "type": "ai",
    "sender": "lisa",
    "createdAt": "2026-11-23T08:00:01.250Z",
}
_OUTCOME_EXAMPLE: dict[str, Any] = {
    "status": "booked",
    "appointment": "2026-11-25T15:00",
    "summary": "Booked for Erika Musterfrau",
}
_OPEN_OUTCOME_EXAMPLE: dict[str, Any] = {"status": "open", "appointment": None, "summary": ""}


class OutcomeOut(BaseModel):
    """Where the conversation stands: ``open`` until something is decided (booked, answered, ...)."""

    status: str
    appointment: str | None = Field(None, description="local start of the booked slot, YYYY-MM-DDTHH:MM")
    summary: str = ""

    model_config = ConfigDict(json_schema_extra={"example": _OUTCOME_EXAMPLE})


class MessageOut(BaseModel):
    """One chat message in the shape of seed 004 (plus ``sender``: user | lisa | manager | system)."""

    id: str
    chatId: str  # wire name of seed 004
    userId: str
    userName: str
    content: str
    type: Literal["text", "ai", "system"]
    sender: Literal["user", "lisa", "manager", "system"]
    createdAt: str
    metadata: dict[str, Any] | None = None

    model_config = ConfigDict(json_schema_extra={"example": _MESSAGE_EXAMPLE})

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(**message.as_wire())


class CreateSessionIn(BaseModel):
    """All optional: ``POST /api/v1/sessions`` without a body starts an English (or default) session."""

    language: Literal["en", "de"] | None = Field(None, description="en | de; default: LISA_LANGUAGE")
    channel: str = Field("api", max_length=32, description="where the user chats from, e.g. app, web")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="free-form client data, kept as is (at most 8 KB as JSON)"
    )

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > 8192:
            raise ValueError("metadata is larger than 8 KB")
        return value

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"language": "de", "channel": "app", "metadata": {"app_version": "1.4.2"}}
        }
    )


class SessionCreatedOut(BaseModel):
    session_id: str
    status: str
    language: str
    channel: str
    greeting: str = Field(description="Lisa's first words")
    created_at: str
    outcome: OutcomeOut
    messages: list[MessageOut] = Field(description="the greeting as a chat message")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "session_id": _SESSION_ID_EXAMPLE,
                "status": "active",
                "language": "de",
                "channel": "app",
                "greeting": "Guten Tag, hier ist Lisa von der Praxis. Wie kann ich Ihnen helfen?",
                "created_at": "2026-11-23T08:00:00.000Z",
                "outcome": _OPEN_OUTCOME_EXAMPLE,
                "messages": [_MESSAGE_EXAMPLE],
            }
        }
    )


class ChatIn(BaseModel):
    """A user message; ``message`` (also accepted as ``content`` or ``text``)."""

    message: str = Field(validation_alias=AliasChoices("message", "content", "text"))
    user_name: str | None = Field(None, max_length=100)

    model_config = ConfigDict(
        json_schema_extra={"example": {"message": "Am Mittwoch um 15 Uhr, wenn das geht."}}
    )


class ChatOut(BaseModel):
    session_id: str
    reply: str | None = Field(description="Lisa's answer; null while a manager has taken the chat over")
    status: str = Field(description="active | ended (Lisa said goodbye)")
    taken_over: bool
    outcome: OutcomeOut
    messages: list[MessageOut] = Field(description="the user's message and Lisa's reply as stored")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "session_id": _SESSION_ID_EXAMPLE,
                "reply": "Gern. Am Mittwoch, 25. November um 15 Uhr ist frei. Auf welchen Namen darf ich buchen?",
                "status": "active",
                "taken_over": False,
                "outcome": _OPEN_OUTCOME_EXAMPLE,
                "messages": [_MESSAGE_EXAMPLE],
            }
        }
    )


class SessionSummaryOut(BaseModel):
    session_id: str
    status: Literal["active", "ended"]
    channel: str
    language: str
    user_id: str | None = None
    created_at: str
    last_activity: str
    ended_at: str | None = None
    end_reason: str | None = Field(None, description="ended_by_user | idle_timeout | completed")
    taken_over_by: str | None = None
    outcome: OutcomeOut

    @classmethod
    def of(cls, session: SessionRecord) -> SessionSummaryOut:
        return cls(**session_summary(session))


class EventOut(BaseModel):
    """Something that happened in the conversation (e.g. ``booking_confirmed``, ``message_taken``)."""

    type: str
    message: str
    at: str


class SessionOut(SessionSummaryOut):
    metadata: dict[str, Any] = Field(default_factory=dict)
    history: list[MessageOut]
    events: list[EventOut] = Field(
        default_factory=list, description="the conversation's events, oldest first"
    )


class SessionListOut(BaseModel):
    sessions: list[SessionSummaryOut]
    count: int


class HistoryOut(BaseModel):
    chat_id: str
    messages: list[MessageOut]


class ChatListItemOut(SessionSummaryOut):
    id: str = Field(description="the chat id (= session id)")
    lastMessage: str | None = None  # seed 004 name
    lastMessageAt: str | None = None


class ChatListOut(BaseModel):
    chats: list[ChatListItemOut]


class ManagerSendIn(BaseModel):
    """A manager's message into a chat; the first one takes the chat over (Lisa goes silent there)."""

    chat_id: str = Field(validation_alias=AliasChoices("chat_id", "chatId"))
    content: str = Field(validation_alias=AliasChoices("content", "message", "text"))
    manager: str | None = Field(None, max_length=100, description="name shown to the user; default: Manager")

    model_config = ConfigDict(
        json_schema_extra={"example": {"chat_id": "6f1c2b9e-…", "content": "Hallo, hier ist Anna."}}
    )


class ManagerSentOut(BaseModel):
    message: MessageOut
    taken_over_by: str | None


class ChatRefIn(BaseModel):
    chat_id: str = Field(validation_alias=AliasChoices("chat_id", "chatId"))
    manager: str | None = Field(None, max_length=100)


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    providers: dict[str, str] = Field(description="active providers: brain, stt, tts, telephony, storage")
    database: dict[str, Any]
    sessions: dict[str, int] = Field(default_factory=dict)
    uptime_s: float

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "status": "ok",
                "version": "0.1.0",
                "providers": {
                    "brain": "rule",
                    "stt": "faster-whisper tiny.en (local)",
                    "tts": "piper joe (local)",
                    "telephony": "loopback",
                    "storage": "sqlite",
                },
                "database": {"kind": "sqlite", "reachable": True},
                "sessions": {"active": 3},
                "uptime_s": 12.5,
            }
        }
    )


def _outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    """:class:`OutcomeOut`'s fields of a stored outcome."""
    return {
        "status": outcome["status"],
        "appointment": outcome.get("appointment"),
        "summary": outcome.get("summary", ""),
    }


def _message(message: ChatMessage) -> dict[str, Any]:
    """:class:`MessageOut`'s fields of a message (``metadata`` null when it has none)."""
    wire = message.as_wire()
    wire.setdefault("metadata", None)
    return wire


def session_page_json(session: SessionRecord, history: list[ChatMessage]) -> bytes:
    """``SessionOut(...).model_dump_json()`` of ``session`` and its ``history``, built straight from the records
    with pydantic's own serializer (the same bytes, held equal by the tests): a session read without a model
    built and validated per message and again for the response (~15 µs of ~150 in process)."""
    page = session_summary(session)
    page["outcome"] = _outcome(session.outcome)
    page["metadata"] = session.metadata
    page["history"] = [_message(m) for m in history]
    page["events"] = [{"type": e["type"], "message": e["message"], "at": e["at"]} for e in session.events()]
    return to_json(page)


def chat_item(session: SessionRecord, last: ChatMessage | None) -> ChatListItemOut:
    return ChatListItemOut(
        id=session.id,
        lastMessage=last.content if last else None,
        lastMessageAt=wire_time(last.created_at) if last else None,
        **session_summary(session),
    )
