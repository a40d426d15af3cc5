"""When the businesses Lisa calls are open: weekdays, opening hours, public holidays, in their timezone.

By default Mo–Fr 08:00–18:00 (the settings); a request may state the business's own opening hours as an
OpenStreetMap ``opening_hours`` expression (``"Mo-Fr 08:00-18:00; Sa 09:00-13:00"``), evaluated by the
``opening-hours-py`` library in the callee's time zone. Public holidays close the day either way.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from opening_hours import (  # type: ignore[attr-defined]  # its stubs lack the two exceptions
    OpeningHours,
    ParserError,
    UnknownCountryError,
)
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


OPENING_HOURS_MAX_LENGTH = 255  # OpenStreetMap's limit for a tag value
_HORIZON = timedelta(days=366)  # an opening further away than this counts as none
_MAX_STEPS = 2000  # state changes looked at while searching the next opening (≈ 3 a day for a year)


class NeverOpen(ValueError):
    """No opening within a year (the hours say closed, or every open day is a public holiday)."""


def check_opening_hours(value: str) -> str:
    """``value`` when it is an OpenStreetMap ``opening_hours`` expression Lisa can evaluate, else ValueError
    with a short reason (where the parser stopped); whether it ever opens is checked with a time zone."""
    if len(value) > OPENING_HOURS_MAX_LENGTH:
        raise ValueError(f"at most {OPENING_HOURS_MAX_LENGTH} characters")
    try:
        OpeningHours(value, max_interval_days=_HORIZON.days)
    except ParserError as exc:
        where = re.search(r"-->\s*\d+:(\d+)", str(exc))
        at = f" at character {where.group(1)}" if where else ""
        raise ValueError(
            f'not an OpenStreetMap opening_hours expression{at} (e.g. "Mo-Fr 08:00-18:00; Sa 09:00-13:00")'
        ) from None
    return value


def _expression(value: str, tz: ZoneInfo, country: str | None) -> OpeningHours:
    """The parsed expression in ``tz``; ``PH`` rules use the library's calendar of ``country`` if it has one."""
    try:
        return OpeningHours(value, timezone=tz, country=country, max_interval_days=_HORIZON.days)
    except UnknownCountryError:
        return OpeningHours(value, timezone=tz, max_interval_days=_HORIZON.days)


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
        self.country = country
        self.expression: OpeningHours | None = None  # the business's own hours (with_opening_hours)
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
            other.country = region
            other._elsewhere = {}
            self._elsewhere[key] = other
        return self._elsewhere[key]

    def with_opening_hours(self, expression: str | None) -> BusinessHours:
        """These hours with the business's own opening hours (an OpenStreetMap ``opening_hours`` expression,
        see :func:`check_opening_hours`) instead of the days and times of the settings, in the same time
        zone and with the same public holidays; ``None`` or empty keeps these."""
        if not expression:
            return self
        other = copy.copy(self)
        other.expression = _expression(expression, self.tz, self.country)
        other._elsewhere = {}
        return other

    def for_request(self, number: str | None, opening_hours: str | None) -> BusinessHours:
        """The hours a request's call is placed in: the callee's time zone (:meth:`for_number`) and the
        business's own opening hours when the request states them (:meth:`with_opening_hours`)."""
        return self.for_number(number).with_opening_hours(opening_hours)

    def is_open_day(self, day: date) -> bool:
        """A weekday of the settings' days that is no public holiday (the default hours only)."""
        return day.weekday() in self.days and day not in self.holidays

    def holiday_name(self, day: date) -> str | None:
        return self.holidays.get(day) if self.holidays else None

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        if self.expression is not None:
            return local.date() not in self.holidays and self.expression.is_open(local)
        return self.is_open_day(local.date()) and self.open_at <= local.time() < self.close_at

    def next_opening(self, now: datetime) -> datetime:
        """``now`` itself when open, else the next opening time (timezone-aware, business timezone)."""
        local = now.astimezone(self.tz)
        if self.is_open(local):
            return local
        if self.expression is not None:
            return self._next_by_expression(local)
        day = local.date()
        if self.is_open_day(day) and local.time() < self.open_at:
            return datetime.combine(day, self.open_at, self.tz)
        for _ in range(366):
            day += timedelta(days=1)
            if self.is_open_day(day):
                return datetime.combine(day, self.open_at, self.tz)
        raise NeverOpen("no business day within a year; check business_days / holidays settings")

    def _next_by_expression(self, local: datetime) -> datetime:
        assert self.expression is not None
        moment, until = local, local + _HORIZON
        for _ in range(_MAX_STEPS):
            if moment > until:
                break
            if moment.date() in self.holidays:  # closed all day: look again at midnight
                moment = datetime.combine(moment.date() + timedelta(days=1), time(0), self.tz)
            elif self.expression.is_open(moment):
                return moment
            else:
                change = self.expression.next_change(moment)
                if change is None:
                    break
                moment = change.astimezone(self.tz)
        raise NeverOpen("the business's opening hours have no opening within a year")
