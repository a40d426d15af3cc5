"""The tools every brain uses to change a conversation: the only code that writes ``conv.outcome``.

Inbound calls and chats book against the business calendar (never in the past, never outside opening
hours, never over another booking; the nearest free alternatives are offered instead). Outbound calls
record what the called business confirmed and compare offers against the user's preferred time.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from agent.business import DAY_NAMES, BusinessProfile
from agent.calendar import Booking, Calendar
from agent.clock import Clock
from agent.conversation import Conversation, ConversationEvent, Language, Mode, Status
from agent.phrases import phrase

if TYPE_CHECKING:  # agent.when is imported where it is used
    from agent.when import When

log = logging.getLogger(__name__)

MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
SEARCH_DAYS = 21  # how far around a wanted slot alternatives are looked for
MAX_NAME = 80
MAX_MESSAGE = 1000

_INBOUND_STATUSES = {Status.ANSWERED, Status.ABANDONED, Status.TRANSFERRED, Status.MESSAGE_TAKEN}
_INBOUND_STATUSES |= {Status.CALLBACK_REQUESTED, Status.BOOKED}
_OUTBOUND_STATUSES = {Status.FAILED, Status.WAITING_FOR_CALLBACK, Status.BOOKED}


class ToolError(ValueError):
    """Bad tool arguments or a tool that does not apply; reported to the brain as ``{"ok": False}``."""


def iso(moment: datetime) -> str:
    """Local ISO minute, the format tools exchange: ``2026-11-25T15:00``."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def summary_datetime(moment: datetime, lang: str) -> str:
    """Written date and time for summaries: "Monday, November 30 at 10:30" / "Montag, 30.11., 10:30 Uhr"."""
    if str(lang) == "de":
        return (
            f"{DAY_NAMES['de'][moment.weekday()]}, {moment.day:02d}.{moment.month:02d}., {moment:%H:%M} Uhr"
        )
    return (
        f"{DAY_NAMES['en'][moment.weekday()]}, {MONTHS_EN[moment.month - 1]} {moment.day} at {moment:%H:%M}"
    )


def _prop(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **extra}


_START = _prop("string", "Local start of the slot, ISO 8601 without timezone, e.g. 2026-11-25T15:00")
_SCHEMAS: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "check_availability": (
        "Check whether a slot is free. Inbound/chat: against the business calendar and opening hours; returns "
        "the nearest free alternatives when it is not. Outbound: whether an offered slot fits the user's "
        "preferred time. Give start for one slot, or day for that day's free slots.",
        {
            "start": _START,
            "day": _prop("string", "A day, ISO date e.g. 2026-11-25, to list its free slots"),
            "service": _prop("string", "The service asked for, in the caller's words (default: appointment)"),
        },
        [],
    ),
    "book_appointment": (
        "Inbound/chat: book the slot for the caller in the business calendar (refused with alternatives "
        "when taken, closed or past). Outbound: record the appointment the called business has confirmed.",
        {
            "start": _START,
            "name": _prop("string", "Name the appointment is for (outbound: the user's name)"),
            "service": _prop("string", "The service, in the caller's words"),
            "phone": _prop("string", "Phone number of the caller, only if they gave it"),
            "business_name": _prop("string", "Outbound: the name of the business that was called"),
        },
        ["start"],
    ),
    "lookup_business_info": (
        "Look up a fact about the business to answer a question: opening hours (optionally of one day), "
        "address, prices, parking, insurance and other FAQ.",
        {
            "question": _prop("string", "The caller's question in their words"),
            "day": _prop("string", "ISO date, when the question is about one day's opening hours"),
        },
        ["question"],
    ),
    "transfer_to_human": (
        "Hand the caller over to a human colleague of the business (when they ask for a person).",
        {"reason": _prop("string", "Why, in a few words")},
        [],
    ),
    "take_message": (
        "Take a message for the business.",
        {
            "name": _prop("string", "Name of the caller"),
            "message": _prop("string", "The message, in the caller's words"),
            "phone": _prop("string", "Number to reach the caller, if given"),
        },
        ["name", "message"],
    ),
    "request_callback": (
        "Inbound/chat: the caller wants the business to call back. Outbound: the called business asked "
        "us to call back later.",
        {
            "phone": _prop("string", "Inbound: the number to call back"),
            "when": _prop("string", "When, in the speaker's words (e.g. 'in an hour', 'tomorrow morning')"),
            "name": _prop("string", "Inbound: name of the caller"),
        },
        [],
    ),
    "report_no_availability": (
        "Outbound: the called business has no suitable appointment (fully booked, nothing free).",
        {"reason": _prop("string", "What they said, in a few words")},
        [],
    ),
    "get_callback_number": (
        "Outbound: the user's callback number. Only use it when the business asks for a phone number.",
        {},
        [],
    ),
    "end_conversation": (
        "End the call or chat after saying goodbye.",
        {
            "reason": _prop("string", "Why, in a few words"),
            "outcome": _prop(
                "string",
                "Optional final status when nothing was decided yet",
                enum=["answered", "abandoned", "failed"],
            ),
        },
        [],
    ),
}
_OUTBOUND_TOOLS = (
    "check_availability",
    "book_appointment",
    "request_callback",
    "report_no_availability",
    "get_callback_number",
    "end_conversation",
)
_INBOUND_TOOLS = (
    "check_availability",
    "book_appointment",
    "lookup_business_info",
    "transfer_to_human",
    "take_message",
    "request_callback",
    "end_conversation",
)


def _reports_errors(
    method: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A tool method returns ``{"ok": False, "error": ...}`` for bad arguments instead of raising."""

    @functools.wraps(method)
    async def wrapper(self: Toolbox, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return await method(self, *args, **kwargs)
        except ToolError as exc:
            return {"ok": False, "error": str(exc)}

    return wrapper


def business_notes(conv: Conversation) -> str:
    """What the business of an outbound call said the user must know (:meth:`Toolbox.note_from_business`), as
    one sentence for a summary ("The business said: “…” / “…”."); "" when nothing."""
    notes = conv.slots.get("business_notes") or [] if conv.mode is Mode.OUTBOUND else []
    if not notes:
        return ""
    if str(conv.language) == "de":
        return "Der Betrieb sagte: " + " / ".join(f"„{n}“" for n in notes) + "."
    return "The business said: " + " / ".join(f"“{n}”" for n in notes) + "."


class Toolbox:
    """The tools for one conversation. Every method returns a JSON-able dict with ``ok``."""

    def __init__(
        self, conv: Conversation, business: BusinessProfile, calendar: Calendar, clock: Clock
    ) -> None:
        self.conv = conv
        self.business = business
        self.calendar = calendar
        self.clock = clock
        self._preferred: tuple[tuple[str, datetime], When | None] | None = None  # see preferred_window

    # ------------------------------------------------------------------ generic entry points
    @property
    def names(self) -> tuple[str, ...]:
        return _OUTBOUND_TOOLS if self.conv.mode is Mode.OUTBOUND else _INBOUND_TOOLS

    def schemas(self) -> list[dict[str, Any]]:
        """The tools of this conversation's mode in OpenAI chat-completions ``tools`` format."""
        out = []
        for name in self.names:
            description, props, required = _SCHEMAS[name]
            out.append(
                {
                    "type": "function",
                    "function": {
                        "name": name,
                        "description": description,
                        "parameters": {
                            "type": "object",
                            "properties": props,
                            "required": required,
                            "additionalProperties": False,
                        },
                    },
                }
            )
        return out

    async def call(self, name: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Run a tool by name with JSON arguments; bad input gives ``{"ok": False, "error": ...}``."""
        if name not in self.names:
            known = ", ".join(self.names)
            return {
                "ok": False,
                "error": f"unknown tool {name!r} for a {self.conv.mode} conversation; use one of {known}",
            }
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            return {"ok": False, "error": "arguments must be a JSON object"}
        method: Callable[..., Awaitable[dict[str, Any]]] = getattr(self, name)
        accepted = set(inspect.signature(method).parameters)
        kwargs = {k: v for k, v in arguments.items() if k in accepted and v not in (None, "")}
        missing = [p for p in _SCHEMAS[name][2] if p not in kwargs]
        if missing:
            return {"ok": False, "error": f"missing argument: {', '.join(missing)}"}
        try:
            return await method(**kwargs)
        except ToolError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # a tool never takes the conversation down
            log.exception("tool %s failed", name)
            return {"ok": False, "error": f"{name} failed: {type(exc).__name__}"}

    # ------------------------------------------------------------------ helpers
    @property
    def lang(self) -> Language:
        return self.conv.language

    def _de(self) -> bool:
        return self.conv.language is Language.DE

    def now(self) -> datetime:
        return self.business.local(self.clock.now())

    def _moment(self, value: datetime | str | None, field: str = "start") -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError as exc:
                raise ToolError(f"{field}: {value!r} is not an ISO datetime like 2026-11-25T15:00") from exc
        if not isinstance(value, datetime):
            raise ToolError(f"{field}: expected an ISO datetime")
        return self.business.local(value).replace(second=0, microsecond=0)

    def _day(self, value: date | str | None) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return self.business.local(value).date()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()[:10])
            except ValueError as exc:
                raise ToolError(f"day: {value!r} is not an ISO date like 2026-11-25") from exc
        if isinstance(value, date):
            return value
        raise ToolError("day: expected an ISO date")

    @staticmethod
    def _text(value: Any, field: str, limit: int) -> str:
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text:
            raise ToolError(f"{field}: must not be empty")
        if len(text) > limit:
            raise ToolError(f"{field}: longer than {limit} characters")
        return text

    def _event(self, kind: str, message: str) -> None:
        self.conv.events.append(ConversationEvent(kind, message, self.clock.now()))

    def _set_outcome(self, status: Status, summary: str, appointment: datetime | None = None) -> None:
        """Record an outcome; a booking is never overwritten by something less (its summary is kept). On an
        outbound call what the business said the user must know (:meth:`note_from_business`) closes it."""
        outcome = self.conv.outcome
        if outcome.status is Status.BOOKED and status is not Status.BOOKED:
            outcome.summary = f"{outcome.summary} {summary}".strip()
            return
        outcome.status = status
        outcome.summary = f"{summary} {business_notes(self.conv)}".strip()
        if appointment is not None:
            outcome.appointment = appointment

    def note_from_business(self, said: str) -> bool:
        """Keep what the business said the user must know ("it's 80 euros, insurance doesn't cover it",
        "come 15 minutes early", "he'll be with Dr Jones"): in the summary, now or when the outcome is set.
        Whether it is new."""
        notes: list[str] = self.conv.slots.setdefault("business_notes", [])
        said = re.sub(r"\s+", " ", said).strip(" ,.!")[:160]
        if not said or said in notes or len(notes) >= 4:
            return False
        notes.append(said)
        outcome = self.conv.outcome
        if outcome.status is not Status.OPEN and said not in outcome.summary:
            outcome.summary = re.sub(r"\s*(The business said|Der Betrieb sagte): .*$", "", outcome.summary)
            outcome.summary = f"{outcome.summary} {business_notes(self.conv)}".strip()
        return True

    def _require_mode(self, inbound: bool, tool: str) -> None:
        if inbound and self.conv.mode is Mode.OUTBOUND:
            raise ToolError(f"{tool} is not available on an outbound call")
        if not inbound and self.conv.mode is not Mode.OUTBOUND:
            raise ToolError(f"{tool} is only available on an outbound call")

    # ------------------------------------------------------------------ slots of the business calendar
    async def _taken(self, start: datetime, end: datetime) -> list[Booking]:
        return await self.calendar.bookings_between(start, end)

    def _problem_without_calendar(self, start: datetime, minutes: int) -> str | None:
        if start <= self.now():
            return "past"
        if not self.business.fits(start, minutes):
            return "closed"
        if start.date() > self.now().date() + timedelta(days=self.business.booking_horizon_days):
            return "too_far"
        return None

    def _day_slots(self, day: date, minutes: int) -> list[datetime]:
        hours = self.business.hours_on_date(day)
        if hours is None:
            return []
        step = timedelta(minutes=max(5, self.business.slot_minutes))
        tz = self.business.tz
        slot = datetime.combine(day, hours[0], tzinfo=tz)
        close = datetime.combine(day, hours[1], tzinfo=tz)
        now = self.now()
        out = []
        while slot + timedelta(minutes=minutes) <= close:
            if slot > now:
                out.append(slot)
            slot += step
        return out

    async def _free(self, candidates: list[datetime], minutes: int) -> list[datetime]:
        if not candidates:
            return []
        busy = await self._taken(min(candidates), max(candidates) + timedelta(minutes=minutes))
        span = timedelta(minutes=minutes)
        return [c for c in candidates if not any(b.start < c + span and b.end > c for b in busy)]

    async def free_slots(
        self, day: date, minutes: int, earliest: time | None = None, latest: time | None = None
    ) -> list[datetime]:
        """Free starts on ``day`` (optionally starting within ``earliest``..``latest``), in order."""
        slots = self._day_slots(day, minutes)
        if earliest:
            slots = [s for s in slots if s.time() >= earliest]
        if latest:
            slots = [s for s in slots if s.time() < latest]
        return await self._free(slots, minutes)

    async def alternatives(self, wanted: datetime, minutes: int, count: int = 3) -> list[datetime]:
        """The nearest free slots to ``wanted``: the same day first, then the same time on the nearest days."""
        today = self.now().date()
        first = max(today, wanted.date() - timedelta(days=SEARCH_DAYS // 3))
        last = min(
            wanted.date() + timedelta(days=SEARCH_DAYS),
            today + timedelta(days=self.business.booking_horizon_days),
        )
        candidates: list[datetime] = []
        day = first
        while day <= last:
            candidates += self._day_slots(day, minutes)
            day += timedelta(days=1)
        free = await self._free(candidates, minutes)
        wanted_minutes = wanted.hour * 60 + wanted.minute

        def key(slot: datetime) -> tuple[int, int, int, int]:
            days = abs((slot.date() - wanted.date()).days)
            later = 0 if slot >= wanted else 1
            return (days, abs(slot.hour * 60 + slot.minute - wanted_minutes), later, slot.hour)

        return sorted(free, key=key)[:count]

    async def slot_problem(self, start: datetime, minutes: int) -> str | None:
        """Why ``start`` cannot be booked ("past", "closed", "too_far", "taken"), or None when it is free."""
        problem = self._problem_without_calendar(start, minutes)
        if problem:
            return problem
        if await self._taken(start, start + timedelta(minutes=minutes)):
            return "taken"
        return None

    # ------------------------------------------------------------------ outbound: the user's preferred time
    def preferred_window(self) -> When | None:
        """The request's preferred time parsed relative to now, or None; parsed once per wish and minute (the
        outbound rules ask for it per offer and per check of a turn)."""
        request = self.conv.request
        if request is None or not request.preferred_time:
            return None
        now = self.now()
        key = (request.preferred_time, now.replace(second=0, microsecond=0))
        if self._preferred is not None and self._preferred[0] == key:
            return self._preferred[1]
        from agent.when import parse_when

        try:
            window = parse_when(request.preferred_time, now, self.conv.language)
        except Exception:  # an unparseable wish means "any time"
            log.warning("could not parse the preferred time of request %s", request.request_id)
            window = None
        self._preferred = (key, window)
        return window

    def fits_preferred(self, start: datetime) -> bool:
        """Whether an offered slot fits the user's preferred time (True when there is no usable wish)."""
        when = self.preferred_window()
        if when is None:
            return True
        if not when.allows_day(start.date()):  # one of the days said, in the span, or a later same weekday
            return False
        t = start.time()
        if when.earliest is not None and t < when.earliest:
            return False
        if when.latest is not None and t >= when.latest:
            return False
        return not (
            when.time is not None
            and when.earliest is None
            and when.latest is None
            and abs((t.hour * 60 + t.minute) - (when.time.hour * 60 + when.time.minute)) > 60
        )

    # ------------------------------------------------------------------ the tools
    @_reports_errors
    async def check_availability(
        self, start: datetime | str | None = None, day: date | str | None = None, service: str | None = None
    ) -> dict[str, Any]:
        """Is ``start`` free (else the nearest alternatives), or which slots are free on ``day``."""
        moment, the_day = self._moment(start), self._day(day)
        if self.conv.mode is Mode.OUTBOUND:
            if moment is None:
                raise ToolError("start: give the offered slot to compare with the preferred time")
            if moment <= self.now():
                return {"ok": True, "start": iso(moment), "fits_preferred_time": False, "reason": "past"}
            request = self.conv.request
            return {
                "ok": True,
                "start": iso(moment),
                "fits_preferred_time": self.fits_preferred(moment),
                "preferred_time": request.preferred_time if request else "",
            }
        svc = self.business.service_for(service)
        if moment is not None:
            problem = await self.slot_problem(moment, svc.minutes)
            result: dict[str, Any] = {"ok": True, "start": iso(moment), "service": svc.label(self.lang)}
            if problem is None:
                return result | {"available": True}
            alternatives = await self.alternatives(moment, svc.minutes)
            return result | {
                "available": False,
                "reason": problem,
                "alternatives": [iso(a) for a in alternatives],
            }
        if the_day is None:
            the_day = self.now().date()
        slots = await self.free_slots(the_day, svc.minutes)
        result = {"ok": True, "day": the_day.isoformat(), "service": svc.label(self.lang)}
        if slots:
            return result | {"available": True, "free_slots": [iso(s) for s in slots]}
        if the_day < self.now().date():
            reason = "past"
        elif self.business.hours_on_date(the_day) is None:
            reason = "closed"
        else:
            reason = "full"
        wanted = datetime.combine(the_day, time(12), tzinfo=self.business.tz)
        alternatives = await self.alternatives(max(wanted, self.now()), svc.minutes)
        return result | {"available": False, "reason": reason, "alternatives": [iso(a) for a in alternatives]}

    @_reports_errors
    async def book_appointment(
        self,
        start: datetime | str,
        name: str | None = None,
        service: str | None = None,
        phone: str | None = None,
        business_name: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Book (inbound/chat) or record the confirmed appointment (outbound); ``note``: a wish for the team."""
        moment = self._moment(start)
        if moment is None:
            raise ToolError("start: must not be empty")
        if self.conv.mode is Mode.OUTBOUND:
            return await self._record_outbound_booking(moment, name, business_name)
        who = self._text(name, "name", MAX_NAME)
        svc = self.business.service_for(service)
        problem = await self.slot_problem(moment, svc.minutes)
        if problem is None:
            booking = Booking(
                start=moment,
                end=moment + timedelta(minutes=svc.minutes),
                name=who,
                service=svc.key,
                conversation_id=self.conv.id,
                phone=str(phone or ""),
            )
            if not await self.calendar.add(booking):
                problem = "taken"  # someone else was faster
        if problem is not None:
            alternatives = await self.alternatives(moment, svc.minutes)
            return {
                "ok": False,
                "error": f"slot not bookable: {problem}",
                "reason": problem,
                "start": iso(moment),
                "alternatives": [iso(a) for a in alternatives],
            }
        when = summary_datetime(moment, self.lang)
        label = svc.label(self.lang)
        if self._de():
            summary = f"Termin gebucht für {who} am {when} ({label})."
        else:
            summary = f"Appointment booked for {who} on {when} ({label})."
        summary += f" {note.strip()}" if note and note.strip() else ""
        self._set_outcome(Status.BOOKED, summary, moment)
        self.conv.slots["booked"] = {"start": iso(moment), "name": who, "service": svc.key}
        self._event("booking_confirmed", summary)
        return {"ok": True, "start": iso(moment), "name": who, "service": label, "summary": summary}

    async def _record_outbound_booking(
        self, moment: datetime, name: str | None, business_name: str | None
    ) -> dict[str, Any]:
        request = self.conv.request
        who = str(name or (request.user_name if request else "") or "").strip()
        place = str(business_name or self.conv.slots.get("callee") or "").strip()
        when = summary_datetime(moment, self.lang)
        wished = (request.preferred_time or "").strip() if request else ""
        outside = bool(wished) and not self.fits_preferred(moment)
        if self._de():
            summary = f"Termin gebucht für {when}" + (f" bei {place}." if place else ".")
            summary += f" Das liegt außerhalb der Wunschzeit ({wished})." if outside else ""
            progress = f"Termin wird gebucht: {when}"
        else:
            summary = f"Appointment booked for {when}" + (f" at {place}." if place else ".")
            summary += f" That is outside the wished time ({wished})." if outside else ""
            progress = f"Booking the appointment: {when}"
        outcome = self.conv.outcome
        again = outcome.status is Status.BOOKED and outcome.appointment == moment  # "see you then" after it
        if not any(e.type == "booking_in_progress" for e in self.conv.events):
            self._event("booking_in_progress", progress)
        self._set_outcome(Status.BOOKED, summary, moment)
        self.conv.slots["booked"] = {"start": iso(moment), "name": who, "business": place}
        if not again:
            self._event("booking_confirmed", summary)
        return {"ok": True, "start": iso(moment), "summary": summary}

    @_reports_errors
    async def lookup_business_info(self, question: str, day: date | str | None = None) -> dict[str, Any]:
        """Answer a question from the business profile (hours, address, FAQ)."""
        self._require_mode(True, "lookup_business_info")
        the_day = self._day(day)
        text = str(question)
        low = text.lower()
        answers: list[str] = []
        if the_day is not None:
            answers.append(self.business.day_hours_text(the_day, self.lang))
        faq = self.business.faq_answer(text, self.lang)
        # "auf"/"zu" mean open/closed only when the question is not an FAQ ("Wie komme ich zu Ihnen?")
        asks_hours = re.search(
            r"\b(open|opening|hours|close|closed|closing|geöffnet|geschlossen|öffnungszeit\w*|offen)\b", low
        ) or (not faq and re.search(r"\b(auf|zu)\b", low))
        closed_day = the_day is not None and not self.business.hours_on_date(the_day)
        if closed_day or (the_day is None and asks_hours):
            answers.append(self.business.opening_hours_text(self.lang))
        if faq:
            answers.append(faq)
        if not answers:
            if re.search(r"\b(phone|number|nummer|telefon)\b", low):
                answers.append(self.business.phone)
            elif re.search(r"\b(service|offer|treatment|angebot|leistung|behandlung|bieten)", low):
                labels = [s.label(self.lang) for s in self.business.services]
                joined = ", ".join(labels[:-1]) + f" {phrase(self.lang, 'business.and')} " + labels[-1]
                answers.append(phrase(self.lang, "business.we_offer", services=joined))
        if not answers:
            return {
                "ok": False,
                "error": "no answer in the business profile",
                "facts": self.business.facts(self.lang),
            }
        self.conv.slots["answered"] = True
        return {"ok": True, "answer": " ".join(answers)}

    @_reports_errors
    async def transfer_to_human(self, reason: str | None = None) -> dict[str, Any]:
        """Hand the caller over to a person of the business."""
        self._require_mode(True, "transfer_to_human")
        number = self.business.transfer_number
        if not number:
            raise ToolError("no transfer number is configured for this business")
        why = re.sub(r"\s+", " ", str(reason or "")).strip()[:200].rstrip(" .!?")
        self.conv.transfer_to = number
        summary = ("An einen Mitarbeiter weitergeleitet" if self._de() else "Transferred to a colleague") + (
            f": {why}." if why else "."
        )
        self._set_outcome(Status.TRANSFERRED, summary)
        self._event("transfer_requested", summary)
        return {"ok": True, "transfer_to": number}

    @_reports_errors
    async def take_message(self, name: str, message: str, phone: str | None = None) -> dict[str, Any]:
        """Write down a message for the business."""
        self._require_mode(True, "take_message")
        who = self._text(name, "name", MAX_NAME)
        text = self._text(message, "message", MAX_MESSAGE)
        number = str(phone or "").strip()
        if self._de():
            summary = f"Nachricht von {who}" + (f" ({number})" if number else "") + f": {text}"
        else:
            summary = f"Message from {who}" + (f" ({number})" if number else "") + f": {text}"
        self._set_outcome(Status.MESSAGE_TAKEN, summary)
        self.conv.slots["message"] = {"name": who, "message": text, "phone": number}
        self._event("message_taken", summary)
        return {"ok": True, "summary": summary}

    @_reports_errors
    async def request_callback(
        self,
        phone: str | None = None,
        when: str | None = None,
        name: str | None = None,
        topic: str | None = None,
    ) -> dict[str, Any]:
        """Inbound: the caller wants a call back (``topic``: what about). Outbound: the business asked us to
        call back later."""
        when_text = re.sub(r"\s+", " ", str(when or "")).strip()[:100]
        if self.conv.mode is Mode.OUTBOUND:
            place = str(self.conv.slots.get("callee") or "").strip()
            if self._de():
                summary = f"{place or 'Die Praxis'} bittet um einen erneuten Anruf" + (
                    f" ({when_text})." if when_text else "."
                )
            else:
                summary = f"{place or 'The business'} asked us to call back" + (
                    f" {when_text}." if when_text else " later."
                )
            self._set_outcome(Status.WAITING_FOR_CALLBACK, summary)
            self.conv.slots["callback"] = {"when": when_text}
            self._event("callback_requested", summary)
            return {"ok": True, "summary": summary}
        number = str(phone or self.conv.slots.get("caller_number") or "").strip()
        if len(re.sub(r"\D", "", number)) < 5:
            raise ToolError("phone: a number to call back is needed")
        who = str(name or "").strip()[:MAX_NAME]
        if self._de():
            summary = "Rückruf erbeten" + (f" von {who}" if who else "") + f" unter {number}"
            summary += f" ({when_text})." if when_text else "."
        else:
            summary = "Callback requested" + (f" by {who}" if who else "") + f" at {number}"
            summary += f" ({when_text})." if when_text else "."
        about = re.sub(r"\s+", " ", str(topic or "")).strip()[:MAX_MESSAGE]
        summary += (f" Anliegen: {about}" if self._de() else f" About: {about}") if about else ""
        self._set_outcome(Status.CALLBACK_REQUESTED, summary)
        self.conv.slots["callback"] = {"phone": number, "when": when_text, "name": who}
        self._event("callback_requested", summary)
        return {"ok": True, "summary": summary}

    @_reports_errors
    async def leave_message(self, message: str) -> dict[str, Any]:
        """Outbound: the business does not book on the phone and passes a message on instead (someone there
        calls the user back); nothing is booked and the request waits for that callback."""
        self._require_mode(False, "leave_message")
        text = re.sub(r"\s+", " ", str(message or "")).strip()[:MAX_MESSAGE]
        place = str(self.conv.slots.get("callee") or "").strip()
        if self._de():
            summary = f"Nachricht hinterlassen bei {place or 'der Praxis'}; Rückruf erwartet: {text}"
        else:
            summary = f"Message left with {place or 'the business'}, who will call back: {text}"
        self._set_outcome(Status.WAITING_FOR_CALLBACK, summary)
        self.conv.slots["message_left"] = text
        self._event("message_left", summary)
        return {"ok": True, "summary": summary}

    async def note_tentative_slot(self, start: datetime | str) -> dict[str, Any]:
        """Outbound: the business holds ``start`` only until it has made sure of it itself ("… but I have to
        confirm with my colleague first, I'll call you back"): nothing is booked (a booking recorded before
        is undone) and the request waits for the business's call, its summary naming the slot."""
        self._require_mode(False, "note_tentative_slot")
        moment = self._moment(start)
        if moment is None:
            raise ToolError("start: must not be empty")
        self.release_outbound_booking()
        place = str(self.conv.slots.get("callee") or "").strip()
        when = summary_datetime(moment, self.lang)
        if self._de():
            who = place or "Die Praxis"
            summary = f"{who} hat {when} vorläufig vorgemerkt, noch nicht bestätigt; Rückruf erwartet."
        else:
            who = place or "The business"
            summary = f"{who} pencilled in {when}, not confirmed yet; they will call back."
        self._set_outcome(Status.WAITING_FOR_CALLBACK, summary)
        self.conv.slots["tentative"] = iso(moment)
        self._event("slot_tentative", summary)
        return {"ok": True, "summary": summary}

    @_reports_errors
    async def report_no_availability(self, reason: str | None = None) -> dict[str, Any]:
        """Outbound: the business has nothing suitable; the request fails with the reason."""
        self._require_mode(False, "report_no_availability")
        why = re.sub(r"\s+", " ", str(reason or "")).strip()[:200].rstrip(" .!?")
        place = str(self.conv.slots.get("callee") or "").strip()
        if self._de():
            summary = (
                "Kein Termin"
                + (f" bei {place}" if place else "")
                + (f": {why}" if why else ": nichts frei")
                + "."
            )
        else:
            summary = (
                "No appointment"
                + (f" at {place}" if place else "")
                + (f": {why}" if why else ": nothing free")
                + "."
            )
        self._set_outcome(Status.FAILED, summary)
        self._event("no_availability", summary)
        return {"ok": True, "summary": summary}

    @_reports_errors
    async def get_callback_number(self) -> dict[str, Any]:
        """Outbound: the user's callback number (say it only when the business asks for one)."""
        self._require_mode(False, "get_callback_number")
        request = self.conv.request
        if request is None or not request.callback_number:
            raise ToolError("the request has no callback number")
        return {"ok": True, "callback_number": request.callback_number}

    @_reports_errors
    async def end_conversation(self, reason: str | None = None, outcome: str | None = None) -> dict[str, Any]:
        """Finish after the goodbye; an undecided outcome becomes answered/abandoned (or failed outbound)."""
        self.conv.end_requested = True
        current = self.conv.outcome.status
        why = re.sub(r"\s+", " ", str(reason or "")).strip()[:200].rstrip(" .!?")
        wanted: Status | None = None
        if outcome:
            try:
                wanted = Status(str(outcome).lower())
            except ValueError as exc:
                raise ToolError(f"outcome: {outcome!r} is not a status") from exc
            allowed = _OUTBOUND_STATUSES if self.conv.mode is Mode.OUTBOUND else _INBOUND_STATUSES
            if wanted not in allowed:
                raise ToolError(f"outcome: {outcome!r} does not apply to a {self.conv.mode} conversation")
        if self.conv.mode is Mode.OUTBOUND:
            current = await self._record_agreed_slot(current)
        if current is Status.OPEN:
            if self.conv.mode is Mode.OUTBOUND:
                if wanted is None or wanted is Status.BOOKED:
                    wanted = Status.FAILED
                text = why or ("kein Termin vereinbart" if self._de() else "no appointment was made")
                summary = f"Kein Termin: {text}." if self._de() else f"No appointment: {text}."
                self._set_outcome(wanted, summary)
                self._event("call_failed" if wanted is Status.FAILED else "callback_requested", summary)
            else:
                if wanted is None or wanted is Status.BOOKED:
                    wanted = Status.ANSWERED if self._lisa_answered() else Status.ABANDONED
                if wanted is Status.ANSWERED:
                    summary = "Fragen beantwortet." if self._de() else "Questions answered."
                else:
                    summary = "Gespräch ohne Ergebnis beendet." if self._de() else "Ended without a result."
                self._set_outcome(
                    wanted, summary + (f" {why}." if why and wanted is not Status.ANSWERED else "")
                )
        return {"ok": True, "status": str(self.conv.outcome.status)}

    async def wait_for_callback(self, summary: str, event: str) -> dict[str, Any]:
        """Outbound: Lisa ends the call without a booking and the request waits to be called again (a
        message left on a mailbox, held too long, stuck in a phone menu); ``event`` names what happened."""
        self._require_mode(False, "wait_for_callback")
        self.conv.end_requested = True
        if self.conv.outcome.status is Status.OPEN:
            self._set_outcome(Status.WAITING_FOR_CALLBACK, summary)
        self._event(event, summary)
        return {"ok": True, "status": str(self.conv.outcome.status)}

    async def note_event(self, event: str, message: str) -> None:
        """Record something that happened in the call (a key pressed in a phone menu, a screener answered)."""
        self._event(event, message)

    def release_outbound_booking(self) -> None:
        """Outbound: the business took back the slot it had confirmed ("sorry, my colleague just took that
        one"); the recorded booking is undone, so that the outcome follows the agreement again."""
        self._require_mode(False, "release_outbound_booking")
        outcome = self.conv.outcome
        if outcome.status is Status.BOOKED:
            outcome.status, outcome.appointment, outcome.summary = Status.OPEN, None, ""
            self.conv.slots.pop("booked", None)

    async def _record_agreed_slot(self, current: Status) -> Status:
        """Outbound: the outcome follows what was agreed in the call (``agent.agreement``): a slot Lisa
        accepted and the business confirmed is booked even when no phrase recorded it yet."""
        from agent.agreement import agreed_slot

        agreed = agreed_slot(self.conv)
        booked = self.conv.outcome.appointment
        if agreed and (current is not Status.BOOKED or booked is None or iso(booked) != agreed):
            moment = self._moment(agreed)
            if moment is not None:
                await self._record_outbound_booking(moment, None, None)
        return self.conv.outcome.status

    def _lisa_answered(self) -> bool:
        """Whether Lisa answered something: a lookup did, or (for brains that answer from the prompt) the
        caller said at least two things and got replies."""
        if "answered" in self.conv.slots:
            return bool(self.conv.slots["answered"])
        said = [m for m in self.conv.history if m.role == "user" and re.search(r"[^\W\d_]", m.text)]
        return len(said) >= 2
