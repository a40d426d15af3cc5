"""Request and response bodies of the team chat, in seed 004's camelCase wire shapes."""

from __future__ import annotations

from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.chat.store import ChatMessage, wire_time
from api.team_chat.store import TeamChat, User

MAX_PASSWORD_CHARS = 256
MIN_PASSWORD_CHARS = 8
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: unambiguous read aloud or typed
INVITE_LENGTH = 8


def normal_email(value: str) -> str:
    """A syntactically valid address, lower-cased (one account per address whatever the case)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc


def e164(value: str) -> str:
    """A phone number in E.164 (``+491701234567``), the only form accepted."""
    text = value.strip()
    if not text.startswith("+"):
        raise ValueError("a phone number in E.164 form, starting with + and the country code")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number in E.164 form") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normal_invite(value: str) -> str:
    code = value.strip().upper().replace("-", "").replace(" ", "")
    if not 4 <= len(code) <= 16 or any(c not in INVITE_ALPHABET for c in code):
        raise ValueError(f"an invite code is {INVITE_LENGTH} characters of {INVITE_ALPHABET}")
    return code


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=10_000)


# --- accounts -----------------------------------------------------------------------------------------
class RegisterIn(_Strict):
    email: str = Field(max_length=254)
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32, description="E.164; optional, for signing in by SMS code")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normal_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return e164(value) if value else None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"email": "anna@example.com", "password": "correct horse 42", "name": "Anna"}
        }
    )


class LoginIn(_Strict):
    """Either ``email`` + ``password`` or ``phone`` + ``code`` (from ``POST /auth/phone/code``)."""

    email: str | None = Field(None, max_length=254)
    password: str | None = Field(None, max_length=MAX_PASSWORD_CHARS)
    phone: str | None = Field(None, max_length=32)
    code: str | None = Field(None, max_length=16)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normal_email(value) if value is not None else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return e164(value) if value is not None else None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value.strip()) == 6 and value.strip().isdigit()):
            raise ValueError("the code is 6 digits")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _one_way(self) -> LoginIn:
        if self.email is not None:
            if self.password is None:
                raise ValueError("field 'password' is required with 'email'")
        elif self.phone is not None:
            if self.code is None:
                raise ValueError("field 'code' is required with 'phone'")
        else:
            raise ValueError("field 'email' (with 'password') or 'phone' (with 'code') is required")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "anna@example.com", "password": "correct horse 42"},
                {"phone": "+491701234567", "code": "123456"},
            ]
        }
    )


class PhoneCodeIn(_Strict):
    phone: str = Field(max_length=32, description="E.164")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return e164(value)


class RefreshIn(_Strict):
    refreshToken: str = Field(min_length=16, max_length=200)


class GmailTokenIn(_Strict):
    token: str = Field(min_length=8, max_length=4096, description="a Google OAuth access token")


class UserOut(BaseModel):
    id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, phone=user.phone)


class AuthOut(BaseModel):
    user: UserOut
    accessToken: str
    refreshToken: str
    expiresIn: int = Field(description="seconds the access token is valid")


class RefreshOut(BaseModel):
    accessToken: str
    refreshToken: str = Field(description="the rotated refresh token: the one sent is used up")
    expiresIn: int


class SuccessOut(BaseModel):
    success: bool = True


class CodeSentOut(BaseModel):
    success: bool = True
    expiresIn: int = Field(description="seconds the code is valid")


class MeOut(BaseModel):
    user: UserOut
    role: str = Field(description="member | operator")
    googleConnected: bool


# --- chats --------------------------------------------------------------------------------------------
class TeamMessageOut(BaseModel):
    """One message in seed 004's shape (``sender`` is extra: user | lisa | system)."""

    id: str
    chatId: str
    userId: str
    userName: str
    content: str
    type: Literal["text", "ai", "system"]
    createdAt: str
    metadata: dict[str, Any] | None = None
    sender: str | None = None

    @classmethod
    def of(cls, message: ChatMessage) -> TeamMessageOut:
        return cls(**message.as_wire())


class TeamChatOut(BaseModel):
    id: str
    name: str
    type: Literal["direct", "group"]
    participantIds: list[str]
    inviteCode: str | None = Field(None, description="groups only")
    createdAt: str
    lastMessageAt: str | None = None
    lastMessage: str | None = None

    @classmethod
    def of(cls, chat: TeamChat, name: str | None = None) -> TeamChatOut:
        last = chat.last_message
        return cls(
            id=chat.id,
            name=name if name is not None else chat.name,
            type=chat.kind,
            participantIds=chat.participant_ids,
            inviteCode=chat.invite_code if chat.kind == "group" else None,
            createdAt=wire_time(chat.created_at),
            lastMessageAt=wire_time(last.created_at) if last else None,
            lastMessage=last.content if last else None,
        )


class ChatsOut(BaseModel):
    chats: list[TeamChatOut]


class ChatCreatedOut(BaseModel):
    chat: TeamChatOut


class GroupOut(BaseModel):
    group: TeamChatOut


class MessagesOut(BaseModel):
    messages: list[TeamMessageOut]
    hasMore: bool = Field(description="older messages exist: ask again with before=<id of the first one>")


class OneMessageOut(BaseModel):
    message: TeamMessageOut


class DirectChatIn(_Strict):
    participantId: str = Field(pattern=ID_PATTERN, description="the other user's id")


class GroupIn(_Strict):
    name: str = Field(min_length=1, max_length=100)
    participantIds: list[str] = Field(default_factory=list, max_length=200)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a group needs a name")
        return value.strip()

    @field_validator("participantIds")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        import re

        for item in value:
            if not re.match(ID_PATTERN, item):
                raise ValueError(f"not a user id: {item[:40]!r}")
        return list(dict.fromkeys(value))


class JoinIn(_Strict):
    inviteCode: str = Field(max_length=32)

    @field_validator("inviteCode")
    @classmethod
    def _code(cls, value: str) -> str:
        return normal_invite(value)


class PostMessageIn(_Strict):
    content: str = Field(min_length=1, max_length=4000)

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a message needs some text")
        return value


# --- Lisa and meetings ------------------------------------------------------------------------------------
class AskIn(_Strict):
    chatId: str = Field(pattern=ID_PATTERN)
    question: str = Field(min_length=1, max_length=2000)


class SuggestionsOut(BaseModel):
    suggestions: list[TeamMessageOut]


class MeetIn(_Strict):
    """Optional: what the meeting is called, and the chat it is for (its link is then posted there)."""

    title: str | None = Field(None, max_length=200)
    chatId: str | None = Field(None, pattern=ID_PATTERN)


class MeetOut(BaseModel):
    meetUrl: str
    provider: Literal["google", "jitsi"]
