"""Lisa's clock: real time, or a clock that starts at a fixed instant and runs on (tests, demos, replays)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Berlin"


class Clock:
    """Tells Lisa's "now" in the business timezone.

    ``Clock(start="2026-11-23T09:15:00+01:00")`` starts there and lets time run on from that instant;
    ``Clock()`` follows the real time.
    """

    def __init__(self, start: datetime | str | None = None, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.tz = ZoneInfo(timezone)
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=self.tz)
        self._start = start
        self._started_mono = time.monotonic()

    def now(self) -> datetime:
        """The current time, timezone-aware, in the business timezone."""
        if self._start is None:
            return datetime.now(self.tz)
        return (self._start + timedelta(seconds=time.monotonic() - self._started_mono)).astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()

    @property
    def timezone(self) -> str:
        return self.tz.key
