"""Dates and times as people say them on the phone (en + de), relative to Lisa's clock.

``parse_when("next Monday at half past ten", now)`` -> ``When(day=..., time=10:30)``. Spoken times, weekdays,
relative days, week spans and windows ("10-12", "vormittags") are parsed here with pre-compiled regexes;
calendar dates with a month name ("December 2nd", "2. Dezember") go to ``dateparser``.

Semantics (documented in tests/test_when.py):
- "Monday" / "am Montag" / "coming Monday": the next Monday strictly after today.
- "this Friday" / "diesen Freitag": Friday of the current week (the next one when it has passed).
- "next Monday" / "nächsten Montag": Monday of next calendar week (said on Monday 23rd -> Monday 30th).
- "next week" / "nächste Woche": Monday..Friday of next week; with a weekday, that weekday of next week.
- "übernächsten Mittwoch" / "the Wednesday after next": one week after "nächsten Mittwoch"; "in two weeks on
  Wednesday" / "in zwei Wochen am Mittwoch": the Wednesday of the week two weeks on (alone: the day 14 days on).
- "Tuesday or Thursday" / "Mo, Di oder Mi": the earliest is ``day``, the others ``or_days``; a weekday said plainly
  is ``weekly`` (a later one of it meets the same wish, see :meth:`When.allows_day`).
- "not before / ab / frühestens / after the 10th", "the 10th or later": an open span from that day (after: the
  next); "before Friday", "spätestens am 4.", "by the 10th": a span from today. "until"/"bis" bound nothing ("I'm
  away until the 10th"). An offer from a day on ("ab dem 14. um 10") offers that day (:func:`parse_offers`).
- Weekday abbreviations ("Do", "Di.", "Fr", "wed") are days only where a weekday can stand: before a time, date or
  part of the day, in a list of weekdays, after "am"/"on"; never as words ("can we do this", "Fr. Weber").
- Hours 1-7 said without am/pm or a morning word mean the afternoon ("at 4" -> 16:00, "halb zwei" -> 13:30).
- "halb elf" is 10:30; "half past ten" and British "half ten" are 10:30.
- Spoken clock times are exact times: "ten to eleven" / "zehn vor elf" 10:50 (in words anywhere; in digits "10 to
  11" is a window 10-11 unless "at" stands before it), "viertel elf" 10:15, "dreiviertel elf" 10:45, "Punkt elf",
  "at 9 sharp", "um zehn rum", "around ten", "gegen zehn", "ten-ish" the hour itself, "gegen Mittag" 12:00,
  "Tuesday 1430" / "morgen 0930" (digits after a day word, on the five-minute grid) 14:30 / 9:30.
- "kurz nach zehn" / "just after ten" is the window [10:00, 10:30) (10:00 and 10:15 fit, 10:30 does not);
  "kurz vor drei" / "shortly before three" [14:30, 15:00): the half hour on the side said, so a booking offers
  the first free slot in it and an outbound offer is accepted only inside it (not "halb elf", not "um drei").
- "first thing in the morning" is the early morning (8-10); "end of the day", "late in the day", "gegen
  Feierabend" the late afternoon (15-18); never "by the end of the day" (a deadline) or "at the end of the day,
  it's up to you".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dtime

__all__ = [
    "When",
    "parse_when",
    "parse_offers",
    "SMALL_TALK",
    "OWN_DAY",
    "parse_bare_time",
    "say_day",
    "say_time",
    "say_datetime",
    "warm_up",
]


OPEN_SPAN_DAYS = 14  # the days an open span ("from the 10th on") lists in :meth:`When.days`


@dataclass(frozen=True)
class When:
    """What a phrase says about the day and time of an appointment; any field may be missing."""

    day: date | None = None  # one specific day
    time: dtime | None = None  # an exact time of day
    earliest: dtime | None = None  # a window within the day (either end may be open)
    latest: dtime | None = None
    first_day: date | None = None  # a span of days ("next week" -> Mon..Fri); open at the end ("not before
    last_day: date | None = None  # the 10th": last_day None) or starting today ("before the 10th")
    text: str = ""  # the phrase that was understood
    or_days: tuple[date, ...] = ()  # more days said with "or" ("Tuesday or Thursday": day is the earliest)
    weekly: bool = False  # a weekday said plainly ("Wednesday afternoon"): a later one of it is the same wish

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in (self.day, self.time, self.earliest, self.latest, self.first_day))

    def combine(self, later: When | None) -> When:
        """Merge what was said later into this (a later day replaces span and day; a later time the window)."""
        if later is None or later.is_empty:
            return self
        new = self
        if later.day is not None or later.first_day is not None:
            new = replace(
                new,
                day=later.day,
                first_day=later.first_day,
                last_day=later.last_day,
                or_days=later.or_days,
                weekly=later.weekly,
            )
        if later.time is not None:
            new = replace(new, time=later.time, earliest=None, latest=None)
        elif later.earliest is not None or later.latest is not None:
            new = replace(new, time=None, earliest=later.earliest, latest=later.latest)
        text = f"{self.text} {later.text}".strip() if self.text else later.text
        return replace(new, text=text)

    def days(self) -> list[date]:
        """The days this phrase allows: the day (and those said with "or"), every day of the span (of an open
        span its first two weeks), or nothing when no day was said."""
        if self.day is not None:
            return sorted({self.day, *self.or_days})
        if self.first_day is not None:
            last = self.last_day or self.first_day + timedelta(days=OPEN_SPAN_DAYS - 1)
            return [self.first_day + timedelta(days=i) for i in range((last - self.first_day).days + 1)]
        return []

    def allows_day(self, day: date) -> bool:
        """Whether ``day`` fits what was said: the day or one said with "or" (a plain weekday also in a later
        week), a day of the span (open at its end or not), or any day when none was said."""
        if self.day is not None:
            said = {self.day, *self.or_days}
            if day in said:
                return True
            return self.weekly and day > min(said) and day.weekday() in {d.weekday() for d in said}
        if self.first_day is not None and day < self.first_day:
            return False
        return self.last_day is None or day <= self.last_day

    def matches(self, moment: datetime) -> bool:
        """Whether a start time fits what was said (day/span, exact time, window)."""
        if not self.allows_day(moment.date()):
            return False
        t = moment.time().replace(second=0, microsecond=0, tzinfo=None)
        if self.time is not None:
            return t == self.time
        if self.earliest is not None and t < self.earliest:
            return False
        return not (self.latest is not None and t >= self.latest)

    def candidates(
        self,
        now: datetime,
        *,
        opens: dtime = dtime(8, 0),
        closes: dtime = dtime(18, 0),
        step_minutes: int = 30,
        horizon_days: int = 14,
        weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    ) -> Iterator[datetime]:
        """Start times after ``now`` that fit this phrase, earliest first (aware, in ``now``'s timezone).

        Only days in ``weekdays`` (0 = Monday) and times in [opens, closes) are offered; without any day the
        search runs ``horizon_days`` ahead from today.
        """
        days = self.days() or [now.date() + timedelta(days=i) for i in range(horizon_days + 1)]
        for d in days:
            if d.weekday() not in weekdays or d < now.date():
                continue
            if self.time is not None:
                slots = [self.time]
            else:
                lo = max(opens, self.earliest) if self.earliest else opens
                hi = min(closes, self.latest) if self.latest else closes
                slots = []
                m = _minutes(lo)
                m += (-m) % step_minutes  # round up to the step grid
                while m < _minutes(hi):
                    slots.append(dtime(m // 60, m % 60))
                    m += step_minutes
            for t in slots:
                moment = datetime.combine(d, t, tzinfo=now.tzinfo)
                if moment > now:
                    yield moment


# --------------------------------------------------------------------------------------------- words

_EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_DE_UNITS = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
]
_DE_TENS = {"zwanzig": 20, "dreißig": 30, "vierzig": 40, "fünfzig": 50}
_DE_ONES = {
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_EN_ORD = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_DE_ORD_STEMS = [
    "nullt",
    "erst",
    "zweit",
    "dritt",
    "viert",
    "fünft",
    "sechst",
    "siebt",
    "acht",
    "neunt",
    "zehnt",
    "elft",
    "zwölft",
    "dreizehnt",
    "vierzehnt",
    "fünfzehnt",
    "sechzehnt",
    "siebzehnt",
    "achtzehnt",
    "neunzehnt",
]


def _number_words() -> dict[str, str]:
    """Spoken number words of both languages -> digits; ordinals -> "3rd"/"3." (day of month)."""
    words: dict[str, str] = {}
    for n, w in enumerate(_EN_UNITS):
        words[w] = str(n)
    for n, w in enumerate(_DE_UNITS):
        words[w] = str(n)
    for tens_word, tens in _EN_TENS.items():
        words[tens_word] = str(tens)
        for n in range(1, 10):
            words[f"{tens_word}-{_EN_UNITS[n]}"] = words[f"{tens_word} {_EN_UNITS[n]}"] = str(tens + n)
    for tens_word, tens in _DE_TENS.items():
        words[tens_word] = str(tens)
        for w, n in [*_DE_ONES.items(), ("zwo", 2)]:
            words[f"{w}und{tens_word}"] = str(tens + n)
    suffix = {1: "st", 2: "nd", 3: "rd"}
    for n, w in enumerate(_EN_ORD[1:], start=1):
        words[w] = f"{n}{suffix.get(n, 'th')}"
    for n in (20, 30):
        base = "twentieth" if n == 20 else "thirtieth"
        words[base] = f"{n}th"
        for k in range(1, 10 if n == 20 else 2):
            words[f"{'twenty' if n == 20 else 'thirty'}-{_EN_ORD[k]}"] = f"{n + k}{suffix.get(k, 'th')}"
            words[f"{'twenty' if n == 20 else 'thirty'} {_EN_ORD[k]}"] = f"{n + k}{suffix.get(k, 'th')}"
    de_ord = {n: s for n, s in enumerate(_DE_ORD_STEMS) if n}
    de_ord[20] = "zwanzigst"
    de_ord[30] = "dreißigst"
    for w, n in _DE_ONES.items():
        de_ord[20 + n] = f"{w}undzwanzigst"
    de_ord[31] = "einunddreißigst"
    for n, stem in de_ord.items():
        for ending in ("e", "en", "er", "es", "em"):
            words[stem + ending] = f"{n}."
    words.pop("second")  # "just a second": only "the second" is a day (see _SECOND)
    words["zwo"] = "2"  # German phone speech
    return words


_WORDS = _number_words()
_WORD_RE = re.compile(
    r"(?<!\w)(?:(?:twenty|thirty|forty|fifty)[ -](?:one|two|three|four|five|six|seven|eight|nine|first|second|"
    r"third|fourth|fifth|sixth|seventh|eighth|ninth)|[^\W\d_]+)(?!\w)"
)


def _word_number(m: re.Match[str]) -> str:
    """A number word as digits ("twenty-five" -> "25", "dritten" -> "3."); any other word unchanged."""
    word = m.group(0)
    if word in _WORDS:
        return _WORDS[word]
    if " " in word or "-" in word:
        return "".join(_WORDS.get(part, part) for part in re.split(r"([ -])", word))
    return word


_COMPACT = re.compile(  # Whisper writes "at 930", "at 1030 am"
    r"\b(at|um|around|about|gegen|by|ab|from|von|until|till|before|after|bis|to|and|und|between|zwischen)"
    r"\s+(\d{1,2})(\d{2})(?![\d.:,]\d)|(?<![\d.:,])(\d{1,2})(\d{2})(?=\s*(?:a\.?\s?m\b|p\.?\s?m\b"
    r"|(?:on|am)\s+(?:mon|tue|wed|thu|fri|sat|di|mi|do|fr)|o'?clock|uhr\b))"  # "250 on Wednesday"
)


def _compact_time(m: re.Match[str]) -> str:
    prep, h, mm = (m.group(1), m.group(2), m.group(3)) if m.group(1) else ("", m.group(4), m.group(5))
    if int(h) > 23 or int(mm) > 59:
        return m.group(0)
    return f"{prep} {int(h)}:{mm}" if prep else f"{int(h)}:{mm}"


def _day_compact_time(m: re.Match[str]) -> str:
    """ "Tuesday 1430" -> "Tuesday 14:30"; minutes off the five-minute grid are no time ("Tuesday 2026")."""
    day, h, mm = m.group(1), m.group(2), m.group(3)
    return f"{day}{int(h)}:{mm}" if int(mm) % 5 == 0 else m.group(0)


_OH = re.compile(r"\b(\d{1,2})\s+oh?\s+(\d)\b")  # "ten oh five" -> 10:05
_POINT_ZERO = re.compile(
    r"(?<![\d.:])(\d{1,2})\.0(?!\d|[.:]\d)"
)  # Whisper's "at 10.0" for "at ten (am)" -> 10:00
_DAY_PART_DE = re.compile(  # "Montagvormittag", "Montag Morgen", "heute Morgen": a day part, not "tomorrow"
    r"\b(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|heute)\s*(vormittag|nachmittag|morgen|mittag|abend)s?\b"
)
_AFTER_WORK = re.compile(  # "ideally Wednesday after work", "nach Feierabend": the evening window
    r"\b(?:after (?:work|school|i finish work|my shift|office hours)|nach (?:der|meiner) arbeit|nach feierabend|"
    r"nach dem dienst|nach der schule)\b"
)
_SECOND = re.compile(r"(?<=\bthe )second\b|\bsecond(?= of\b)")
# speech recognition's "quarter pass 2", "half path ten", "ten passed three": past; and "quarter past to" with no
# number after it: "two" heard as "to"
_PAST_HEARD = re.compile(r"\b(quarter|half|\d{1,2})\s+(?:minutes?\s+)?(?:pass|passed|path)\b")
_PAST_TO = re.compile(r"\b(quarter|half)\s+past\s+(?:to|too)\b(?!\s*\d)")
_EIN_UHR = re.compile(r"\bein(?= uhr\b)")
_SPELLINGS = {
    "naechst": "nächst",
    "uebernaechst": "übernächst",
    "uebermorgen": "übermorgen",
    "dreissig": "dreißig",
    "fuenf": "fünf",
    "zwoelf": "zwölf",
    "maerz": "märz",
    "frueh": "früh",
    "fuer": "für",
    "spaetestens": "spätestens",
    "spaeter": "später",
}
_SPELLING_RE = re.compile(r"(?:" + "|".join(_SPELLINGS) + r")")
_GREETINGS = re.compile(
    r"\b(?:good (?:morning|afternoon|evening|night)|(?:guten|schönen|gute[nr]?) (?:morgen|tag|abend|nacht)"
    r"(?: noch)?|(?:a )?nice (?:day|evening|weekend)|schönes wochenende|just a (?:second|moment)|"
    r"one (?:second|moment)|einen (?:moment|augenblick)|morning,? (?:dear|all)|mahlzeit"
    r"|(?:help|assist|do for) you(?: with)? today|(?:ihnen|dir|euch) heute (?:helfen|behilflich)"
    r"|heute für sie tun|was kann ich heute"
    r"|the (?:first|second|third|last|other|earlier|later) (?:one|option|time|slot)"  # a pick, not a date
    # … but "Mittwoch, den zweiten" is a date: a weekday before it
    r"|(?<!tag, )(?<!tag )(?<!woch, )(?<!woch )(?:den|die|das) (?:ersten?|zweiten?|letzten?|anderen?)"
    r"(?: (?:termin|uhrzeit|option))?)\b"
)


# --------------------------------------------------------------------------------------------- text with offsets


class _Text:
    """A normalised copy of the input that remembers which original characters each character came from."""

    def __init__(self, original: str) -> None:
        self.original = original
        chars = [c.lower() if len(c.lower()) == 1 else c for c in original]
        s = "".join(chars)
        for a, b in (("’", "'"), ("`", "'"), ("–", "-"), ("—", "-"), ("\u00a0", " ")):
            s = s.replace(a, b)
        self.s = s
        self.spans = [(i, i + 1) for i in range(len(s))]

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> None:
        if pattern.search(self.s) is None:
            return  # most patterns find nothing in a turn: no copy of the text and its spans
        out: list[str] = []
        spans: list[tuple[int, int]] = []
        i = 0
        for m in pattern.finditer(self.s):
            out.append(self.s[i : m.start()])
            spans.extend(self.spans[i : m.start()])
            new = repl(m)
            if m.end() > m.start():
                span = (self.spans[m.start()][0], self.spans[m.end() - 1][1])
            else:
                span = self.spans[m.start()] if m.start() < len(self.spans) else (len(self.original),) * 2
            out.append(new)
            spans.extend([span] * len(new))
            i = m.end()
        out.append(self.s[i:])
        spans.extend(self.spans[i:])
        self.s = "".join(out)
        self.spans = spans

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


# --------------------------------------------------------------------------------------------- patterns

_MONTHS = {
    1: r"jan(?:uary|uar)?",
    2: r"feb(?:ruary|ruar)?",
    3: r"mar(?:ch)?|märz|mrz",
    4: r"apr(?:il)?",
    5: r"may|mai",
    6: r"june?|juni",
    7: r"july?|juli",
    8: r"aug(?:ust)?",
    9: r"sep(?:t(?:ember)?)?",
    10: r"oct(?:ober)?|okt(?:ober)?",
    11: r"nov(?:ember)?",
    12: r"dec(?:ember)?|dez(?:ember)?",
}
_MONTH = "(?:" + "|".join(_MONTHS.values()) + ")"
_MONTH_RES = [(n, re.compile(rf"(?:{p})\.?$")) for n, p in _MONTHS.items()]
_ORD = r"(?:st|nd|rd|th|\.)"
_YEAR = r"(?:,?\s*(20\d\d))?"
_DATE_DM = re.compile(rf"\b(?:the\s+)?(?<![\d:.,])(\d{{1,2}}){_ORD}?\s*(?:of\s+)?({_MONTH})\b\.?{_YEAR}")
_DATE_MD = re.compile(rf"\b({_MONTH})\b\.?\s+(?:the\s+)?(\d{{1,2}}){_ORD}?(?![\d:]|\.\d){_YEAR}")
_DATE_ISO = re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
_DATE_NUM = re.compile(
    r"(?:\b(?:am|den|on|zum|vom|ab|bis)\s+)?(?<!um )(?<!at )(?<!gegen )(?<![\d.:])(\d{1,2})\.(\d{1,2})\."
    r"(?:(\d{4}|\d{2})(?!\d))?"
)
_DOM_EN = re.compile(
    r"\b(?:on\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b|the\s+(\d{1,2})(?:st|nd|rd|th)\b"
    r"(?=\s*(?:$|[,.!?;]|at\b|in\b|or\b|and\b|between\b|from\b|around\b|would\b|is\b|works?\b|please\b"
    r"|then\b|morning|afternoon|evening|\d))"
    # right after a weekday, as speech recognition writes "Tuesday the first": "Tuesday 1st", "Wednesday, 2nd"
    r"|(?:(?<=day\s)|(?<=day,\s))(\d{1,2})(?:st|nd|rd|th)\b)"
)
# "am 2.", never the ordinal of a noun ("am 2. Weihnachtsfeiertag", "den 2. Termin", "am 3. Advent")
_DOM_DE = re.compile(
    r"\b(?:am|den|dem|zum|vom|bis zum|ab dem)\s+(\d{1,2})\.(?!\d)"
    r"(?!\s*(?:weihnachts\w*|advent\w*|oster\w*|pfingst\w*|feiertag\w*|termin\w*|mal\b|versuch\w*|stock\b|etage|"
    r"klasse|quartal\w*|woche\w*|wochenende|monat\w*|jahr\w*|tag\b|behandlung\w*|sitzung\w*))",
    re.IGNORECASE,
)
# the holidays that have a date of their own: (month, day) by name, en + de
_HOLIDAYS = {
    "christmas eve": (12, 24), "heiligabend": (12, 24), "heilig abend": (12, 24), "heiligen abend": (12, 24),
    "christmas day": (12, 25), "erster weihnachtsfeiertag": (12, 25),
    "ersten weihnachtsfeiertag": (12, 25), "1. weihnachtsfeiertag": (12, 25), "boxing day": (12, 26),
    "zweiter weihnachtsfeiertag": (12, 26), "zweiten weihnachtsfeiertag": (12, 26),
    "2. weihnachtsfeiertag": (12, 26), "new year's eve": (12, 31), "new years eve": (12, 31), "silvester": (12, 31),
    "new year's day": (1, 1), "new years day": (1, 1), "neujahr": (1, 1), "neujahrstag": (1, 1),
}  # fmt: skip
_HOLIDAY = re.compile(
    r"\b(?:on\s+|an\s+|am\s+|zu\s+)?("
    + "|".join(re.escape(h) for h in sorted(_HOLIDAYS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)

_REL_DAY = re.compile(
    r"\b(?:heute\s+in\s+(?:a|one|einer|1)\s+woche"  # before "heute" alone: a week from today
    r"|(?:the\s+)?day\s+after\s+tomorrow|übermorgen|tomorrow|(?<!am )(?<!der )morgen(?!s)|today|heute|tonight"
    r"|in\s+(\d{1,2}|a|one|einem|1)\s+(days?|tag(?:en)?|weeks?|wochen?)"
    r"|in\s+(?:a|one|einer|1)\s+woche)\b"
)
_WEEK = re.compile(
    r"\b(?:(early|beginning of|start of|anfang|end of|ende|late|later|mitte|middle of|mid)\s*)?"
    r"(?:(?:the\s+)?(?:week\s+after\s+next|übernächste[nr]?\s+woche)"
    r"|(next|this|the\s+coming|coming|the|der|nächste[nrs]?|kommende[nrs]?|diese[rns]?|in\s+der\s+nächsten|"
    r"in\s+dieser|im\s+laufe\s+der)\s+(week|woche|weekend|wochenende)"
    r"|(?:am|at\s+the|on\s+the|over\s+the)\s+(weekend|wochenende)"
    r"|(week|woche)\s+after\s+next)\b"
)
# "… or next (week)" right after a week, and "this or" right before one: a span of both weeks
_OR_NEXT_WEEK = re.compile(
    r"\s*,?\s*(?:or|oder)\s+(?:the\s+)?(?:next|following|nächste\w*|kommende\w*)(?:\s+(?:one|week|woche))?\b",
    re.IGNORECASE,
)
_THIS_OR = re.compile(r"\b(?:this|diese\w*)\s+(?:or|oder)\s+$", re.IGNORECASE)
_MONTH_SPAN = re.compile(
    rf"\b(?:(early|beginning\s+of|start\s+of|anfang|mid|middle\s+of|mitte|end\s+of|ende|late)[\s-]+)?"
    rf"(?:(?:in|im|for)\s+)?(?:(?:the\s+)?(this|next|diese[nm]?|nächste[nm]?|kommende[nm]?)\s+(month|monat)"
    rf"|({_MONTH}))\b(?!\.?\s*\d)"
)
_WD_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD_DE = ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"]
_WD_WORDS = {w: i for i, w in enumerate(_WD_EN)} | {w: i for i, w in enumerate(_WD_DE)} | {"sonnabend": 5}
_WD_ABBR_EN = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4}
_WD_ABBR_DE = {"mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5}
_WD_NAMES = "|".join(sorted(_WD_WORDS, key=len, reverse=True))


# "Fr." before a title or after "bei" is "Frau" ("bei Fr. Dr. Berg", "Nachricht für Fr. Prof. Lang"), no Friday
_FRIDAY_ABBR = r"(?<!\bbei )(?<!\bmit )(?<!\bvon )fr(?!\.?\s*(?:dr|prof|doktor|professor\w*|med)\b)"


def _weekday_re(abbr: dict[str, int]) -> re.Pattern[str]:
    names = _WD_NAMES + "|" + "|".join(sorted(abbr, key=len, reverse=True))
    names = re.sub(r"(?<=\|)fr(?=\||$)", lambda m: _FRIDAY_ABBR, names)
    return re.compile(
        r"\b(?:(next|this|coming|the\s+coming|last|übernächste[nrs]?|nächste[nrs]?|kommende[nrs]?|diese[nrs]?"
        r"|letzte[nrs]?)\s+)?"
        rf"(?:(?:on|am|an\s+einem|on\s+a)\s+)?({names})(?:s|\.)?\b"
        r"(?:\s*,?\s*(?:of\s+)?(next|this|nächste[nr]?|kommende[nr]?|diese[nr]?|in\s+der\s+nächsten|in\s+dieser)"
        r"\s+(?:week|woche)\b|\s+(after\s+next)\b)?"
    )


_WEEKDAY = {"en": _weekday_re(_WD_ABBR_EN), "de": _weekday_re(_WD_ABBR_DE)}
_WD_ANY = "|".join(sorted([*_WD_WORDS, *_WD_ABBR_EN, *_WD_ABBR_DE], key=len, reverse=True))
# what may stand between weekdays said as alternatives ("Tuesday or Thursday", "Mo, Di oder Mi", "Monday and
# Tuesday", "Dienstag oder eventuell Mittwoch")
_OR_DAYS = re.compile(
    r"[\s,./]*(?:\b(?:or|oder|and|und|either|entweder)\b[\s,]*)*"
    r"(?:\b(?:maybe|perhaps|possibly|vielleicht|eventuell|auch|also)\b\s*)?"
)
# a weekday abbreviation is a day after "am"/"on"/"next" …, after another weekday and a list word, or before a
# time, a date, a part of the day or another weekday; never right after a verb or pronoun ("can we do 10 am")
_ABBR_BEFORE_DAY = re.compile(
    r"\b(?:am|on|jeden|every|this|next|coming|nächste[nrs]?|kommende[nrs]?|diese[nrs]?|übernächste[nrs]?)\s+$"
)
_ABBR_AFTER_WEEKDAY = re.compile(
    rf"\b(?:{_WD_ANY})\.?\s*(?:,|/|-|–|\bbis\b|\bto\b|\boder\b|\bor\b|\bund\b|\band\b)\s*$"
)
_ABBR_BEFORE_WHEN = re.compile(
    rf"\.?\s*,?\s*(?:(?:den|the)\s+)?(?:\d|(?:um|at|ab|gegen|from|von)\s+\d|(?:vor|nach|mit)?(?:mittags?|morgens?)\b"
    r"|vormittags?|nachmittags?|abends?|früh|morning|afternoon|evening|noon|appointment|appt|session|slot|termin"
    rf"|(?:[-–/,]|\bbis\b|\bto\b|\btill\b|\boder\b|\bor\b|\bund\b|\band\b)\s*(?:{_WD_ANY})\b)"
)
_ABBR_AFTER_VERB = re.compile(
    r"\b(?:we|i|you|they|he|she|can|could|would|will|to|not|don'?t|let'?s|please|pfiat|servus)\s+$"
)
# where a day said is one end of an open span: "not before", "ab", "after", "before", "spätestens" … before it
_BOUND_LEAD = re.compile(r"(?:(?:ab|am|an|on|the|den|dem|der|zum|vom)\s+)*")
_BOUND_BEFORE = re.compile(
    r"\b(?:(?P<from>not\s+before|nicht\s+vor|no\s+earlier\s+than|not\s+earlier\s+than|nicht\s+früher\s+als"
    r"|frühestens|at\s+the\s+earliest"
    r"|earliest|ab|starting|beginning)"
    r"|(?P<after>after|nach|later\s+than|später\s+als)"
    r"|(?P<until>no\s+later\s+than|not\s+later\s+than|nicht\s+später\s+als|not\s+after|nicht\s+nach|spätestens"
    r"|bis\s+spätestens|at\s+the\s+latest)"
    r"|(?P<before>before|vor|earlier\s+than|früher\s+als))"
    r"(?:\s+(?:on|am|an|the|dem|den|der|zum))*\s*$"
    r"|\b(?P<by>by)(?:\s+the)?\s*$"
)
# … or after it: "the 10th or later", "Mittwoch frühestens", "Friday at the latest" (not before a time)
_BOUND_AFTER = re.compile(
    r"[\s,.]*(?:(or\s+later|or\s+after|and\s+later|on(?:wards?)?(?=\s*(?:$|[,.;!?]))|at\s+the\s+earliest|frühestens"
    r"|oder\s+später|und\s+später)"
    r"|(at\s+the\s+latest|spätestens|or\s+earlier|oder\s+früher))\b(?![\s,]*(?:um|at|gegen|\d))"
)


def _weekday_span_re(abbr: dict[str, int]) -> re.Pattern[str]:
    names = _WD_NAMES + "|" + "|".join(sorted(abbr, key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?:from|von|vom|(between|zwischen))\s+)?({names})s?\.?\s*(-|to|till|until|through|thru|bis|and|und)"
        rf"\s*({names})s?\b\.?"
    )


_WEEKDAY_SPAN = {"en": _weekday_span_re(_WD_ABBR_EN), "de": _weekday_span_re(_WD_ABBR_DE)}
_REL_TIME = re.compile(
    r"\bin\s+(?:(half\s+an\s+hour|einer\s+halben\s+stunde|(?:an\s+|einer\s+)?(?:hour\s+and\s+a\s+half|"
    r"1\s+and\s+a\s+half\s+hours|eineinhalb\s+stunden|anderthalb\s+stunden))"
    r"|(\d{1,3}|an?|einer|einem)\s+(hours?|stunden?|minutes?|minuten|mins?))\b"
)

_H = r"(?<![\d.:,])(\d{1,2})"
_HM = r"(?<![\d.:,])(\d{1,2})(?:[:.](\d{2}))?"
_SUFFIX = r"(?:\s*(?:uhr|h|o'?\s?clock))?"
_AMPM = r"(?:\s*(a\.?\s?m\b\.?|p\.?\s?m\b\.?))?"
_NOT_TIME = (
    r"(?!\s*(?:of\b|more\b|other|person|people|personen|leute|minute|min\b|hour|stunde|day|tag|week|woche|month|"
    r"monat|year|jahr|%|euro|€|\$|dollar|times\b|mal\b|patients?|kids|kinder|st\b|nd\b|rd\b|th\b|\.\d|:\d))"
)
_RANGE = re.compile(
    rf"(?:\b(?:between|zwischen)\s+{_HM}{_SUFFIX}\s*(?:and|und|-)\s*{_HM}{_SUFFIX}{_AMPM}"
    rf"|(?:\b(?:from|von|vom)\s+)?{_HM}{_SUFFIX}{_AMPM}\s*(?:-|\bto\b|\btill\b|\buntil\b|\bbis\b)\s*{_HM}{_SUFFIX}{_AMPM})"
    r"(?![\d.:]\d)" + _NOT_TIME
)
_SPOKEN_EN = re.compile(
    rf"\b(?:(?:a\s+)?(quarter|half)\s+(past|pass|after|to|of|before),?\s+{_H}(?!\d)"
    rf"|(\d{{1,2}})\s+(?:minutes?\s+)?(past|after)\s+{_H}(?!\d)"
    rf"|(20|25)\s+(?:minutes?\s+)?(to|of|before)\s+{_H}(?!\d)"
    # "ten to eleven" in words (in digits "10 to 11" is a window, but "at 10 to 11" a time: see times())
    rf"|(?<!from )(?<!between )(5|10)\s+(?:minutes?\s+)?(to|of|before)\s+{_H}(?!\d){_NOT_TIME}"
    rf"|half\s+{_H}(?!\d|\s*(?:an?\s+)?hour))"
)
_SPOKEN_DE = re.compile(
    rf"\b(?:(viertel|dreiviertel|drei\s+viertel)\s+(nach|vor)?\s*(halb\s+)?{_H}(?!\d)"
    rf"|(\d{{1,2}})\s+(?:minuten\s+)?(nach|vor)\s+(halb\s+)?{_H}(?!\d)"
    rf"|halb\s+{_H}(?!\d))"
)
_COLON = re.compile(rf"{_H}[:.](\d{{2}})(?!\d|\.\d)(?:\s*(uhr|h\b|o'?\s?clock))?{_AMPM}")
_UHR = re.compile(rf"{_H}\s*(?:uhr|o'?\s?clock|oclock)\b(?:\s+(\d{{1,2}})(?![\d:]|\.\d))?{_AMPM}")
_AMPM_TIME = re.compile(rf"{_H}\s*(a\.?\s?m\b\.?|p\.?\s?m\b\.?)")
_SPACED = re.compile(
    rf"(?:\b(at|um|gegen|around|about|ab|so\s+um|circa|ca\.)\s+){_H}\s+([0-5]\d)(?!\d)"
    rf"|{_H}[\s-]+([1-5]\d)(?![\d:]|\.\d)(?=\s*(?:$|[,.!?;]|am\b|pm\b|uhr\b|on\b|would|works?|is\b|please|then|or\b|if\b|ok))"
)
_BARE = re.compile(  # "at ten", "gegen zehn", "Punkt elf", "um zehn rum", "at 9 sharp", "10ish"
    rf"\b(?:at|um|gegen|around|about|circa|ca\.|so\s+gegen|so\s+um|punkt|um\s+punkt|pünktlich\s+um|genau\s+um"
    rf"|at\s+exactly|exactly\s+at)\s+(?:ca\.\s+)?{_H}(?!\d){_NOT_TIME}(?:\s+(?:rum|herum|sharp|on\s+the\s+dot)\b)?"
    rf"|{_H}\s*-?\s*ish\b|{_H}\s+(?:sharp|on\s+the\s+dot|rum|herum)\b"
)
# "kurz nach zehn", "just after ten", "shortly before three", "kurz vor halb drei": the half hour after (before)
# the time said (see :meth:`_Parser.shortly`)
_SHORTLY = re.compile(
    r"\b(?:kurz|just|shortly|right|knapp|gleich|a\s+little|a\s+bit|ein\s+bisschen|ein\s+paar\s+minuten"
    r"|a\s+few\s+minutes)\s+(nach|after|past|vor|before)\s+(halb\s+)?"
    rf"{_HM}(?!\d){_SUFFIX}{_AMPM}{_NOT_TIME}"
)
SHORTLY_MINUTES = 30  # how long the window of "kurz nach zehn" / "shortly before three" is
# "Tuesday 1430", "morgen 0930": three or four digits right after a day word are a time (not a price, a count or a
# year: see _day_compact_time)
_DAY_COMPACT = re.compile(
    rf"\b((?:{_WD_NAMES}|today|tomorrow|heute|morgen)s?,?\s+)([01]?\d|2[0-3])([0-5]\d)(?!\d|[.:,]\d|\s*-\s*\d){_NOT_TIME}"
)
# "end of the day", "late in the day", "gegen Feierabend": the late afternoon; not "by the end of the day" (a
# deadline) nor the phrase "at the end of the day, it's your call"
_DAY_END = re.compile(
    r"(?<!by )(?<!by the )\b(?:(?:at|towards?|near)\s+)?(?:the\s+)?end\s+of\s+(?:the\s+)?"
    r"(?:working\s+|business\s+|work\s+)?day\b(?!,?\s+(?:it|it's|i|we|you|that|this|what|he|she|they|there)\b)"
    r"|\blate\s+in\s+the\s+day\b|\b(?:gegen|kurz\s+vor)\s+feierabend\b|\bam\s+ende\s+des\s+tages\b"
)

_OPEN = re.compile(
    rf"\b(after|ab|nach|later\s+than|not\s+before|nicht\s+vor|from|frühestens(?:\s+um)?|earliest(?:\s+at)?"
    rf"|before|vor|bis|by|until|till|not\s+after|not\s+later\s+than|no\s+later\s+than|nicht\s+nach|nicht\s+später\s+als"
    rf"|spätestens(?:\s+um)?|latest(?:\s+at)?)"
    rf"\s+{_HM}(?!\d){_SUFFIX}{_AMPM}{_NOT_TIME}"
)
# "not after 4", "not later than 4", "nicht später als 16 Uhr": a latest time, not an earliest
_LATEST_AFTER_NOT = ("after", "later", "nach", "später")
_LUNCH_EDGE = re.compile(
    r"\b(after|nach|before|vor)\s+(?:the\s+|der\s+|dem\s+|my\s+|your\s+)?"
    r"(?:lunch(?:\s*(?:time|break))?|mittag(?:spause|essen|szeit)?)\b"
)
_TIME_WORD = re.compile(r"\b(?:uhr|o'?\s?clock|oclock|[ap]\.?\s?m\b|from|von|vom)|:")
_NOON = re.compile(
    r"\b(?:(?:12\s+)?noon|midday|gegen\s+mittag(?!s|essen|pause)|(?:12\s+uhr\s+)?mittags?\s+um\s+12|12\s+uhr\s+mittags|midnight|mitternacht)\b"
)
_PART = re.compile(
    r"\b(?:(early|late|früh(?:en)?|spät(?:en)?|1st\s+thing)\s+)?"
    r"(?:(?:in\s+the|this|am|in\s+der|der|im\s+laufe\s+des)\s+)?"
    r"(morning|mornings|vormittags?|morgens|früh(?=\s*(?:$|[,.!?;]|um\b|gegen\b|so\b))|frühmorgens|am\s+morgen|afternoon|afternoons|"
    r"nachmittags?|evening|evenings|abends?|tonight|lunch\s*time|lunch|mittags(?:zeit)?|über\s+mittag|mittagszeit)\b"
)
_HOUR_PART = re.compile(
    rf"(?:\b(?:at|um|gegen|around|about)\s+)?(?<!halb )(?<!viertel )(?<!nach )(?<!vor )(?<!past )(?<!to )"
    rf"{_HM}(?:\s*(?:uhr|o'?\s?clock))?\s+"
    r"((?:in\s+the\s+|am\s+|in\s+der\s+|at\s+)?(?:morning|afternoon|evening|night|morgens|früh|vormittags|"
    r"nachmittags|abends|nachts))\b"
)
_PARTS = {
    "morning": (dtime(8), dtime(12)),
    "afternoon": (dtime(12), dtime(18)),
    "evening": (dtime(17), dtime(21)),
    "lunch": (dtime(11, 30), dtime(14)),
}


def _part_name(word: str) -> str:
    if word.startswith(("morning", "vormittag", "morgens", "früh", "frühmorgens", "am morgen")):
        return "morning"
    if word in ("night", "nachts"):
        return "evening"
    if word.startswith(("morning",)):
        return "morning"
    if word.startswith(("afternoon", "nachmittag")):
        return "afternoon"
    if word.startswith(("evening", "abend", "tonight")):
        return "evening"
    return "lunch"


# --------------------------------------------------------------------------------------------- parsing


def _minutes(t: dtime) -> int:
    return t.hour * 60 + t.minute


def _clock(minutes: int) -> dtime | None:
    return dtime(minutes // 60, minutes % 60) if 0 <= minutes < 24 * 60 else None


def _hour24(h: int, ampm: str | None, part: str | None) -> int | None:
    """The said clock hour as 24h: pm/am markers, day part, else 1-7 -> afternoon."""
    if h > 24:
        return None
    if h == 24:
        return 0
    if ampm:
        if h > 12 or h == 0:
            return None if ampm.startswith("a") and h > 12 else h
        if ampm.startswith("p"):
            return h if h == 12 else h + 12
        return 0 if h == 12 else h
    if 1 <= h <= 11 and part in ("afternoon", "evening"):
        return h + 12
    if part == "morning":
        return h
    if 1 <= h <= 7:
        return h + 12
    return h


def _add_weeks_monday(today: date, weeks: int) -> date:
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


@dataclass
class _Found:
    day: date | None = None
    time: dtime | None = None
    earliest: dtime | None = None
    latest: dtime | None = None
    first_day: date | None = None
    last_day: date | None = None
    week_monday: date | None = None  # the week a span names, for a weekday in it ("next week Monday")
    day_of_weeks: bool = False  # the day is N weeks from today ("in two weeks"): a weekday said picks its day
    or_days: list[date] = field(default_factory=list)  # more days said with "or" (see When.or_days)
    weekly: bool = False  # see When.weekly
    day_at: tuple[int, int] | None = None  # where the words that gave the day or span stand in the text


class _Parser:
    def __init__(self, text: str, now: datetime, language: str) -> None:
        self.now = now
        self.today = now.date()
        self.lang = "de" if str(language).lower().startswith("de") else "en"
        t = _Text(text)
        t.sub(_SPELLING_RE, lambda m: _SPELLINGS[m.group(0)])
        t.sub(_GREETINGS, lambda m: " " * len(m.group(0)))
        t.sub(_AFTER_WORK, lambda m: "abends" if m.group(0).startswith("nach") else "in the evening")
        t.sub(_SECOND, lambda m: "2nd")
        t.sub(_EIN_UHR, lambda m: "1")
        t.sub(_WORD_RE, _word_number)
        t.sub(_PAST_HEARD, lambda m: f"{m.group(1)} past")
        t.sub(_PAST_TO, lambda m: f"{m.group(1)} past 2")
        t.sub(_COMPACT, _compact_time)
        t.sub(_OH, lambda m: f"{m.group(1)}:0{m.group(2)}")
        t.sub(_POINT_ZERO, lambda m: f"{m.group(1)}:00")
        t.sub(_DAY_COMPACT, _day_compact_time)
        t.sub(_DAY_END, lambda m: "late afternoon")
        t.sub(_DAY_PART_DE, lambda m: f"{m.group(1)} {m.group(2)}s")
        self.t = t
        self.work = t.s  # matched parts are blanked out here as they are understood
        self.used: list[tuple[int, int]] = []
        self.found = _Found()
        self.part: str | None = None
        self._window: tuple[dtime, dtime] | None = None

    # -- bookkeeping
    def _take(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for m in list(pattern.finditer(self.work)):
            if not m.group(0).strip() or self.work[m.start() : m.end()] != m.group(0):
                continue  # empty, or overlaps a part already understood
            yield m

    def _use_day(self, m: re.Match[str]) -> None:
        """:meth:`_use` for words that name the day or span, remembering where they stand (see :meth:`bounds`)."""
        at = self.found.day_at
        self.found.day_at = (min(at[0], m.start()), max(at[1], m.end())) if at else (m.start(), m.end())
        self._use(m)

    def _use(self, m: re.Match[str]) -> None:
        a, b = m.start(), m.end()
        while b > a and self.work[b - 1] in " ,.":
            b -= 1
        self.used.append((a, b))
        self.work = self.work[:a] + " " * (m.end() - a) + self.work[m.end() :]

    # -- days
    def _future(self, month: int, dom: int, year: int | None) -> date | None:
        try:
            if year is not None:
                return date(year, month, dom)
            d = date(self.today.year, month, dom)
            if d < self.today:
                d = date(self.today.year + 1, month, dom)
            return d
        except ValueError:
            return None

    def holidays(self) -> None:
        """ "Christmas Eve", "am zweiten Weihnachtsfeiertag", "an Silvester": the holiday's date, unless a day
        was said otherwise ("Stimmt, Neujahr. Dann Montag, den 4.?" is the 4th)."""
        f = self.found
        if f.day is not None or f.first_day is not None:
            return
        for m in self._take(_HOLIDAY):
            month, dom = _HOLIDAYS[re.sub(r"\s+", " ", m.group(1).lower())]
            f.day = self._future(month, dom, None)
            self._use_day(m)
            return

    def dates(self) -> None:
        f = self.found
        for pattern, month_first in ((_DATE_DM, False), (_DATE_MD, True)):
            for m in self._take(pattern):
                if f.day is not None:
                    return
                mon_word, dom = (m.group(1), m.group(2)) if month_first else (m.group(2), m.group(1))
                d = _month_date(m.group(0), self.lang, self.now) or self._future(
                    _month_number(mon_word), int(dom), int(m.group(3)) if m.group(3) else None
                )
                f.day = d
                self._use_day(m)  # an impossible date ("30. Februar") is used up too, it names no day
        for m in self._take(_DATE_ISO):
            if f.day is None:
                try:
                    f.day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                    self._use_day(m)
                except ValueError:
                    pass
        for m in self._take(_DATE_NUM):
            if f.day is not None:
                break
            dom, mon, yr = m.groups()
            year = None if not yr else (int(yr) + 2000 if len(yr) == 2 else int(yr))
            if 1 <= int(mon) <= 12 and (d := self._future(int(mon), int(dom), year)):
                f.day = d
                self._use_day(m)
        for pattern in (_DOM_EN, _DOM_DE):
            for m in self._take(pattern):
                if f.day is not None:
                    break
                dom = int(m.group(1) or (m.group(2) or m.group(3) if m.re is _DOM_EN else 0))
                d = self._day_of_month(dom)
                if d is not None:
                    f.day = d
                    self._use_day(m)

    def _day_of_month(self, dom: int) -> date | None:
        y, mo = self.today.year, self.today.month
        for _ in range(3):
            try:
                d = date(y, mo, dom)
                if d >= self.today:
                    return d
            except ValueError:
                pass
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        return None

    def relative_days(self) -> None:
        f = self.found
        for m in self._take(_REL_DAY):
            if f.day is not None:
                break
            w = m.group(0)
            if "after" in w or w == "übermorgen":
                f.day = self.today + timedelta(days=2)
            elif w in ("tomorrow", "morgen"):
                f.day = self.today + timedelta(days=1)
            elif w in ("today", "heute", "tonight"):
                f.day = self.today
                if w == "tonight":
                    self.part = "evening"
                    self._window = _PARTS["evening"]
            else:
                n_word = m.group(1) or "1"
                n = int(n_word) if n_word.isdigit() else 1
                unit = m.group(2) or "woche"
                weeks = unit.startswith(("week", "woch"))
                f.day = self.today + (timedelta(weeks=n) if weeks else timedelta(days=n))
                if weeks:  # "in two weeks on Wednesday": the Wednesday of that week
                    f.week_monday, f.day_of_weeks = _add_weeks_monday(self.today, n), True
            self._use_day(m)

    def relative_time(self) -> None:
        """ "in an hour", "in 20 minutes", "in einer halben Stunde": a moment from now (5-minute grid)."""
        f = self.found
        for m in self._take(_REL_TIME):
            if m.group(1):
                minutes = 30 if m.group(1).startswith(("half", "einer halben")) else 90
            else:
                n = int(m.group(2)) if m.group(2).isdigit() else 1
                minutes = n * 60 if m.group(3).startswith(("hour", "stunde")) else n
            if minutes > 24 * 60:
                continue
            moment = self.now + timedelta(minutes=minutes)
            moment += timedelta(
                minutes=(-moment.minute) % 5, seconds=-moment.second, microseconds=-moment.microsecond
            )
            if f.day is None or f.day == moment.date():
                f.day, f.time = moment.date(), dtime(moment.hour, moment.minute)
                self._use(m)
            return

    def weeks(self) -> None:
        f = self.found
        for m in self._take(_WEEK):
            if f.first_day is not None or f.week_monday is not None:
                break
            modifier, which, unit = m.group(1), m.group(2), m.group(3) or m.group(4)
            w = m.group(0)
            if which in ("the", "der") and not modifier:
                continue  # "the week" alone says nothing
            if "after next" in w or "übernächst" in w:
                weeks = 2
            elif which and which.split()[-1].startswith(("next", "coming", "nächst", "kommend")):
                weeks = 1
            else:
                weeks = 0
            unit = unit or m.group(5) or "week"
            monday = _add_weeks_monday(self.today, weeks)
            if unit.startswith(("weekend", "wochenende")):
                if weeks == 0 and self.today.weekday() == 6:
                    first, last = self.today, self.today
                else:
                    first, last = monday + timedelta(days=5), monday + timedelta(days=6)
            else:
                first, last = monday, monday + timedelta(days=4)
                if modifier:
                    mod = modifier.split()[0]
                    if mod in ("early", "beginning", "start", "anfang"):
                        last = monday + timedelta(days=1)
                    elif mod in ("mitte", "middle", "mid"):
                        first, last = monday + timedelta(days=1), monday + timedelta(days=3)
                    else:
                        first = monday + timedelta(days=3)
                f.week_monday = monday
                if not modifier and _OR_NEXT_WEEK.match(self.work, m.end()):
                    last += timedelta(days=7)  # "this week or next (week)": both weeks
                elif not modifier and weeks == 1 and _THIS_OR.search(self.work[: m.start()]):
                    # "this or next week", "diese oder nächste Woche"
                    first, weeks = monday - timedelta(days=7), 0
            if weeks == 0:
                first = max(first, self.today)
                if last < first:
                    first = last = self.today
            f.first_day, f.last_day = first, last
            self._use_day(m)

    def months(self) -> None:
        """ "in December", "Anfang Dezember", "next month", "Ende des Monats": a span of days."""
        f = self.found
        for m in self._take(_MONTH_SPAN):
            if f.day is not None or f.first_day is not None:
                return
            modifier, which, month_word = m.group(1), m.group(2), m.group(4)
            said = m.group(0)
            if month_word and not modifier and not re.match(r"(?:in|im|for)\s", said):
                continue  # a bare month name ("May I ...", "March") is no date
            y, mo = self.today.year, self.today.month
            if month_word:
                mo = _month_number(month_word)
                if mo < self.today.month:
                    y += 1
            elif which.startswith(("next", "nächst", "kommend")):
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
            first = date(y, mo, 1)
            last = (date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)) - timedelta(days=1)
            mod = (modifier or "").split()[0] if modifier else ""
            if mod in ("early", "beginning", "start", "anfang"):
                last = date(y, mo, 10)
            elif mod in ("mid", "middle", "mitte"):
                first, last = date(y, mo, 11), date(y, mo, 20)
            elif mod in ("end", "ende", "late"):
                first = date(y, mo, 21)
            if last < self.today:
                continue
            f.first_day, f.last_day = max(first, self.today), last
            self._use_day(m)
            return

    def _weekday_number(self, name: str) -> int | None:
        wd = _WD_WORDS.get(name)
        return wd if wd is not None else (_WD_ABBR_DE if self.lang == "de" else _WD_ABBR_EN).get(name)

    def weekday_spans(self) -> None:
        """ "Monday to Wednesday", "Mo-Fr", "zwischen Dienstag und Donnerstag": a span of days."""
        f = self.found
        for m in self._take(_WEEKDAY_SPAN[self.lang]):
            if f.day is not None or (f.first_day is not None and f.week_monday is None):
                return
            first, last = self._weekday_number(m.group(2)), self._weekday_number(m.group(4))
            if first is None or last is None or last < first:
                continue
            if m.group(3) in ("and", "und") and not m.group(1):
                continue  # "Monday and Wednesday" are two days, not a span
            if f.week_monday is not None:
                start = f.week_monday + timedelta(days=first)
            else:  # the next such span that has not begun... or the rest of the one running now
                start = _add_weeks_monday(self.today, 0) + timedelta(days=first)
                if _add_weeks_monday(self.today, 0) + timedelta(days=last) < self.today:
                    start += timedelta(weeks=1)
            f.first_day, f.last_day = max(start, self.today), start + timedelta(days=last - first)
            self._use_day(m)
            return

    def weekdays(self) -> None:
        f = self.found
        said: list[tuple[re.Match[str], int]] = []  # the weekday of the day, then those said with "or"
        for m in self._take(_WEEKDAY[self.lang]):
            name = m.group(2)
            wd = self._weekday_number(name)
            if wd is None or (name not in _WD_WORDS and not self._abbreviation_is_day(m)):
                continue
            if said and f.day_at is not None:  # "Tuesday or Thursday", "Mo, Di oder Mi": one more day
                if not _OR_DAYS.fullmatch(self.work[f.day_at[1] : m.start()]):
                    break
            elif f.day is not None and not f.day_of_weeks:
                # "Monday, November 30": the weekday agrees with the date already read
                if f.day.weekday() == wd:
                    self._use_day(m)
                break
            said.append((m, wd))
            self._use_day(m)
        if not said:
            return
        # "Tuesday or Wednesday next week": the week said once is that of every day
        which = next((w for m, _ in said if (w := self._which(m))), "")
        days = sorted({self._weekday_date(wd, self._which(m) or which) for m, wd in said})
        f.day, f.or_days = days[0], days[1:]  # the earliest day said is the day
        f.weekly = not which and f.week_monday is None
        f.first_day = f.last_day = None

    @staticmethod
    def _which(m: re.Match[str]) -> str:
        """The word that says which of a weekday is meant ("next", "this", "übernächsten", "after next"), or ""."""
        if m.group(4):
            return "after next"
        said = m.group(1) or m.group(3) or ""
        return said.split()[-1] if said else ""

    def _weekday_date(self, wd: int, which: str) -> date:
        """The day of weekday ``wd`` that ``which`` ("next", "this", "last", "übernächsten", "") means."""
        f = self.found
        if which.startswith("übernächst") or which == "after next":
            return _add_weeks_monday(self.today, 2) + timedelta(days=wd)
        if which.startswith(("next", "nächst")):
            return _add_weeks_monday(self.today, 1) + timedelta(days=wd)
        if which.startswith(("this", "dies")):
            d = _add_weeks_monday(self.today, 0) + timedelta(days=wd)
            return d + timedelta(weeks=1) if d < self.today else d
        if which.startswith(("last", "letzt")):
            return self.today - timedelta(days=(self.today.weekday() - wd - 1) % 7 + 1)
        if f.week_monday is not None:
            return f.week_monday + timedelta(days=wd)
        # plain or "coming": the next one strictly after today
        return self.today + timedelta(days=(wd - self.today.weekday() - 1) % 7 + 1)

    def _abbreviation_is_day(self, m: re.Match[str]) -> bool:
        """Whether a weekday abbreviation ("Do", "Di.", "Fr", "wed") stands where a weekday can: before a time,
        a date or a part of the day ("Do 10 Uhr", "Di., 1.12.", "Sa vormittag"), in a list or span of weekdays
        ("Mo, Di oder Mi", "Mo. bis Fr."), or after "am"/"on"/"nächsten"; never as a word ("can we do this",
        "pfiat di", "Fr. Weber")."""
        before, after = self.t.s[: m.start(2)], self.t.s[m.end(2) :]
        if _ABBR_AFTER_WEEKDAY.search(before):
            return True
        if _ABBR_AFTER_VERB.search(before):
            return False
        return bool(_ABBR_BEFORE_DAY.search(before) or _ABBR_BEFORE_WHEN.match(after))

    def bounds(self) -> None:
        """ "not before the 10th", "ab Mittwoch", "after the 10th", "before Friday", "the 10th or later": the day
        or span said is where an open span of days begins, or where a span from today ends."""
        f = self.found
        if f.day_at is None or (f.day is None and f.first_day is None):
            return
        a, b = f.day_at
        lead = _BOUND_LEAD.match(self.t.s, a)
        head = self.t.s[: lead.end() if lead else a]
        said = _BOUND_BEFORE.search(head)
        kind = next((k for k, v in (said.groupdict() if said else {}).items() if v), None)
        kind = "until" if kind == "by" else kind
        words = (said.start(), a) if said else None
        if kind is None and (after := _BOUND_AFTER.match(self.t.s, b)) is not None:
            kind, words = ("from" if after.group(1) else "until"), (b, after.end())
        if kind is None or words is None:
            return
        first, last = f.day or f.first_day, f.day or f.last_day
        assert first is not None and last is not None  # a day or a closed span was said
        if kind in ("from", "after"):
            first, last = (first if kind == "from" else last + timedelta(days=1)), None
        else:
            first, last = self.today, (last if kind == "until" else first - timedelta(days=1))
            if last < first:
                return  # "before today": no span
        f.day, f.first_day, f.last_day, f.or_days, f.weekly = None, first, last, [], False
        self.used.append(words)  # the bound is part of the phrase understood

    # -- times
    def parts(self) -> None:
        for m in self._take(_LUNCH_EDGE):  # "after lunch": from 13:00; "vor der Mittagspause": until 12:00
            after = m.group(1) in ("after", "nach")
            self._window = (dtime(13), dtime(18)) if after else (dtime(8), dtime(12))
            self._use(m)
            return
        for m in self._take(_PART):
            name = _part_name(m.group(2))
            self.part = name
            lo, hi = _PARTS[name]
            mod = m.group(1)
            if mod:
                mid = _clock((_minutes(lo) + _minutes(hi)) // 2)
                assert mid is not None  # the middle of two clock times
                lo, hi = (lo, mid) if mod.startswith(("early", "früh", "1st")) else (mid, hi)
            self._window = (lo, hi)
            if self.found.day is None and self.found.first_day is None and m.group(0).startswith("this"):
                self.found.day = self.today  # "this afternoon"
            self._use(m)
            break

    def hour_with_part(self) -> None:
        """ "9 in the morning", "4 in the afternoon", "8 Uhr abends": the day part decides am/pm."""
        for m in self._take(_HOUR_PART):
            name = _part_name(m.group(3).split()[-1])
            ampm = "am" if name == "morning" else "pm" if name in ("afternoon", "evening") else None
            hour = _hour24(int(m.group(1)), ampm, None)
            if hour is None or hour >= 24 or (m.group(2) and int(m.group(2)) > 59):
                continue
            self.found.time = dtime(hour, int(m.group(2) or 0))
            self.part = name
            self._use(m)
            return

    def _in_digits(self, m: re.Match[str]) -> bool:
        """Whether the original words of a match hold a digit ("10-12", not "one to three")."""
        a, b = self.t.original_span(m.start(), m.end())
        return any(c.isdigit() for c in self.t.original[a:b])

    def _ap(self, ampm: str | None) -> str | None:
        """An am/pm marker; German "am" is a preposition ("um 10 am Montag"), only "a.m." counts."""
        if not ampm or (self.lang == "de" and ampm.strip() == "am"):
            return None
        return ampm

    def _hm(self, h: str, mins: str | None, ampm: str | None) -> dtime | None:
        hour = _hour24(int(h), self._ap(ampm), self.part)
        if hour is None or (mins is not None and int(mins) > 59):
            return None
        return _clock(hour * 60 + int(mins or 0))

    def ranges(self) -> None:
        f = self.found
        for m in self._take(_RANGE):
            g = m.groups()
            h1, m1, h2, m2, ap = (g[0], g[1], g[2], g[3], g[4]) if g[0] else (g[5], g[6], g[8], g[9], g[10])
            ap1 = None if g[0] else self._ap(g[7])
            ap = self._ap(ap)
            w = m.group(0)
            bare_to = not g[0] and re.search(r"\bto\b", w) and not w.startswith("from")
            if bare_to and (
                int(h1) in (20, 25) or (int(h1) in (5, 10) and self.work[: m.start()].endswith("at "))
            ):
                continue  # "twenty to five", "at ten to three": a time, not a window
            if int(h1) > 24 or int(h2) > 24:
                continue
            if not g[0] and not self._in_digits(m) and not _TIME_WORD.search(w):
                continue  # "one to three short sentences", "ein bis drei": counting, not hours
            start = self._hm(h1, m1, ap1 or (ap if ap and int(h1) <= int(h2) else None))
            end_hour = int(h2)
            end = self._hm(h2, m2, ap)
            if start is None or end is None:
                continue
            if end <= start and end_hour < 12:
                end = _clock(_minutes(end) + 12 * 60) or end
            if end <= start:
                continue
            f.earliest, f.latest = start, end
            self._use(m)
            return

    def times(self) -> None:
        f = self.found
        if self.shortly():
            return
        # spoken times before "nach 11" / "vor 3" are read as open windows; both languages (code-switching)
        for spoken in (_SPOKEN_DE, _SPOKEN_EN) if self.lang == "de" else (_SPOKEN_EN, _SPOKEN_DE):
            for m in self._take(spoken):
                if spoken is _SPOKEN_EN and m.group(10) and self._in_digits(m) and not self._after_at(m):
                    continue  # "10 to 11" in digits is a window (see ranges), "at 10 to 11" a time
                if (t := self._exact(spoken, m)) is not None:
                    f.time = t
                    self._use(m)
                    return
        if self.open_ranges():
            return
        for pattern in (_COLON, _UHR, _AMPM_TIME, _SPACED):
            for m in self._take(pattern):
                t = self._exact(pattern, m)
                if t is not None:
                    f.time = t
                    self._use(m)
                    return
        for m in self._take(_NOON):
            w = m.group(0)
            f.time = dtime(0) if w.startswith(("midnight", "mitternacht")) else dtime(12)
            self._use(m)
            return
        for m in self._take(_BARE):
            t = self._hm(m.group(1) or m.group(2) or m.group(3), None, None)
            if t is not None:
                f.time = t
                self._use(m)
                return

    def _after_at(self, m: re.Match[str]) -> bool:
        """Whether "at" stands right before a match ("at 10 to 11")."""
        return self.work[: m.start()].endswith("at ")

    def shortly(self) -> bool:
        """ "kurz nach zehn", "just after ten" -> [10:00, 10:30); "kurz vor drei", "shortly before three" ->
        [14:30, 15:00): a window of :data:`SHORTLY_MINUTES` on the side of the time said."""
        f = self.found
        for m in self._take(_SHORTLY):
            side, half, h, mins, ampm = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
            t = self._shifted(h, -30) if half and mins is None else self._hm(h, mins, ampm)
            if t is None:
                continue
            if side in ("nach", "after", "past"):
                lo, hi = t, _clock(_minutes(t) + SHORTLY_MINUTES) or dtime(23, 59)
            else:
                lo, hi = _clock(_minutes(t) - SHORTLY_MINUTES) or dtime(0), t
            f.earliest, f.latest = lo, hi
            self._use(m)
            return True
        return False

    def _exact(self, pattern: re.Pattern[str], m: re.Match[str]) -> dtime | None:
        g = m.groups()
        if pattern is _COLON:
            return self._hm(g[0], g[1], g[3])
        if pattern is _UHR:
            return self._hm(g[0], g[1], g[2])
        if pattern is _AMPM_TIME:
            return self._hm(g[0], None, g[1])
        if pattern is _SPACED:
            h, mins = (g[1], g[2]) if g[1] else (g[3], g[4])
            return self._hm(h, mins, None)
        if pattern is _SPOKEN_EN:
            if g[0]:
                offset = {"quarter": 15, "half": 30}[g[0]]
                sign = 1 if g[1] in ("past", "pass", "after") else -1  # Whisper hears "half pass"
                hour = g[2]
            elif g[3]:
                offset, sign, hour = int(g[3]), 1, g[5]
            elif g[6]:
                offset, sign, hour = int(g[6]), -1, g[8]
            elif g[9]:
                offset, sign, hour = int(g[9]), -1, g[11]
            else:
                offset, sign, hour = 30, 1, g[12]
            if offset > 30 or int(hour) > 12:
                return None
            return self._shifted(hour, sign * offset)
        if pattern is _SPOKEN_DE:
            if g[0]:
                quarter = 45 if g[0].startswith("drei") else 15
                if g[1] == "nach":
                    offset = 15
                elif g[1] == "vor":
                    offset = -15
                else:  # regional "viertel elf" = 10:15, "dreiviertel elf" = 10:45
                    offset = quarter - 60
                if g[2]:
                    offset -= 30
                return self._shifted(g[3], offset)
            if g[4]:
                mins = int(g[4])
                if mins > 29:
                    return None
                offset = mins if g[5] == "nach" else -mins
                if g[6]:
                    offset -= 30
                return self._shifted(g[7], offset)
            return self._shifted(g[8], -30)
        return None

    def _shifted(self, hour: str, offset: int) -> dtime | None:
        if int(hour) > 12:
            return None
        h = _hour24(int(hour), None, self.part)
        return None if h is None else _clock((h * 60 + offset) % (24 * 60))

    def open_ranges(self) -> bool:
        f = self.found
        for m in self._take(_OPEN):
            word = m.group(1).split()[0]
            t = self._hm(m.group(2), m.group(3), m.group(4))
            if t is None:
                continue
            if (
                word in ("bis", "by", "until", "till")
                and not self._in_digits(m)
                and not _TIME_WORD.search(m[0])
            ):
                continue  # "bis drei kurze Sätze": counting
            if word in (
                "after",
                "ab",
                "nach",
                "later",
                "not",
                "nicht",
                "from",
                "frühestens",
                "earliest",
            ) and not (word in ("not", "nicht") and m.group(1).split()[1] in _LATEST_AFTER_NOT):
                f.earliest = t
            else:
                f.latest = t
            self._use(m)
            return True
        return False

    def run(self) -> When | None:
        self.dates()
        self.relative_days()
        self.relative_time()
        self.weeks()
        self.months()
        self.weekday_spans()
        self.weekdays()
        self.holidays()
        self.hour_with_part()
        self.parts()
        self.ranges()
        if self.found.earliest is None and self.found.time is None:
            self.times()
        f = self.found
        if f.time is None and f.earliest is None and f.latest is None and self._window:
            f.earliest, f.latest = self._window
        if f.day is not None:
            f.first_day = f.last_day = None
        self.bounds()
        if not self.used:
            return None
        if all(v is None for v in (f.day, f.time, f.earliest, f.latest, f.first_day)):
            return None
        a = min(u[0] for u in self.used)
        b = max(u[1] for u in self.used)
        oa, ob = self.t.original_span(a, b)
        return When(
            day=f.day,
            time=f.time,
            earliest=f.earliest,
            latest=f.latest,
            first_day=f.first_day,
            last_day=f.last_day,
            text=self.t.original[oa:ob].strip(" ,."),
            or_days=tuple(f.or_days),
            weekly=f.weekly,
        )


def _month_number(word: str) -> int:
    for n, rx in _MONTH_RES:
        if rx.match(word):
            return n
    raise ValueError(word)


# a month after "of", "in", "im" ("of December I mean"): never the month-like name "Jo March", "Jan Falk"
_MONTH_WORD = re.compile(rf"\b(?:of|im|in)\s+({_MONTH})\b(?!\.?\s*\d)", re.IGNORECASE)
_DAY_ALONE = re.compile(
    rf"\b(?:the|am|den|dem|zum)\s+(\d{{1,2}})(?:st|nd|rd|th|\.)(?!\s*(?:\d|of\b|{_MONTH}))", re.IGNORECASE
)


def month_alone(text: str) -> int | None:
    """The month ``text`` names without a day ("of December I mean", "im Dezember"), else None."""
    if _DATE_DM.search(text) or _DATE_MD.search(text):
        return None
    m = _MONTH_WORD.search(text)
    return _month_number(m.group(1).lower()) if m else None


def day_alone(text: str) -> int | None:
    """The day of the month ``text`` names without a month ("the 28th", "am 28."), else None."""
    m = _DAY_ALONE.search(text)
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 31 else None


def in_month(day: int, month: int, today: date) -> date | None:
    """``day``.``month`` on or after ``today`` (this year or the next), None when there is no such date."""
    for year in (today.year, today.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if found >= today:
            return found
    return None


def _month_date(fragment: str, language: str, now: datetime) -> date | None:
    """A calendar date with a month name ("December 2nd", "2. Dezember 2027"), via dateparser.

    Without a year the next such date from today on (today included) is meant.
    """
    import dateparser

    settings = {
        "PREFER_DATES_FROM": "future",
        "REQUIRE_PARTS": ["day", "month"],
        "RELATIVE_BASE": datetime.combine(now.date() - timedelta(days=1), dtime(12)),  # today is "future" too
    }
    try:
        found = dateparser.parse(
            re.sub(r"^the\s+", "", fragment.strip()),
            languages=[language, "en" if language == "de" else "de"],
            settings=settings,
        )
    except Exception:  # any failure falls back to our own reading of the fragment
        return None
    return found.date() if found else None


# --------------------------------------------------------------------------------------------- API


def parse_when(text: str, now: datetime, language: str = "en") -> When | None:
    """What ``text`` says about a day and time, relative to ``now`` (aware; results are local to it).

    A self-correction counts: "Thursday at ten — no, sorry, Friday at ten" is Friday at ten, "Donnerstag um
    zehn, ach nein, lieber um elf" Thursday at eleven. None when the text holds no date or time.
    """
    if not text or not text.strip():
        return None
    text = text[:1000]
    for m in _CORRECTION.finditer(text):
        head = _parse_plain(text[: m.start()], now, language)
        if head is None or head.is_empty:
            continue
        tail = parse_when(text[m.end() :], now, language) or _bare_time(text[m.end() :], now, language)
        if tail is None or tail.is_empty:
            continue
        return replace(head.combine(tail), text=tail.text)
    return _parse_plain(text, now, language)


def _parse_plain(text: str, now: datetime, language: str) -> When | None:
    """:func:`parse_when` without self-corrections."""
    if not text or not text.strip():
        return None
    whole = _Parser(text, now, language).run()
    if whole is None:
        return None
    clauses = [c for c in _CLAUSE.split(text) if c and c.strip()]
    if len(clauses) < 2:
        return whole
    # "Monday is full. How about Tuesday at 10?": a clause with both a day and a time is one offer; prefer
    # one that is not turned down ("Monday at 10 is taken, but Monday at 11 is free").
    complete = [
        (c, w) for c in clauses if (w := _Parser(c, now, language).run()) is not None and _complete(w)
    ]
    if not complete:
        return whole
    accepted = [w for c, w in complete if not _NEGATIVE.search(c)]
    return accepted[0] if accepted else complete[0][1]


_CLAUSE = re.compile(
    # after ! ? ; and after a full stop, unless it ends a German ordinal ("am 2. Dezember")
    r"(?<=[!?;])\s+|(?<=[^\s.][.])(?<![\s(]\d\.)(?<![\s(]\d\d\.)(?<!^\d\.)(?<!^\d\d\.)\s+"
    r"|,?\s+\b(?=(?:but|aber|jedoch|however|instead|stattdessen)\b)",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:not|no|taken|booked|(?<!the )(?<!a )full(?!\s+(?:hour|hours|day|session|treatment|appointment))|unavailable|can't|cannot|won't|doesn't|isn't|nicht|kein\w*|leider|belegt|"
    r"voll|ausgebucht|vergeben|geht nicht|sorry|unfortunately)\b",
    re.IGNORECASE,
)


# "no, sorry, I mean", "or rather", "make that", "ach nein, lieber", "ich meine": what follows replaces what came before
_CORRECTION = re.compile(  # one cue or several in a row ("Oh wait, that one's gone.")
    r"(?:(?<=\s)|(?<=^)|(?<=[,.;:!?\-–—]))\s*(?:(?:"
    r"(?:oh |ah |ach |äh |ähm )?(?:no|nope|nein|nee)\b[,.!]*(?:\s+(?:sorry|wait|pardon|sorry,? wait|"
    r"entschuldigung|verzeihung|moment|warte)\b[,.!]*)?(?:\s+(?:i mean|i meant|rather|make that|actually|"
    r"it'?s|ich meine|ich meinte|lieber|doch|eher|besser)\b[,.!]*)?"
    r"|sorry,?\s+(?:i mean|i meant|make that|rather|my mistake|correction|wait)\b[,.!]*"
    r"|(?:oh|ah|ach),?\s+(?:wait|warte|moment)\b[,.!]*"
    # the slot just named is gone ("that one's gone", as Whisper hears it too: "that once gone")
    r"|(?:that|this)(?: one)?(?:'s|s| is| has)?(?: once)?(?: just| already)?(?: been)? (?:gone|taken)\b[,.!]*"
    r"|(?:der|die|das)(?: ist)? (?:schon |leider )*(?:weg|vergeben)\b[,.!]*"
    r"|(?:or rather|i mean|i meant|make that|scratch that|correction|my mistake|let me correct (?:that|myself)|"
    r"ich meine|ich meinte|besser gesagt|genauer gesagt|korrektur|verzeihung|entschuldigung,? ich meine|"
    r"doch lieber|lieber doch|oder besser|oder vielmehr|sondern)\b[,.!:]*"
    r")\s*)+",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(
    r"^\W*(?:at |um |gegen )?([^\W_]+(?:[ :.-][^\W_]+)?)\W*(?:uhr\W*)?(?:(?:then|instead|please|dann|bitte|stattdessen)\W*)?$",
    re.IGNORECASE,
)


def _bare_time(fragment: str, now: datetime, language: str) -> When | None:
    """A bare hour said as an alternative or a correction ("… or ten", "no, eleven"): that time, else None."""
    m = _BARE_NUMBER.match(fragment.strip())
    if m is None or len(m.group(1).split()) > 2:
        return None
    prep = "um" if _is_de(language) else "at"
    w = _parse_plain(f"{prep} {m.group(1)}", now, language)
    if w is None or w.time is None or w.day is not None:
        return None
    return replace(w, text=fragment.strip(" ,.!?"))


def parse_bare_time(fragment: str, now: datetime, language: str = "en") -> When | None:
    """A bare hour said alone ("eleven", "elf", "two fifty") as a time of day, else None."""
    return _bare_time(fragment, now, language)


# where one offer ends and the next begins: sentence ends, commas, "or", "but", "and", "oder", "aber" …
_ALTERNATIVE = re.compile(
    r"(?<=[!?;…])\s+|(?<=\.\.\.)\s+|(?<=[^\s.][.])(?<![\s(]\d\.)(?<![\s(]\d\d\.)(?<!^\d\.)(?<!^\d\d\.)\s+"
    r"|\s*[,;]?\s*\b(or|oder|otherwise|alternatively|sonst|alternativ|but|aber|however|jedoch|and|und|also|auch)\b\s*"
    r"|\s*,\s*",
    re.IGNORECASE,
)
_OR_LIKE = {"or", "oder", "otherwise", "alternatively", "sonst", "alternativ", ",", "also", "auch"}
# a slot the speaker turns down ("Monday at 10 is taken"), as opposed to a hedged offer ("sorry, only Monday");
# "full" before what it describes is no refusal ("Tuesday at 2 for the full hour")
_TAKEN = re.compile(
    r"\b(?:taken|gone|(?:just |has |had )?went|closed|geschlossen|fully booked|booked solid|no room|nothing left|booked (?:up|out)|already (?:been )?booked|"
    r"(?<!that )(?:is|are) (?:already )?booked(?! (?:for|in|you|him|her|it|then))|(?<!the )(?<!a )full(?!\s+(?:hour|hours|day|session|treatment|appointment|check|check-up|cleaning|service|course|set|colou?r|cut|price|fee))|unavailable|not (?:available|free|possible)|"
    r"isn'?t (?:free|available|possible)|doesn'?t work|won'?t work|can'?t do|don'?t have|do not have|"
    r"belegt|vergeben|ausgebucht|voll|geht (?:\w+ ){0,3}nicht|geht (?:\w+ ){0,3}nichts|nicht (?:frei|möglich)|haben wir nicht|"
    r"hab(?:e)? ich nicht|(?:schon|gerade|jetzt|leider) weg|ist weg)\b",
    re.IGNORECASE,
)


# what may follow a self-correction whose new slot went unheard ("…, no. Sorry.", "…, nein, Entschuldigung"); a
# question mark makes "Monday at ten, no?" a question, not a correction
_RETRACTED_TAIL = re.compile(
    r"(?:[\s,.;:!\-–—]|\b(?:sorry|wait|hang on|hold on|um|uh|erm|ähm|äh|moment|entschuldigung|verzeihung|warte)\b)*",
    re.IGNORECASE,
)


def offer_taken_back(text: str, now: datetime, language: str = "en") -> bool:
    """A slot named and taken back with nothing heard after it ("Thursday at ten, no. Sorry."): on the phone the
    new slot was lost (the speaker talked on, speech recognition did not); :func:`parse_offers` finds none."""
    text = text[:1000]
    return any(
        _RETRACTED_TAIL.fullmatch(text[m.end() :]) and _parse_plain(text[: m.start()], now, language)
        for m in _CORRECTION.finditer(text)
    )


_HOUR_NUMBER = r"(?:\d{1,2}(?:[:.]\d\d)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b"
# an hour said bare after a verb that offers it ("we could do 6 today", "I can manage ten on Friday"), or after
# "I have" when another time or the end of the offer follows it ("Monday I have ten or eleven thirty")
_DO_HOUR = re.compile(
    r"\b(?:(?:could|can|would|will|'ll|'d) (?:do|manage|offer|fit (?:him|her|you|them) in)\s+"
    rf"(?={_HOUR_NUMBER}"
    r"(?![:.]?\d)(?!\s*(?:minutes?|mins?|hours?|days?|weeks?|people|patients|of|or more|percent|%|euros?|pounds?)))|"
    r"(?:i|we) (?:have|'ve got|have got|got)\s+"
    rf"(?={_HOUR_NUMBER}(?:\s+(?:thirty|fifteen|forty[- ]five|o'clock))?(?:\s*$|\s*[,.;!?]|\s+(?:or|and)\b)))",
    re.IGNORECASE,
)


_WEEKDAY_HOUR = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag)s?,?\s+(?=(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eins|zwei|drei|"
    r"vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|\d{1,2})\b(?![:.]?\d)(?!\s*(?:\.|minutes?|mins?|hours?|days?|"
    r"weeks?|people|patients|of|personen|stunden?|minuten|tage?n?|wochen?)\b)(?!\.))",
    re.IGNORECASE,
)


_HOUR_ASKED = re.compile(
    r"(?:^\W*|\b(?:how'?s|how is|would|does|is|could)\s+)"
    rf"(?={_HOUR_NUMBER}(?:\s+(?:thirty|fifteen|forty[- ]five|o'clock))?\s+"
    r"(?:any good|work|works|suit|suits|be ok|be okay|ok|okay|alright|possible|do|be possible)\b)",
    re.IGNORECASE,
)


def parse_offers(text: str, now: datetime, language: str = "en") -> list[When]:
    """Every slot offered in ``text``, in order, each with its own day and time (never the day of one with
    the time of another): "Monday at eight or Wednesday at four in the afternoon" -> two offers.

    A time said alone in a list takes the day of the offer before it ("Monday at 8 or 10"); a
    self-correction replaces the offer it corrects ("Thursday at ten — no, sorry, Friday at ten" -> one
    offer, Friday at ten); slots turned down ("Monday at 10 is taken") are left out. Offers may lack a day,
    a time or both a time and a window ("Tuesday morning"): the caller decides what to do with those.
    """
    if not text or not text.strip():
        return []
    text = _DO_HOUR.sub(r"\g<0>at ", text[:1000])  # "we could do 6 today" offers 6 o'clock
    # "Monday eleven works", "Montag elf ginge": an hour right after a weekday; "twelve thirty any good?",
    # "would twelve thirty work?": an hour asked about
    text = _WEEKDAY_HOUR.sub(r"\g<0>um " if _is_de(language) else r"\g<0>at ", text)
    text = _HOUR_ASKED.sub(r"\g<0>at ", text)
    chunks: list[str] = []
    rest = text
    while True:  # split at the self-corrections that replace a slot by a slot
        for m in _CORRECTION.finditer(rest):
            head, tail = rest[: m.start()], rest[m.end() :]
            if _parse_plain(head, now, language) is None:
                continue
            if _RETRACTED_TAIL.fullmatch(tail):
                return []  # see offer_taken_back
            if parse_when(tail, now, language) or _bare_time(tail, now, language):
                chunks.append(head)
                rest = tail
                break
        else:
            chunks.append(rest)
            break
    offers: list[When] = []
    for i, chunk in enumerate(chunks):
        found = _alternatives(chunk, now, language)
        if not found and i and (bare := _bare_time(chunk, now, language)) is not None:
            found = [bare]
        if i and found and offers:
            fixed = offers[-1].combine(found[0])
            offers[-1] = replace(fixed, text=found[0].text)
            offers += found[1:]
        elif found:
            offers = found if i else offers + found
    return offers


def _offer_plain(text: str, now: datetime, language: str) -> When | None:
    """:func:`_parse_plain` of an offer: one from a day on ("ab dem 14. um 10", "frühestens am 14.") offers that
    day."""
    w = _parse_plain(text, now, language)
    if w is not None and w.day is None and w.first_day is not None and w.last_day is None:
        return replace(w, day=w.first_day, first_day=None)
    return w


def _alternatives(text: str, now: datetime, language: str) -> list[When]:
    """The offers of one stretch of speech without self-corrections (see :func:`parse_offers`)."""
    pieces: list[tuple[str, str]] = []  # (separator before, piece)
    sep, last = "", 0
    for m in _ALTERNATIVE.finditer(text):
        pieces.append((sep, text[last : m.start()]))
        sep = (m.group(1) or ("," if "," in m.group(0) else ".")).lower()
        last = m.end()
    pieces.append((sep, text[last:]))
    found: list[tuple[str, When | None]] = []  # (the piece's text, what it says)
    for sep, piece in pieces:
        if not piece.strip():
            continue
        w = _offer_plain(piece, now, language)
        if found and sep in _OR_LIKE and w is not None and w.time is None and re.match(r"\W*\d", piece):
            w = _offer_plain(f"{'um' if _is_de(language) else 'at'} {piece.strip()}", now, language) or w
        if found:
            prev_text, prev = found[-1]
            joined = f"{prev_text}{' ' if sep == '.' else (', ' if sep == ',' else f' {sep} ')}{piece}"
            if w is None and sep in _OR_LIKE and prev is not None and prev.time is not None:
                bare = _bare_time(piece, now, language)
                if bare is not None:
                    found.append(
                        (piece, replace(bare, day=prev.day, first_day=prev.first_day, last_day=prev.last_day))
                    )
                    continue
            if prev is None and w is not None and (sep in (".", "but", "aber") or _TAKEN.search(prev_text)):
                # "We're full. How about Wednesday?", "booked solid for weeks, the earliest is the 14th at
                # ten", "3 is taken, but 3:30 is free": a slot of its own after a refusal
                found[-1] = (piece, w)
                continue
            if w is None or prev is None or _belongs_to(prev, w, sep):
                found[-1] = (joined, _offer_plain(joined, now, language))
                continue
            if w.day is None and w.first_day is None and sep in _OR_LIKE and w.time is not None:
                w = replace(w, day=prev.day, first_day=prev.first_day, last_day=prev.last_day)
        found.append((piece, w))
    # "9:30 or 11 on Tuesday": a day said once at the end belongs to the bare times before it
    for i in range(len(found) - 1, 0, -1):
        day = found[i][1]
        if day is None or day.day is None:
            continue
        j = i - 1
        while j >= 0:
            bare = found[j][1]
            if bare is None or bare.day is not None or bare.first_day is not None:
                break
            found[j] = (found[j][0], replace(bare, day=day.day))
            j -= 1
    offers = [w for piece, w in found if w is not None and not w.is_empty and _offered(piece, w)]
    kept = [
        w
        for piece, w in found
        if w is not None and not w.is_empty and _offered(piece, w) and not _TAKEN.search(piece)
    ]
    return kept if kept or not offers else []


# what offers a day said without a time ("Tuesday is possible", "we could do Tuesday", "How about Tuesday?",
# "Dienstag ginge", "am Dienstag hätte ich was")
_OFFER_WORD = re.compile(
    r"\b(?:how about|what about|could|can|would|will|shall|free|available|open|possible|have|has|got|offer|"
    r"works?|suits?|fits?|fit (?:you|him|her|them) in|manage|squeeze|do|better|best|any good|is good|"
    r"opening|openings|space|room|slot|slots|appointment|"
    r"(?:something|anything)(?! (?:like|came|comes|happened|wrong|weird|odd|strange|funny|is going on)\b)|"
    r"wie wäre|wie wärs?|was ist mit|ginge|geht|gehen|hätte|hätten|habe|haben|hab|frei|möglich|könnte|könnten|"
    r"können|kann|anbieten|passt|passen|würde|wäre|termin\w*|platz|lücke|noch was|"
    # "etwas" as "something" ("hätte etwas am Donnerstag", "Donnerstag etwas?"), not as "a bit" before a
    # word that says how ("das System ist heute etwas langsam", "morgen wird es etwas ruhiger")
    r"etwas(?!\s+(?!(?:am|um|an|im|ab|für|gegen|zwischen|noch|frei|passendes|anderes|da|zeit)\b)(?-i:[a-zäöüß]+)\b))\b",
    re.IGNORECASE,
)
# small talk, a day in it or not: never an offer ("busy day today", "have a nice Sunday", "heute ist viel los")
SMALL_TALK = re.compile(
    r"\b(?:busy|hectic|crazy|mad|manic|madness|chaos|chaotic|all go|non-?stop|what an? |long (?:day|week)|"
    r"have a (?:nice|good|great|lovely)|weather|rain\w*|sunny|"
    r"(?:viel|was|einiges|hölle|ganz schön was|richtig was) los|stressig|hektisch|verrückt|wahnsinn\w*|was für ein\w*|schöne[nms]? |wetter|regn\w*)",
    re.IGNORECASE,
)
# how things go at the business, a day or time in it or not: no offer either ("we're a bit slow today", "the
# system has been slow since 9", "das System ist heute etwas langsam"); not small talk Lisa answers as such
_HOW_IT_GOES = re.compile(
    r"\b(?:slow|sluggish|laggy|under the weather|short[- ]staffed|understaffed|langsam|lahm|erkältet|"
    r"unterbesetzt)\b",
    re.IGNORECASE,
)
# what may stand beside a day in a bare answer ("Tuesday.", "Maybe Tuesday morning then", "Nur Dienstag")
_BESIDE_A_DAY = frozenset({
    "oh", "ah", "uh", "um", "erm", "hmm", "well", "so", "then", "and", "or", "but", "also", "maybe", "perhaps",
    "possibly", "only", "just", "on", "the", "at", "in", "of", "for", "this", "next", "coming", "following",
    "week", "weekend", "morning", "afternoon", "evening", "noon", "midday", "lunchtime", "early", "late",
    "earliest", "first", "yes", "yeah", "no", "ok", "okay", "right", "sorry", "please", "see", "you", "till",
    "until", "either", "there", "actually", "instead", "rather", "i", "mean", "meant", "my", "mistake",
    "correction", "wait", "oops", "doch", "lieber", "stattdessen", "eher", "besser", "meine", "meinte", "sondern",
    "korrektur", "äh", "ähm", "ach", "dann", "und", "oder", "aber", "auch", "vielleicht", "eventuell", "nur",
    "erst", "am", "an", "im", "den", "dem", "der", "die", "das", "diese", "diesen", "dieser", "nächste",
    "nächsten", "nächster", "kommende", "kommenden", "woche", "vormittag", "nachmittag", "abend", "morgens",
    "vormittags", "nachmittags", "abends", "früh", "ja", "nein", "nee", "genau", "bis", "entschuldigung", "leider",
    "bitte", "danke", "zum",
})  # fmt: skip
_DAY_WORDS = re.compile(
    rf"\b(?:{_WD_NAMES}|today|tomorrow|tonight|heute|morgen|übermorgen|{_MONTH})\w*|\d+\S*",
    re.IGNORECASE,
)
# having to do something oneself ("I have to", "she needs to", "ich muss"): "have" there offers nothing; what
# the patient would have to do ("he'd have to come at 8") or a look in the diary ("I have to check") may offer
_HAVE_TO = re.compile(
    r"(?<!'d )(?<!would )(?<!will )(?<!'ll )\b(?:have|has|had|'ve got|got|need|needs|must) to\b"
    r"(?! (?:just |quickly |first )?(?:check|look|see|ask|say|admit|confirm|tell|find|double|come|be here|"
    r"arrive|bring|book|put))|\bgotta\b",
    re.IGNORECASE,
)
# what the business tells of its own day, a day or time in it or not — when it closes, leaves, is away or has a
# meeting — is no offer ("we close at 6 today", "I have to leave early on Friday", "we have a team meeting on
# Monday", "we're only here until noon on Friday", "heute schließen wir um 18 Uhr", "wir haben am Montag
# Teamsitzung"); unless it says what is free beside it (:data:`_FREE`)
OWN_DAY = re.compile(
    rf"{_HAVE_TO.pattern}|"
    r"\b(?:(?:staff|team|board) )?meetings?\b|\b(?:training|conference|seminar|inspection|audit|day off|half[- ]day|"
    r"lunch break|vacation|(?:on|a|bank|public|school) holidays?)\b|"
    r"\b(?:we'?re|i'?m|she'?s|he'?s|they'?re|(?:we|they) are|i am|(?:she|he|it) is|the \w+ is) (?:\w+ )?"
    r"(?:off|away|out|closed|shut)\b|"
    r"\bleav(?:e|es|ing) (?:early|earlier|at|by|before|around|for|the office|work|soon|on|today|tomorrow|tonight)\b|"
    r"\bgo(?:ing|es)? home\b|\bknock(?:s|ing)? off\b|\bfinish(?:es|ing)? (?:at|early|by)\b|"
    r"\bclos(?:e|es|ed|ing)\b(?! to\b)|\bshut(?:s|ting)?\b|"
    r"\b(?:here|open|around|there|working|in the office) (?:only )?(?:until|till|til)\b|"
    r"\bonly (?:here|open|around|there|working)\b|"
    r"\b(?:teamsitzung|praxissitzung|teambesprechung|dienstbesprechung|besprechung|teammeeting|meeting|"
    r"fortbildung|schulung|urlaub|praxisurlaub|betriebsausflug|inventur|konferenz|brückentag)\b|"
    r"\bschließ\w*|\bgeschlossen\b|\bzu(?:machen|gemacht)\b|\bmach\w* (?:\w+ ){0,6}zu\b|\bfeierabend\b|"
    r"\b(?:geöffnet|offen|da|hier|im haus|in der praxis) (?:nur |noch )?bis\b|\bnur (?:noch )?bis\b|"
    r"\b(?:muss|müssen|musst|muß)\b[^.,;!?]*?\b(?:weg|los|gehen|abholen|schließen|zumachen|früher)\b|"
    r"\bfrüher (?:weg|gehen|los|schluss)\b|"
    r"\b(?:haben|hat|ist|sind) (?:wir |die praxis |der salon |das geschäft )?(?:\w+ ){0,2}zu\b(?!\s+\w)",  # "samstags haben wir zu"
    re.IGNORECASE,
)
# what says a slot is free beside talk of the business's own day ("Friday we close early, but 10 is free")
_FREE = re.compile(
    r"\b(?:free|available|possible|could do|can do|can offer|could offer|how about|what about|fit (?:him|her|"
    r"you|them) in|squeeze|an opening|a slot|an appointment|something|anything|space for|room for|"
    r"ginge|anbieten|frei|möglich|hätte ich|hätten wir|habe ich noch|haben wir noch|wie wäre|einen termin|"
    r"platz|lücke)\b",
    re.IGNORECASE,
)


def _offered(piece: str, w: When) -> bool:
    """Whether ``piece`` offers what it says (``w``): a time is an offer; a day or window without one only with
    words that offer it, or with nothing but fillers beside it — small talk that names a day offers nothing
    ("it's all go today", "what a Monday", "heute ist viel los")."""
    if OWN_DAY.search(piece) and not _FREE.search(piece):
        return False  # "we close at 6 today", "I have to leave early on Friday", "Montag Teamsitzung"
    chat = (SMALL_TALK.search(piece) or _HOW_IT_GOES.search(piece)) and not _FREE.search(piece)
    if w.time is not None:  # a time is an offer, unless only chat is around it ("slow since 9 this morning")
        return not (chat and not _OFFER_WORD.search(_HAVE_TO.sub(" ", piece)))
    if chat:
        return False
    if _OFFER_WORD.search(_HAVE_TO.sub(" ", piece)):  # "I have to pick up my son on Friday" has nothing
        return True
    rest = _DAY_WORDS.sub(" ", piece.replace(w.text, " ") if w.text else piece)
    return all(word in _BESIDE_A_DAY for word in re.findall(r"[^\W\d_]+", rest.lower()))


def _belongs_to(prev: When, cur: When, sep: str) -> bool:
    """Whether ``cur`` only completes ``prev`` ("Monday, at 10", "at 10, on Monday", "Montag, den 30.11.")."""
    prev_day = prev.day is not None or prev.first_day is not None
    cur_day = cur.day is not None or cur.first_day is not None
    prev_clock = prev.time is not None or prev.earliest is not None or prev.latest is not None
    cur_clock = cur.time is not None or cur.earliest is not None or cur.latest is not None
    if sep in ("or", "oder", "otherwise", "alternatively", "sonst", "alternativ", "but", "aber"):
        return False
    if prev_day and not prev_clock and cur_clock and not cur_day:
        return True
    if prev_clock and not prev_day and cur_day and not cur_clock:
        return True
    if (
        prev.day is None
        and prev.first_day
        and prev.last_day
        and not prev_clock
        and cur.day is not None
        and sep == ","
    ):
        return prev.first_day <= cur.day <= prev.last_day  # "next week, Monday 10-12"
    if prev_day and not prev_clock and cur_day and prev.day is not None and cur.day is not None:
        return prev.day.weekday() == cur.day.weekday()  # "Monday, December 7th"
    return (
        prev.time is not None and cur.time is None and not cur_day and cur_clock
    )  # "at 4, in the afternoon"


def _complete(w: When) -> bool:
    return (w.day is not None or w.first_day is not None) and (
        w.time is not None or w.earliest is not None or w.latest is not None
    )


def warm_up() -> None:
    """Load dateparser's language data once (the first call takes ~0.15 s)."""
    now = datetime(2026, 1, 1, 12)
    for lang in ("en", "de"):
        _month_date("2 december", lang, now)


_MONTH_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_DE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
_DAY_EN = [w.capitalize() for w in _WD_EN]
_DAY_DE = [w.capitalize() for w in _WD_DE]


def _is_de(language: str) -> bool:
    return str(language).lower().startswith("de")


def say_day(day: date, language: str, now: datetime | None = None) -> str:
    """ "Monday, November 30" / "Montag, 30. November" (the year only when it is not ``now``'s)."""
    year = now is not None and day.year != now.year
    if _is_de(language):
        s = f"{_DAY_DE[day.weekday()]}, {day.day}. {_MONTH_DE[day.month - 1]}"
        return f"{s} {day.year}" if year else s
    s = f"{_DAY_EN[day.weekday()]}, {_MONTH_EN[day.month - 1]} {day.day}"
    return f"{s}, {day.year}" if year else s


def say_time(t: dtime, language: str) -> str:
    """Phone-friendly: "10:30" / "10 am" / "3 pm" / "3:30 pm"; de "10:30 Uhr" / "15 Uhr"."""
    if _is_de(language):
        return f"{t.hour} Uhr" if t.minute == 0 else f"{t.hour}:{t.minute:02d} Uhr"
    if t.hour == 12 and t.minute == 0:
        return "12 noon"
    h12 = t.hour % 12 or 12
    if t.hour < 12:
        return f"{h12} am" if t.minute == 0 else f"{h12}:{t.minute:02d}"
    return f"{h12} pm" if t.minute == 0 else f"{h12}:{t.minute:02d} pm"


def say_datetime(moment: datetime, language: str, now: datetime | None = None) -> str:
    """ "Monday, November 30 at 10:30" / "Montag, 30. November um 10:30 Uhr"."""
    joiner = "um" if _is_de(language) else "at"
    return f"{say_day(moment.date(), language, now)} {joiner} {say_time(moment.time(), language)}"
