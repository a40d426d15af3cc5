"""The request body of seed 002, its validation, and the status / event vocabulary."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.conversation import BookingRequest
from api.requests.business_hours import check_opening_hours
from api.requests.dial_policy import SHORT_CODE_ERROR, never_dialled, short_code

STATUSES = (
    "queued",
    "outside_business_hours",
    "calling",
    "in_progress",
    "waiting_for_callback",
    "booked",
    "failed",
    "canceled",
)
FINAL_STATUSES = frozenset({"booked", "failed", "canceled"})
WAITING_STATUSES = frozenset(
    {"queued", "outside_business_hours", "waiting_for_callback"}
)  # a call is due later
EVENT_TYPES = (
    "request_received",
    "scheduled",
    "call_started",
    "call_connected",
    "booking_in_progress",
    "booking_confirmed",
    "call_failed",
    "call_completed",
    "error",
)
DEFAULT_REGION = "DE"


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """``"+49 30 7654321"`` / ``"030 7654321"`` -> ``"+49307654321"``; ValueError when it is no phone number."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed) or len(str(parsed.national_number)) < 6:
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """``"+49307654321"`` -> ``"+49 30 7654321"`` for human-readable event messages."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


class UserProfile(BaseModel):
    model_config = ConfigDict(extra="allow")

    username: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=200)
    house_number: str | None = Field(default=None, max_length=50)
    postal_code: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)


class ProcessRequestBody(BaseModel):
    """``POST /api/process-request`` exactly as seed 002, plus an optional ``language`` hint and the business's
    optional ``opening_hours`` (OpenStreetMap syntax, in the callee's time zone: when its calls may go out)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    request_id: str = Field(min_length=1, max_length=100)
    user_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(max_length=4000)
    callback_number: str
    number_to_call: str | None
    preferred_time: str = Field(max_length=300)
    user_profile: UserProfile = Field(default_factory=UserProfile)
    language: str | None = Field(default=None, pattern="^(en|de)$")
    opening_hours: str | None = Field(
        default=None,
        description="The business's own opening hours in OpenStreetMap opening_hours syntax, in the callee's "
        "time zone; its calls are placed within them (public holidays stay closed). Absent: Mo-Fr 08:00-18:00.",
        examples=["Mo-Fr 08:00-18:00; Sa 09:00-13:00"],
    )

    @field_validator("request_id", "user_id")
    @classmethod
    def _id_chars(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.:\-]+", value):
            raise ValueError("only letters, digits and - _ . : are allowed")
        return value

    @field_validator("callback_number")
    @classmethod
    def _callback(cls, value: str) -> str:
        return normalize_phone(value)

    @field_validator("number_to_call")
    @classmethod
    def _to_call(cls, value: str | None) -> str | None:
        """A number a bot may dial (emergency, short-code, premium-rate, shared-cost and non-geographic
        numbers are refused here; countries and the deny list are checked by the processor)."""
        if value is None or not value.strip():
            return None
        if short_code(value, DEFAULT_REGION):
            raise ValueError(SHORT_CODE_ERROR)
        e164 = normalize_phone(value)
        if reason := never_dialled(e164):
            raise ValueError(reason)
        return e164

    @field_validator("opening_hours")
    @classmethod
    def _opening_hours(cls, value: str | None) -> str | None:
        return check_opening_hours(value) if value else None

    def booking_request(self) -> BookingRequest:
        return BookingRequest(
            request_id=self.request_id,
            user_id=self.user_id,
            title=self.title,
            description=self.description,
            callback_number=self.callback_number,
            number_to_call=self.number_to_call,
            preferred_time=self.preferred_time,
            user_profile=self.user_profile.model_dump(exclude_none=True),
        )


_GERMAN_WORDS = re.compile(
    r"\b(ich|ein|einen|eine|termin|bitte|für|nächste|nächsten|woche|uhr|brauche|buchen|zahnarzt\w*|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|vormittag|nachmittag|und|oder|mit|beim|der|die|das|"
    r"ca|minuten|stunde|morgen|heute|abends|praxis|arzt\w*|friseur\w*|herren\w*|damen\w*|schnitt|"
    r"untersuchung|reinigung)\b",
    re.IGNORECASE,
)
_ENGLISH_WORDS = re.compile(
    r"\b(i|need|an|a|appointment|book|please|next|week|the|for|with|and|or|monday|tuesday|wednesday|"
    r"thursday|friday|morning|afternoon|cleaning|haircut)\b",
    re.IGNORECASE,
)


def guess_language(*texts: str, hint: str | None = None) -> str:
    """The request's language: the ``language`` hint, else German when the text reads German."""
    if hint in ("en", "de"):
        return hint
    text = " ".join(t for t in texts if t)
    german = len(_GERMAN_WORDS.findall(text)) + 2 * len(re.findall(r"[äöüßÄÖÜ]", text))
    english = len(_ENGLISH_WORDS.findall(text))
    return "de" if german > english else "en"


def booking_request_from_row(row: dict[str, Any]) -> BookingRequest:
    import json

    return BookingRequest(
        request_id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        description=row["description"],
        callback_number=row["callback_number"],
        number_to_call=row["number_to_call"],
        preferred_time=row["preferred_time"],
        user_profile=json.loads(row["user_profile"] or "{}"),
    )
