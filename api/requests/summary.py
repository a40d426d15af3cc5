"""Human-readable texts for the frontend, in the request's language (summary, scheduling notes)."""

from __future__ import annotations

from datetime import datetime

WEEKDAYS = {
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
MONTHS_EN = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def when_text(moment: datetime, language: str) -> str:
    """``Montag, 30.11., 10:30 Uhr`` / ``Monday, 30 November, 10:30``."""
    day = WEEKDAYS.get(language, WEEKDAYS["en"])[moment.weekday()]
    if language == "de":
        return f"{day}, {moment:%d.%m.}, {moment:%H:%M} Uhr"
    return f"{day}, {moment.day} {MONTHS_EN[moment.month - 1]}, {moment:%H:%M}"


def booked_summary(appointment: datetime | None, title: str, language: str, detail: str = "") -> str:
    """``Termin gebucht für Montag, 30.11., 10:30 Uhr – Zahnarzttermin buchen``."""
    if language == "de":
        head = f"Termin gebucht für {when_text(appointment, 'de')}" if appointment else "Termin gebucht"
    else:
        head = (
            f"Appointment booked for {when_text(appointment, 'en')}" if appointment else "Appointment booked"
        )
    text = f"{head} – {title}" if title else head
    return f"{text}. {detail}".strip() if detail and detail not in text else text


def scheduled_message(opening: datetime, language: str, timezone: str) -> str:
    if language == "de":
        return f"Außerhalb der Geschäftszeiten; Anruf geplant für {when_text(opening, 'de')} ({timezone})"
    return f"Outside business hours; call scheduled for {when_text(opening, 'en')} ({timezone})"
