"""Lisa as a guest in a team chat room: what a conversation between people is about (meeting or calling, a
request to set a meeting up), which language a question is in, what Lisa says there, and short suggestions
for what to write or do next. Plain text in, plain text out: no HTTP, no storage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# people talking about meeting or calling (en, de, ru)
_MEETING_TALK = re.compile(
    r"\b(call|calls|calling|phone|meeting|meet|meetup|video ?call|zoom|hangout|catch up|sync|talk (?:live|tomorrow|"
    r"later|soon|today)|anruf\w*|telefonier\w*|telefonat|meeting|treffen|besprechung|videocall|videokonferenz|"
    r"call|gespräch|zusammensetzen)\b|созвон\w*|звон\w*|встреч\w*|видеозвон\w*|позвон\w*",
    re.IGNORECASE,
)
# a request to set one up
_SET_UP = re.compile(
    r"\b(create|set ?up|make|start|schedule|book|organi[sz]e|arrange|open|send)\b.{0,40}\b(meeting|call|meet|link|"
    r"video ?call|room)\b|\b(erstell\w*|einricht\w*|organisier\w*|mach\w*|starte\w*|plan\w*|schick\w*|leg\w*)\b.{0,40}"
    r"\b(meeting|call|besprechung|link|videocall|treffen|termin)\b|(созда\w*|организу\w*|сдела\w*|запланиру\w*|"
    r"пришли\w*)[^.?!]{0,40}(встреч\w*|созвон\w*|звон\w*|ссылк\w*)",
    re.IGNORECASE,
)
_GERMAN = re.compile(
    r"\b(ich|wir|du|ihr|und|oder|nicht|ist|sind|bitte|danke|morgen|heute|können|kannst|wann|wie|was|wo|"
    r"termin|uhr|gerne|hallo|lass|uns|einen|eine|der|die|das)\b|[äöüß]",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"\b(i|we|you|and|or|not|is|are|please|thanks|tomorrow|today|can|when|how|what|where|the|a|an|let's|"
    r"lets|hello|hi|us|meeting|call)\b",
    re.IGNORECASE,
)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "suggest_meet": "Sounds like a call would help. Shall I set up a meeting? Just ask me: “create a meeting”.",
        "meet_created": "Here is your meeting link: {url}",
        "meet_failed": "I couldn't create a meeting just now. Please try again in a moment.",
        "unsure": "I'm not sure I can help with that here. Ask me about {business}, or ask me to set up a meeting.",
        "hello": "Say hello to the group",
        "answer": "Reply to {name}",
        "ask_lisa": "Ask Lisa to set up a meeting",
        "ask_hours": "Ask Lisa about the opening hours",
        "summary": "Agree on a time",
    },
    "de": {
        "suggest_meet": "Klingt, als würde ein Gespräch helfen. Soll ich ein Meeting anlegen? Fragt mich einfach: "
        "„erstelle ein Meeting“.",
        "meet_created": "Hier ist der Link zum Meeting: {url}",
        "meet_failed": "Ich konnte gerade kein Meeting anlegen. Bitte versucht es gleich noch einmal.",
        "unsure": "Da kann ich hier leider nicht helfen. Fragt mich etwas über {business} oder bittet mich, ein "
        "Meeting anzulegen.",
        "hello": "Sag der Gruppe hallo",
        "answer": "Antworte {name}",
        "ask_lisa": "Lisa bitten, ein Meeting anzulegen",
        "ask_hours": "Lisa nach den Öffnungszeiten fragen",
        "summary": "Einen Termin vereinbaren",
    },
    "ru": {
        "suggest_meet": "Похоже, созвон поможет. Создать встречу? Просто попросите меня: «создай встречу».",
        "meet_created": "Вот ссылка на встречу: {url}",
        "meet_failed": "Сейчас не получилось создать встречу. Попробуйте ещё раз чуть позже.",
        "unsure": "С этим я здесь не помогу. Спросите меня о {business} или попросите создать встречу.",
        "hello": "Поздоровайтесь с группой",
        "answer": "Ответить {name}",
        "ask_lisa": "Попросить Лизу создать встречу",
        "ask_hours": "Спросить Лизу о часах работы",
        "summary": "Договориться о времени",
    },
}


def language_of(*texts: str) -> str:
    """``ru`` for Cyrillic text, ``de`` when it reads German, else ``en``."""
    text = " ".join(texts)
    if len(_CYRILLIC.findall(text)) > len(text) / 4:
        return "ru"
    return "de" if len(_GERMAN.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def about_meeting(text: str) -> bool:
    """People talk about meeting or calling (``let's have a call tomorrow``)."""
    return bool(_MEETING_TALK.search(text))


def wants_meeting_created(text: str) -> bool:
    """Lisa is asked to set a meeting up (``create a meeting``, ``leg ein Meeting an``, ``создай встречу``)."""
    return bool(_SET_UP.search(text))


def say(language: str, key: str, **fields: str) -> str:
    return PHRASES.get(language, PHRASES["en"])[key].format(**fields)


@dataclass(frozen=True)
class Line:
    """One message of the room as Lisa reads it."""

    author_id: str
    author: str
    text: str
    by_lisa: bool = False


def suggestions(lines: Sequence[Line], viewer_id: str, language: str | None = None) -> list[str]:
    """1–3 short ideas for what ``viewer`` could write or do next in the room."""
    people = [line for line in lines if not line.by_lisa and line.author_id not in ("system", "")]
    lang = language or language_of(*(line.text for line in people[-10:])) if people else (language or "en")
    found: list[str] = []
    if not people:
        return [say(lang, "hello"), say(lang, "ask_hours")]
    last = people[-1]
    if last.author_id != viewer_id:
        found.append(say(lang, "answer", name=last.author or "…"))
    recent = " ".join(line.text for line in people[-6:])
    if about_meeting(recent):
        found.append(say(lang, "ask_lisa"))
        found.append(say(lang, "summary"))
    if len(found) < 1:
        found.append(say(lang, "ask_hours"))
    return found[:3]
