"""Which of the times Lisa offered the caller picks (en + de): "10 sounds good", "half ten", "um zehn",
"halb elf", "the later one", "die erste", "the 11:30".

After "On Thursday I could offer 8 am, 10 am or 11:30", people answer with a bare hour, a number word, a
British or German half hour, or an ordinal; am/pm is left out because the offered times settle it. A time
that matches none of the offered ones is no pick (it is a new wish, parsed as such by the caller).
"""

from __future__ import annotations

import re
from datetime import datetime

_EN_HOURS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
)  # fmt: skip
_DE_HOURS = (
    "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf",
)  # fmt: skip
_HOUR_WORDS = {w: i + 1 for i, w in enumerate(_EN_HOURS)} | {w: i + 1 for i, w in enumerate(_DE_HOURS)}
_HOUR_WORDS |= {"ein": 1, "zwo": 2}
_HOUR = r"(?<![\w:.,/+-])(\d{1,2}(?!\d)|(?:" + "|".join(sorted(_HOUR_WORDS, key=len, reverse=True)) + r")\b)"
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty-five": 45, "forty five": 45, "fünfzehn": 15,
                 "dreißig": 30, "dreissig": 30, "fünfundvierzig": 45}  # fmt: skip
_MIN = r"(\d{2}(?!\d)|(?:" + "|".join(sorted(_MINUTE_WORDS, key=len, reverse=True)) + r")\b)"
_AMPM = r"(?:\s*(a\.?\s?m\b\.?|p\.?\s?m\b\.?|in the (?:morning|afternoon|evening)|morgens|vormittags|"
_AMPM += r"nachmittags|abends))?"

# (pattern, how to turn its groups into (hour, minute)): the longest forms first
_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\bhalf past {_HOUR}{_AMPM}", re.I), "h:30"),
    (re.compile(rf"\bhalb {_HOUR}{_AMPM}", re.I), "h-1:30"),  # German "halb elf" = 10:30
    (re.compile(rf"\bhalf {_HOUR}{_AMPM}", re.I), "h:30"),  # British "half ten" = 10:30
    (re.compile(rf"\b(?:a )?quarter past {_HOUR}{_AMPM}", re.I), "h:15"),
    (re.compile(rf"\b(?:a )?quarter to {_HOUR}{_AMPM}", re.I), "h-1:45"),
    (re.compile(rf"\bviertel nach {_HOUR}{_AMPM}", re.I), "h:15"),
    (re.compile(rf"\bviertel vor {_HOUR}{_AMPM}", re.I), "h-1:45"),
    (re.compile(rf"\bviertel {_HOUR}{_AMPM}", re.I), "h-1:15"),  # "viertel elf" = 10:15 (regional)
    (re.compile(rf"\bdreiviertel {_HOUR}{_AMPM}", re.I), "h-1:45"),
    (re.compile(rf"(?<![\d:.])(\d{{1,2}})[:.](\d{{2}})(?![\d.:]){_AMPM}", re.I), "h:m"),
    (re.compile(rf"{_HOUR}\s*uhr\b(?:\s*{_MIN})?{_AMPM}", re.I), "h:m"),  # "zehn Uhr dreißig", "10 Uhr"
    (re.compile(rf"{_HOUR}\s+{_MIN}{_AMPM}", re.I), "h:m"),  # "ten thirty", "zehn dreißig"
    (re.compile(rf"{_HOUR}(\s*o'?\s?clock)?(?![:.,/]\d){_AMPM}", re.I), "h"),
]

# ordinal picks; "earlier"/"later" between two or three offers mean the first or the last one
_ORDINALS = (
    (
        0,
        r"first|1st|earliest|earlier|early (?:one|slot|time)|früheste[nrms]?|frühere[nrms]?|frühe[nrms]?|erste[nrms]?",
    ),
    (1, r"second|2nd|middle|zweite[nrms]?|mittlere[nrms]?"),
    (2, r"third|3rd|dritte[nrms]?"),
    (
        -1,
        r"last|latest|later|late (?:one|slot|time)|letzte[nrms]?|späteste[nrms]?|spätere[nrms]?|späte[nrms]?",
    ),
)
# "last week", "the first time", "later today", "later on": no pick among the offered times
_NOT_AN_ORDINAL = re.compile(
    r"\b(first|last|second|later|earlier|erste\w*|letzte\w*|zweite\w*|spätere\w*|frühere\w*) "
    r"(week|weekend|month|year|time|night|day|today|on|in the (?:week|month|day)|sunday|saturday|monday|tuesday|"
    r"wednesday|thursday|friday|woche|wochenende|monat|jahr|mal|nacht|tag|montag|dienstag|mittwoch|"
    r"donnerstag|freitag|samstag|sonntag)\b|\b(later|earlier|später|früher)\W*$|\bcall\w* \w+ later\b",
    re.IGNORECASE,
)
_PART_WORDS = (
    ("morning", r"\bmorning\b|\bvormittag\w*|\bmorgens\b|\bfrüh morgens\b"),
    ("afternoon", r"\bafternoon\b|\bnachmittag\w*"),
    ("evening", r"\bevening\b|\babend\w*"),
)


_FIXED_MINUTE = {"h:30": 30, "h-1:30": 30, "h:15": 15, "h-1:45": 45, "h-1:15": 15}


def _hour(word: str) -> int:
    return int(word) if word.isdigit() else _HOUR_WORDS[word.lower()]


def _minute(word: str | None) -> int:
    if not word:
        return 0
    return int(word) if word.isdigit() else _MINUTE_WORDS[word.lower()]


def said_times(text: str) -> list[tuple[int, int, str | None]]:
    """The clock times in ``text`` as (hour 0-23 or 1-12 without am/pm, minute, "am"|"pm"|None), in order:
    "half five" -> [(5, 30, None)], "halb elf" -> [(10, 30, None)], "10 sounds good" -> [(10, 0, None)]."""
    work = re.sub(r"\b(?:12\s+)?(?:noon|midday)\b", "12", text, flags=re.I)  # "the noon one"
    found: list[tuple[int, tuple[int, int, str | None]]] = []
    for pattern, form in _FORMS:
        for m in pattern.finditer(work):
            groups = list(m.groups())
            marker = groups[-1]
            if (
                form == "h"
                and not (groups[1] or marker)
                and groups[0].lower() in ("one", "ein")
                and not re.search(r"\b(?:at|um)\s*$", work[: m.start()], re.I)
            ):
                continue  # "the first one", "ein Termin": no hour ("at one" is)
            try:
                hour = _hour(groups[0])
                minute = _FIXED_MINUTE.get(form)
                if minute is None:
                    minute = _minute(groups[1]) if form == "h:m" else 0
            except (KeyError, ValueError):
                continue
            if form.startswith("h-1"):
                hour = 12 if hour == 1 else hour - 1
            if hour > 23 or minute > 59:
                continue
            ampm = None
            if marker:
                low = marker.lower()
                if low.startswith("a") or "morning" in low or low in ("morgens", "vormittags"):
                    ampm = "am"
                else:
                    ampm = "pm"
            found.append((m.start(), (hour, minute, ampm)))
            work = work[: m.start()] + " " * (m.end() - m.start()) + work[m.end() :]
    return [t for _, t in sorted(found)]


def _matches(option: datetime, said: tuple[int, int, str | None]) -> bool:
    hour, minute, ampm = said
    if option.minute != minute:
        return False
    if hour > 12 or hour == 0:
        return option.hour == hour
    if ampm == "am":
        return option.hour == hour % 12
    if ampm == "pm":
        return option.hour == hour % 12 + 12
    return option.hour % 12 == hour % 12


def pick_offered(text: str, options: list[datetime]) -> int | None:
    """The index of the offered time ``text`` picks (0-based; -1 = the last), or None when it picks none.

    A time picks the one offered time it matches (am/pm from the offers); an ordinal ("the first one", "die
    letzte", "the later one") picks by position; "the afternoon one" picks the only offer in that part of
    the day."""
    if not options:
        return None
    low = text.lower()
    picks = {i for said in said_times(low) for i, option in enumerate(options) if _matches(option, said)}
    if len(picks) == 1:
        return picks.pop()
    if len(picks) > 1:
        return None
    if said_times(low):
        return None  # a time that was not offered: a new wish, not a pick
    if not _NOT_AN_ORDINAL.search(low):
        for index, words in _ORDINALS:
            if re.search(rf"\b({words})\b", low):
                return index if index < len(options) else None
    for part, words in _PART_WORDS:
        if re.search(words, low):
            in_part = [i for i, o in enumerate(options) if _part(o) == part]
            if len(in_part) == 1:
                return in_part[0]
    return None


def _part(moment: datetime) -> str:
    return "morning" if moment.hour < 12 else "afternoon" if moment.hour < 17 else "evening"


def leaning_option(lean: str | None, options: list[datetime]) -> int | None:
    """The offered time a wish said before picks when the caller just says yes: "late" the last, "early" the
    first, a part of the day ("morning") the only offer in it; None when the wish picks no single one."""
    if not options or lean is None:
        return None
    if lean == "late":
        return len(options) - 1
    if lean == "early":
        return 0
    in_part = [i for i, o in enumerate(options) if _part(o) == lean]
    return in_part[0] if len(in_part) == 1 else None
