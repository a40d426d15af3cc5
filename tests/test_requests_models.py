"""Seed 002's request body, phone numbers, language guess and the human texts of the status flow."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from api.requests.models import ProcessRequestBody, display_phone, guess_language, normalize_phone
from api.requests.summary import booked_summary, scheduled_message

SEED_BODY = {  # verbatim from seed 002
    "request_id": "uuid-string",
    "user_id": "uuid-string",
    "title": "Zahnarzttermin buchen",
    "description": "Ich brauche einen Termin für eine Zahnreinigung",
    "callback_number": "+49 123 456789",
    "number_to_call": "+49 987 654321",
    "preferred_time": "nächste Woche, Montag 10-12 Uhr",
    "user_profile": {
        "username": "Max Mustermann",
        "street": "Musterstraße",
        "house_number": "123",
        "postal_code": "12345",
        "city": "Berlin",
        "country": "Germany",
    },
}
SEED_CURL = {  # the seed's curl test
    "request_id": "test-uuid",
    "user_id": "user-uuid",
    "title": "Test Request",
    "description": "Test",
    "callback_number": "+49 123 456789",
    "number_to_call": "+49 987 654321",
    "preferred_time": "ASAP",
    "user_profile": {"username": "Test User", "city": "Berlin"},
}
BERLIN = ZoneInfo("Europe/Berlin")


def test_seed_bodies_are_accepted_and_numbers_normalised():
    body = ProcessRequestBody.model_validate(SEED_BODY)
    assert body.number_to_call == "+49987654321" and body.callback_number == "+49123456789"
    request = body.booking_request()
    assert request.user_name == "Max Mustermann" and request.user_profile["street"] == "Musterstraße"
    curl = ProcessRequestBody.model_validate(SEED_CURL)
    assert curl.preferred_time == "ASAP"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+49 30 7654321", "+49307654321"),
        ("030 7654321", "+49307654321"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_normalize_phone(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12", "+49 1"])
def test_bad_phone_numbers(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_bad_fields_are_named():
    with pytest.raises(ValidationError) as info:
        ProcessRequestBody.model_validate({**SEED_BODY, "request_id": "a b", "callback_number": "x"})
    assert {e["loc"][0] for e in info.value.errors()} == {"request_id", "callback_number"}


def test_display_phone():
    assert display_phone("+49307654321") == "+49 30 7654321"


@pytest.mark.parametrize(
    ("texts", "hint", "language"),
    [
        (("Zahnarzttermin buchen", "Ich brauche einen Termin für eine Zahnreinigung"), None, "de"),
        (("Book a dental cleaning", "I need an appointment for a dental cleaning"), None, "en"),
        (("Friseur", "Herrenschnitt, ca. 30 Minuten"), None, "de"),
        (("Book a dental cleaning", ""), "de", "de"),
    ],
)
def test_language_guess(texts, hint, language):
    assert guess_language(*texts, hint=hint) == language


def test_summaries_in_the_request_language():
    slot = datetime(2026, 11, 30, 10, 30, tzinfo=BERLIN)
    assert booked_summary(slot, "Zahnarzttermin buchen", "de") == (
        "Termin gebucht für Montag, 30.11., 10:30 Uhr – Zahnarzttermin buchen"
    )
    assert booked_summary(slot, "Book a dental cleaning", "en") == (
        "Appointment booked for Monday, 30 November, 10:30 – Book a dental cleaning"
    )
    assert booked_summary(None, "", "de") == "Termin gebucht"
    opening = datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert "Montag, 30.11., 08:00 Uhr (Europe/Berlin)" in scheduled_message(opening, "de", "Europe/Berlin")
    assert "Monday, 30 November, 08:00" in scheduled_message(opening, "en", "Europe/Berlin")
