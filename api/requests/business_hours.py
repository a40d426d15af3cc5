"""When the businesses Lisa calls are open: weekdays, opening hours, public holidays, in their timezone."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from phonenumbers import timezone

from api.requests.settings import RequestSettings


def _zone_of(number: str | None) -> tuple[str | None, str | None]:
    """The one time zone of a phone number and its country (None when unknown or several)."""
    if not number:
        return None, None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None, None
    zones = [z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    if len(zones) != 1:
        return None, None
    return zones[0], phonenumbers.region_code_for_number(parsed)


def _holidays(region: str | None) -> Any:
    try:
        return holidays.country_holidays(region) if region else {}
    except NotImplementedError:  # a country the holidays package does not know
        return {}


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
        self._elsewhere: dict[tuple[str, str | None], BusinessHours] = {}  # for_number, by zone and country

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

    def for_number(self, number: str | None) -> BusinessHours:
        """These hours where the called number is: a number in another single time zone (from
        ``phonenumbers``: "+1 212 …" is New York) gets the same opening hours in its own time zone, with its
        country's public holidays; a number of our zone, of several zones, or unknown keeps these."""
        zone, region = _zone_of(number)
        if zone is None or zone == self.tz.key:
            return self
        key = (zone, region)
        if key not in self._elsewhere:
            other = copy.copy(self)
            other.tz = ZoneInfo(zone)
            other.holidays = _holidays(region)
            other._elsewhere = {}
            self._elsewhere[key] = other
        return self._elsewhere[key]

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
