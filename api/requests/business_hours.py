"""When the businesses Lisa calls are open: weekdays, opening hours, public holidays, in their timezone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from api.requests.settings import RequestSettings


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class BusinessHours:
    """Mo–Fr 08:00–18:00 in Europe/Berlin without German (Berlin) public holidays, by default."""

    def __init__(
        self,
        timezone: str = "Europe/Berlin",
        open_at: str = "08:00",
        close_at: str = "18:00",
        days: tuple[int, ...] = (0, 1, 2, 3, 4),
        country: str | None = "DE",
        subdiv: str | None = "BE",
    ) -> None:
        self.tz = ZoneInfo(timezone)
        self.open_at = _hhmm(open_at)
        self.close_at = _hhmm(close_at)
        if self.close_at <= self.open_at:
            raise ValueError("business_close must be after business_open")
        self.days = frozenset(days)
        self.holidays = holidays.country_holidays(country, subdiv=subdiv or None) if country else {}

    @classmethod
    def from_settings(cls, settings: RequestSettings) -> BusinessHours:
        return cls(
            timezone=settings.business_timezone,
            open_at=settings.business_open,
            close_at=settings.business_close,
            days=tuple(int(d) for d in settings.business_days.split(",") if d.strip()),
            country=settings.business_holidays_country or None,
            subdiv=settings.business_holidays_subdiv,
        )

    def is_open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def holiday_name(self, day: date) -> str | None:
        return self.holidays.get(day) if self.holidays else None

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        return self.is_open_day(local.date()) and self.open_at <= local.time() < self.close_at

    def next_opening(self, now: datetime) -> datetime:
        """``now`` itself when open, else the next opening time (timezone-aware, business timezone)."""
        local = now.astimezone(self.tz)
        if self.is_open(local):
            return local
        day = local.date()
        if self.is_open_day(day) and local.time() < self.open_at:
            return datetime.combine(day, self.open_at, self.tz)
        for _ in range(366):
            day += timedelta(days=1)
            if self.is_open_day(day):
                return datetime.combine(day, self.open_at, self.tz)
        raise ValueError("no business day within a year; check business_days / holidays settings")
