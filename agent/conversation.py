"""The conversation model shared by every channel: mode, language, history, slots and outcome."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    INBOUND = "inbound"  # a caller phones the business
    OUTBOUND = "outbound"  # Lisa phones a business to book for a user (seed 002 request)
    CHAT = "chat"  # text chat with the business


class Language(StrEnum):
    EN = "en"
    DE = "de"


class Status(StrEnum):
    """Outcome of a conversation (see shared/SCENARIOS.md)."""

    OPEN = "open"  # still running, nothing decided yet
    BOOKED = "booked"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    MESSAGE_TAKEN = "message_taken"
    CALLBACK_REQUESTED = "callback_requested"
    ABANDONED = "abandoned"
    # outbound calls only
    FAILED = "failed"
    WAITING_FOR_CALLBACK = "waiting_for_callback"


@dataclass
class Message:
    role: str  # "user" | "assistant" | "system" | "tool" | "manager"
    text: str
    at: datetime
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: Status = Status.OPEN
    appointment: datetime | None = None  # local start of the booked slot
    summary: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "appointment": self.appointment.strftime("%Y-%m-%dT%H:%M") if self.appointment else None,
            "summary": self.summary,
        }


@dataclass
class BookingRequest:
    """What a user asked us to book by phone (the body of seed 002's POST /api/process-request)."""

    request_id: str
    user_id: str
    title: str
    description: str
    callback_number: str
    number_to_call: str | None
    preferred_time: str
    user_profile: dict[str, Any] = field(default_factory=dict)

    @property
    def user_name(self) -> str:
        return str(self.user_profile.get("username") or "").strip()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConversationEvent:
    """Something that happened in the conversation that the channel reports (seed 002 event types)."""

    type: str  # e.g. booking_in_progress, booking_confirmed, transfer_requested, message_taken
    message: str
    at: datetime


@dataclass
class Conversation:
    mode: Mode
    language: Language
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request: BookingRequest | None = None
    history: list[Message] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome = field(default_factory=Outcome)
    events: list[ConversationEvent] = field(default_factory=list)
    # what the channel has to carry out after Lisa's current reply has been delivered
    end_requested: bool = False
    transfer_to: str | None = None
    send_digits: str | None = None  # keys to press (DTMF) on an outbound call, e.g. in a phone menu
    # free-form state that a brain keeps between turns (dialogue policy, counters)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        return self.end_requested

    def lisa_lines(self) -> list[str]:
        return [m.text for m in self.history if m.role == "assistant"]
