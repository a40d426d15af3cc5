"""The business profile inbound Lisa works for: name, hours, services, FAQ (``prompts/business.yaml``)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.paraphrase import ParaphraseIndex, shared_index
from agent.phrases import phrase

DEFAULT_PROFILE = Path(__file__).resolve().parent.parent / "prompts" / "business.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_DEFAULT_HOURS = {d: "08:00-18:00" for d in WEEKDAYS[:5]}


class BusinessProfileError(ValueError):
    """The business profile file is malformed (the message names the field)."""


@dataclass(frozen=True)
class Service:
    key: str
    name: dict[str, str]
    minutes: int = 30
    keywords: tuple[str, ...] = ()
    default: bool = False

    def label(self, lang: str) -> str:
        return self.name.get(str(lang)) or self.name.get("en") or self.key


@dataclass(frozen=True)
class FaqEntry:
    keywords: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    key: str = ""
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # phrasings matched by meaning

    def matches(self, text: str) -> int:
        """How many keywords (any language) occur in ``text``, weighted by length."""
        low = text.lower()
        return sum(len(k) for words in self.keywords.values() for k in words if _contains(low, k))


def _contains(low_text: str, keyword: str) -> bool:
    return _keyword_pattern(keyword).search(low_text) is not None


@cache
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword found at the start of a word (the profile's keywords are few and fixed)."""
    return re.compile(r"(?<!\w)" + re.escape(keyword.lower()))


def _hhmm(value: str, where: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError as exc:
        raise BusinessProfileError(f"{where}: {value!r} is not a HH:MM time") from exc


def _fmt_time(t: time, lang: str) -> str:
    if lang == "de":
        return f"{t.hour}" if t.minute == 0 else f"{t.hour}:{t.minute:02d}"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{hour} {suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d} {suffix}"


@dataclass
class BusinessProfile:
    name: str
    address: str = ""
    phone: str = ""
    timezone: str = "Europe/Berlin"
    transfer_number: str = ""
    hours: dict[int, tuple[time, time] | None] = field(default_factory=dict)  # weekday 0=Monday
    services: list[Service] = field(default_factory=list)
    faq: list[FaqEntry] = field(default_factory=list)
    public_holidays: dict[str, str] | None = None  # {"country": "DE", "subdiv": "BE"}
    slot_minutes: int = 30
    booking_horizon_days: int = 60
    _faq_index: ParaphraseIndex | None = field(default=None, init=False, repr=False, compare=False)
    _faq_index_built: bool = field(default=False, init=False, repr=False, compare=False)
    _faq_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays(self) -> dict[str, Any]:
        if not self.public_holidays:
            return {}
        import holidays

        country, subdiv = self.public_holidays.get("country", "DE"), self.public_holidays.get("subdiv")
        out: dict[str, Any] = {}
        for lang in ("en", "de"):
            try:
                out[lang] = holidays.country_holidays(country, subdiv=subdiv, language=lang)
            except (NotImplementedError, KeyError, ValueError):
                out[lang] = holidays.country_holidays(country, subdiv=subdiv)
        return out

    def holiday(self, day: date, lang: str = "en") -> str | None:
        """The name of the public holiday on ``day``, if the business observes one."""
        table = self._holidays.get("de" if str(lang) == "de" else "en")
        return table.get(day) if table is not None else None

    def hours_on(self, weekday: int) -> tuple[time, time] | None:
        """Opening and closing time on a weekday (0 = Monday), or None when closed."""
        return self.hours.get(weekday)

    def hours_on_date(self, day: date) -> tuple[time, time] | None:
        """Like :meth:`hours_on`, but closed on the business's public holidays."""
        if self.holiday(day):
            return None
        return self.hours_on(day.weekday())

    def is_open(self, moment: datetime) -> bool:
        """Whether the business is open at ``moment`` (naive datetimes are taken as local)."""
        local = self.local(moment)
        hours = self.hours_on_date(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def fits(self, start: datetime, minutes: int) -> bool:
        """Whether an appointment of ``minutes`` starting at ``start`` lies within one day's opening hours."""
        local = self.local(start)
        hours = self.hours_on_date(local.date())
        if hours is None:
            return False
        end = local + timedelta(minutes=minutes)
        return hours[0] <= local.time() and end.date() == local.date() and end.time() <= hours[1]

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def opening_hours_text(self, lang: str = "en") -> str:
        """The week's hours as one spoken sentence, e.g. "Monday to Friday from 8 am to 6 pm"."""
        lang = "de" if str(lang) == "de" else "en"
        names = DAY_NAMES[lang]
        groups: list[tuple[int, int, tuple[time, time] | None]] = []
        for wd in range(7):
            h = self.hours_on(wd)
            if groups and groups[-1][2] == h:
                groups[-1] = (groups[-1][0], wd, h)
            else:
                groups.append((wd, wd, h))
        and_ = f" {phrase(lang, 'business.and')} "
        open_parts, closed_days = [], []
        for first, last, h in groups:
            if first == last:
                days = names[first]
            elif last == first + 1:
                days = names[first] + and_ + names[last]
            else:
                days = phrase(lang, "business.day_range", first=names[first], last=names[last])
            if h is None:
                closed_days.append(days)
            else:
                opens, closes = _fmt_time(h[0], lang), _fmt_time(h[1], lang)
                open_parts.append(phrase(lang, "business.hours", days=days, opens=opens, closes=closes))
        if not open_parts:
            return phrase(lang, "business.closed_week")
        if closed_days:
            return phrase(
                lang,
                "business.open_week_closed_days",
                hours=", ".join(open_parts),
                days=and_.join(closed_days),
            )
        return phrase(lang, "business.open_week", hours=", ".join(open_parts))

    def day_hours_text(self, day: date | int, lang: str = "en") -> str:
        """One day's hours as a sentence: "On Saturday we're closed." / "Am Montag haben wir von 8 bis 18 Uhr geöffnet." """
        lang = "de" if str(lang) == "de" else "en"
        if isinstance(day, date):
            hours, weekday, holiday = self.hours_on_date(day), day.weekday(), self.holiday(day, lang)
        else:
            hours, weekday, holiday = self.hours_on(day), day, None
        name = DAY_NAMES[lang][weekday]
        if hours is None:
            if holiday:
                return phrase(lang, "business.holiday_closed", day=name, holiday=holiday)
            return phrase(lang, "business.day_closed", day=name)
        opens, closes = _fmt_time(hours[0], lang), _fmt_time(hours[1], lang)
        return phrase(lang, "business.day_open", day=name, opens=opens, closes=closes)

    @property
    def default_service(self) -> Service:
        for service in self.services:
            if service.default:
                return service
        return (
            self.services[0]
            if self.services
            else Service("appointment", {"en": "appointment", "de": "Termin"})
        )

    def service_for(self, text: str | None) -> Service:
        """The service a caller's words ask for (longest keyword match); the default for "appointment"."""
        if text:
            low = text.lower()
            best, score = None, 0
            for service in self.services:
                names = (service.key, *service.name.values(), *service.keywords)
                s = max((len(k) for k in names if k and _contains(low, k)), default=0)
                if s > score:
                    best, score = service, s
            if best is not None:
                return best
        return self.default_service

    def find_service(self, text: str | None) -> Service | None:
        """Like :meth:`service_for`, but None when nothing in ``text`` names a service."""
        service = self.service_for(text)
        if service is self.default_service and text:
            low = text.lower()
            names = (service.key, *service.name.values(), *service.keywords)
            if not any(k and _contains(low, k) for k in names):
                return None
        return service if text else None

    def warm_up(self) -> None:
        """Load the sentence encoder and embed the FAQ examples (~1 s, once; call it off the event loop)."""
        self._faq_paraphrases()

    def _faq_paraphrases(self) -> ParaphraseIndex | None:
        if not self._faq_index_built:
            with self._faq_lock:
                if not self._faq_index_built:
                    examples = [
                        (text, entry.key)
                        for entry in self.faq
                        for texts in entry.examples.values()
                        for text in texts
                    ]
                    self._faq_index = shared_index(examples)
                    self._faq_index_built = True
        return self._faq_index

    def faq_entry(self, text: str) -> FaqEntry | None:
        """The FAQ entry ``text`` asks about, or None.

        Entries with ``examples`` are matched by meaning (:mod:`agent.paraphrase`); a keyword of such an
        entry counts only when it agrees with the model's best guess (so "how much time do you have on
        Monday?" is no price question). Entries without examples match by keywords alone.
        """
        index = self._faq_paraphrases()
        match = index.match(text) if index is not None and text.strip() else None
        if match is not None and match.label is not None:
            return next(entry for entry in self.faq if entry.key == match.label)
        best, score = None, 0
        for entry in self.faq:
            s = entry.matches(text)
            if s > score:
                best, score = entry, s
        if best is not None and match is not None and best.examples and match.best != best.key:
            # "How much is a massage?" sits near "Do you do massages?" (no FAQ) because of the service's
            # name: the keyword counts when the question asks it about any treatment too
            for word in ("treatment", "Behandlung"):
                neutral = self._without_services(text, word)
                again = index.match(neutral) if index is not None and neutral != text else None
                if again is not None and again.label == best.key and again.margin >= _CLEAR_MARGIN:
                    return best
            return None
        return best

    def _without_services(self, text: str, word: str) -> str:
        """``text`` with the names of the services replaced by ``word``."""
        names = {n for s in self.services for n in (*s.keywords, *s.name.values()) if n}
        for name in sorted(names, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(name)}(?:s|en|n)?\b", word, text, flags=re.IGNORECASE)
        return text

    def faq_entries(self, text: str) -> list[FaqEntry]:
        """The FAQ entries ``text`` asks about, one per question sentence ("Do you take private patients?
        What does it cost?" asks two), in order; empty when it asks none."""
        parts = [p for p in _QUESTION_SPLIT.split(text.strip()) if p and len(p.split()) >= 2]
        found: list[FaqEntry] = []
        for part in parts[:3] if len(parts) > 1 else [text]:
            entry = self.faq_entry(part)
            if entry is not None and all(entry.key != e.key for e in found):
                found.append(entry)
        if not found and len(parts) > 1:
            entry = self.faq_entry(text)
            found = [entry] if entry is not None else []
        return found

    def faq_answer(self, text: str, lang: str = "en") -> str | None:
        """The answers of the FAQ entries ``text`` asks about (see :meth:`faq_entries`), or None. How long a
        service takes comes from the services' minutes ("How long does a first appointment take?")."""
        answers: list[str] = []
        if _HOW_LONG.search(text) and not _OPEN_WORDS.search(text):
            service = self.service_for(text)
            answers.append(
                phrase(lang, "business.duration", service=service.label(lang), minutes=service.minutes)
            )
            parts = _QUESTION_SPLIT.split(text.strip())
            text = ". ".join(p for p in parts if p and not _HOW_LONG.search(p))
        if text.strip():
            answers += [e.answer.get(str(lang)) or e.answer.get("en") or "" for e in self.faq_entries(text)]
        return " ".join(a for a in answers if a) or None

    def facts(self, lang: str = "en") -> str:
        """Everything Lisa may tell callers, as plain lines (for the LLM system prompt)."""
        lang = "de" if str(lang) == "de" else "en"
        services = ", ".join(f"{s.label(lang)} ({s.minutes} min)" for s in self.services)
        lines = [
            f"Name: {self.name}",
            f"Address: {self.address}",
            f"Phone: {self.phone}",
            f"Opening hours: {self.opening_hours_text(lang)}",
            f"Services: {services}; default service: {self.default_service.label(lang)}",
        ]
        lines += [f"FAQ: {e.answer.get(lang) or e.answer.get('en')}" for e in self.faq]
        return "\n".join(lines)


# "How long does a first appointment take?", "Wie lange dauert eine Massage?": a service's duration
_HOW_LONG = re.compile(
    r"\bhow long (?:does|do|will|would|is|are|'s|should)\b|\bwie lange? (?:dauert|dauern|geht|ist|sind|braucht)\b"
    r"|\b(?:how much time|wie viel zeit)\b(?=.*\b(?:takes?|lasts?|plan|needs?|dauert|einplanen|brauch\w*|rechnen)\b)",
    re.IGNORECASE,
)
# where one question ends and the next begins: after ? ! . ; or at "and" before a question word ("Where are
# you located, and is there parking?")
_QUESTION_SPLIT = re.compile(
    r"(?<=[?!.;])\s+|,?\s+\b(?:and|und)\s+(?=(?:is|are|do|does|can|could|would|what|where|when|how|gibt|haben|"
    r"hat|hätten|wo|was|wann|wie|kann|könnten|muss|ist)\b)|,\s+(?=(?:do|does|is|are|can|could|where|what|how)\s)",
    re.IGNORECASE,
)


def question_parts(text: str) -> list[str]:
    """The questions and sentences of ``text``, split where one ends and the next begins."""
    return [p for p in _QUESTION_SPLIT.split(text.strip()) if p and p.strip()]


_OPEN_WORDS = re.compile(r"\b(open|closed?|geöffnet|offen|auf|zu|hours|öffnungszeit\w*)\b", re.IGNORECASE)
_CLEAR_MARGIN = 0.15  # a question with its service names neutralised must match this clearly


def _parse_hours(raw: Any) -> dict[int, tuple[time, time] | None]:
    if raw is None:
        raw = _DEFAULT_HOURS
    if not isinstance(raw, dict):
        raise BusinessProfileError("hours: expected a mapping of weekday -> 'HH:MM-HH:MM' or 'closed'")
    hours: dict[int, tuple[time, time] | None] = {}
    for key, value in raw.items():
        day = str(key).lower()
        if day not in WEEKDAYS:
            raise BusinessProfileError(f"hours.{key}: not a weekday name (monday … sunday)")
        if value in (None, False) or str(value).strip().lower() in ("closed", "", "-"):
            hours[WEEKDAYS.index(day)] = None
            continue
        parts = str(value).split("-")
        if len(parts) != 2:
            raise BusinessProfileError(f"hours.{key}: {value!r} is not 'HH:MM-HH:MM'")
        opens, closes = _hhmm(parts[0], f"hours.{key}"), _hhmm(parts[1], f"hours.{key}")
        if closes <= opens:
            raise BusinessProfileError(f"hours.{key}: closing time must be after opening time")
        hours[WEEKDAYS.index(day)] = (opens, closes)
    return hours


def _lang_map(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value, "de": value}
    if not isinstance(value, dict) or not value:
        raise BusinessProfileError(f"{where}: expected a text or a mapping en/de -> text")
    return {str(k): str(v) for k, v in value.items()}


def _phrases(value: Any, where: str, lower: bool = False) -> dict[str, tuple[str, ...]]:
    """A list of phrases (English) or a mapping language -> list of phrases."""
    if isinstance(value, list | tuple):
        value = {"en": value}
    if not isinstance(value, dict) or not all(isinstance(v, list | tuple) for v in value.values()):
        raise BusinessProfileError(f"{where}: expected a list or a mapping en/de -> list")
    return {str(k): tuple(str(w).lower() if lower else str(w) for w in v) for k, v in value.items()}


def business_from_dict(data: dict[str, Any]) -> BusinessProfile:
    """Build a profile from the YAML structure (see ``prompts/business.yaml``)."""
    if not isinstance(data, dict):
        raise BusinessProfileError("business profile: expected a mapping at the top level")
    if not str(data.get("name") or "").strip():
        raise BusinessProfileError("name: the business needs a name")
    services = []
    for i, raw in enumerate(data.get("services") or []):
        if not isinstance(raw, dict) or not raw.get("key"):
            raise BusinessProfileError(f"services[{i}].key: every service needs a key")
        minutes = raw.get("minutes", 30)
        if not isinstance(minutes, int) or minutes <= 0:
            raise BusinessProfileError(f"services[{i}].minutes: expected a positive whole number")
        services.append(
            Service(
                key=str(raw["key"]),
                name=_lang_map(raw.get("name", raw["key"]), f"services[{i}].name"),
                minutes=minutes,
                keywords=tuple(str(k).lower() for k in raw.get("keywords") or ()),
                default=bool(raw.get("default", False)),
            )
        )
    faq = []
    for i, raw in enumerate(data.get("faq") or []):
        if not isinstance(raw, dict) or "answer" not in raw or "keywords" not in raw:
            raise BusinessProfileError(f"faq[{i}]: needs keywords and answer")
        faq.append(
            FaqEntry(
                keywords=_phrases(raw["keywords"], f"faq[{i}].keywords", lower=True),
                answer=_lang_map(raw["answer"], f"faq[{i}].answer"),
                key=str(raw.get("key") or f"faq{i}"),
                examples=_phrases(raw.get("examples") or {}, f"faq[{i}].examples"),
            )
        )
    keys = [entry.key for entry in faq]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise BusinessProfileError(f"faq[{i}].key: {key!r} is used twice")
    return BusinessProfile(
        name=str(data["name"]).strip(),
        address=str(data.get("address") or ""),
        phone=str(data.get("phone") or ""),
        timezone=str(data.get("timezone") or "Europe/Berlin"),
        transfer_number=str(data.get("transfer_number") or data.get("phone") or ""),
        hours=_parse_hours(data.get("hours")),
        services=services,
        faq=faq,
        public_holidays=data.get("public_holidays") or None,
        slot_minutes=int(data.get("slot_minutes") or 30),
        booking_horizon_days=int(data.get("booking_horizon_days") or 60),
    )


def load_business(path: str | Path | None = None) -> BusinessProfile:
    """Load the business profile YAML (default: ``prompts/business.yaml``)."""
    path = Path(path) if path else DEFAULT_PROFILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BusinessProfileError(f"business profile {path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise BusinessProfileError(f"business profile {path}: not valid YAML ({exc})") from exc
    return business_from_dict(data)
