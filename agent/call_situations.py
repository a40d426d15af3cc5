"""What an outbound call meets before (and between) the person Lisa wants: phone menus, queue and hold
announcements, voicemail greetings and call screeners — recognised from text alone (en + de), with what
Lisa does about each.

:func:`respond` runs before the brain on every turn of an outbound call (the engine calls it, so the rule
brain and the LLM brain get the same handling): it returns what Lisa says ("" = nothing, e.g. a key pressed or
a recorded hold message), or None when the turn is a person talking, for the brain. What it keeps between
turns lives in ``conv.state["phone"]``; keys to press go to ``conv.send_digits`` for the channel to send as
DTMF. The audio side (hold music is not speech, the voicemail beep) is the pipeline's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent import rule_nlu as nlu
from agent.conversation import BookingRequest, Conversation
from agent.phrases import phrase

MAX_MENUS = 4  # menus answered in one call before Lisa gives up (depth and loops together)
MAX_SAME_MENU = 2  # the same menu heard this often after pressing a key: a loop


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class Situation(StrEnum):
    MENU = "menu"  # "For appointments press 1, …"
    VOICEMAIL = "voicemail"  # "… leave a message after the tone"
    SCREENER = "screener"  # "Please say your name and why you're calling"
    SCREENER_NOTICE = "screener_notice"  # "The person you're calling is using a screening service."
    QUEUE = "queue"  # a recorded hold message: "All our staff are busy, please stay on the line"
    HOLD = "hold"  # a person putting Lisa on hold: "One moment, I'll put you on hold"
    NONE = "none"  # a person talking


# ------------------------------------------------------------------------------------------ menus

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "star": "*", "pound": "#", "hash": "#",
    "null": "0", "eins": "1", "zwei": "2", "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7",
    "acht": "8", "neun": "9", "stern": "*", "raute": "#",
}  # fmt: skip
_DIGIT = r"(?P<digit>[0-9*#]|" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + r")\b"
_PRESS_EN = r"(?:please\s+)?(?:press|dial|select|choose|enter|push)\s+(?:the\s+)?(?:number\s+|key\s+)?"
_PRESS_DE = (
    r"(?:(?:drücken|wählen|tippen)\s+sie\s+(?:bitte\s+)?(?:jetzt\s+)?(?:die\s+)?(?:taste\s+|nummer\s+|ziffer\s+)?"
    r"|(?:die\s+)?taste\s+)"
)
_LABEL = r"(?P<label>[^.;:!?,]{1,60}?)"
# "For appointments, press 1" / "Für Termine drücken Sie die 1"
_LABEL_FIRST = (
    _rx(
        r"\b(?:for|to|if you(?: would like| want| wish| need)?(?: to)?)\s+"
        + _LABEL
        + r",?\s*"
        + _PRESS_EN
        + _DIGIT
    ),
    _rx(r"\b(?:für|um|wenn sie|falls sie)\s+" + _LABEL + r",?\s*" + _PRESS_DE + _DIGIT),
)
# "Press 2 for billing" / "Drücken Sie die 2 für Rezepte"
_DIGIT_FIRST = (
    _rx(r"\b" + _PRESS_EN + _DIGIT + r",?\s*(?:for|to|if)\s+" + _LABEL + r"(?=[.;:!?,]|$|\s+(?:press|or)\b)"),
    _rx(
        r"\b"
        + _PRESS_DE
        + _DIGIT
        + r",?\s*(?:für|um|wenn)\s+"
        + _LABEL
        + r"(?=[.;:!?,]|$|\s+(?:drücken|wählen|oder)\b)"
    ),
)


_JOINED = _rx(r"[.;:!?]\s+(?=(?:please\s+)?(?:press|dial|select|choose|enter|push|drücken|wählen|tippen)\b)")


@dataclass(frozen=True)
class MenuOption:
    digit: str
    label: str


def menu_options(text: str) -> list[MenuOption]:
    """The options a phone menu announces, in order ("For appointments press 1, for billing press 2"). A
    menu says them one way ("for X press N" or "press N for X"): that way wins where
    the two readings overlap ("press 1 for billing, press 2 …" is not "billing, press 2"); the reading with
    more options, then the one that ends with the menu, is the menu's way."""
    # speech recognition ends sentences inside options: "For appointments. Press 1"
    text = _JOINED.sub(", ", text)
    readings = []
    for patterns in (_LABEL_FIRST, _DIGIT_FIRST):
        readings.append(sorted((m for p in patterns for m in p.finditer(text)), key=lambda m: m.start()))
    # the reading with more options wins; on a tie the one that runs to the end of the menu ("…, press 3 for
    # opening hours" read label-first leaves "for opening hours" over)
    readings.sort(key=lambda ms: (len(ms), ms[-1].end() if ms else 0), reverse=True)
    chosen = list(readings[0])
    for m in readings[1]:
        if all(m.end() <= c.start() or m.start() >= c.end() for c in chosen):
            chosen.append(m)
    options: list[MenuOption] = []
    for m in sorted(chosen, key=lambda m: m.start()):
        option = _option(m)
        if option.digit not in {o.digit for o in options}:
            options.append(option)
    return options


def _option(m: re.Match[str]) -> MenuOption:
    digit = m.group("digit").lower()
    label = re.sub(
        r"^(?:the|a|an|our|die|den|das|der|eine?n?|unser\w*)\s+", "", m.group("label").strip(), flags=re.I
    )
    return MenuOption(_DIGIT_WORDS.get(digit, digit), label.strip())


_BOOKING = _rx(
    r"\b(appoint\w*|book\w*|schedul\w*|reserv\w*|make an? (appointment|booking)|new patients?|consultations?|"
    r"termin\w*|buch\w*|vereinbar\w*|reservier\w*|neupatient\w*)\b|termin"
)
_OPERATOR = _rx(
    r"\b(reception\w*|front desk|operator|receptionist|staff|team member|someone|somebody|a person|"
    r"representative|an agent|customer service|all other|other (questions|inquiries|enquiries|matters|concerns)|"
    r"anything else|everything else|general|empfang|rezeption|anmeldung|mitarbeiter\w*|praxisteam|team|"
    r"sonstige\w*|alle anderen|andere[nr]? (anliegen|fragen)|allgemein\w*)\b"
)
_AVOID = _rx(
    r"\b(cancel\w*|reschedul\w*|billing|bills?|invoices?|payments?|prescriptions?|refills?|results?|pharmacy|"
    r"opening hours|hours|directions|address|fax|emergenc\w*|absag\w*|stornier\w*|verschieb\w*|rechnung\w*|"
    r"zahlung\w*|rezept\w*|befund\w*|ergebnis\w*|apotheke|öffnungszeiten|anfahrt|adresse|notf[aä]ll\w*)\b"
)
_STAY_ON_LINE = _rx(
    r"\b(stay on the line|remain on the line|hold the line|hold for|wait for (the next|an?|our)|"
    r"bleiben sie (bitte )?(dran|in der leitung|am apparat)|warten sie)\b"
)
_STOP_WORDS = {
    "appointment", "book", "booking", "need", "would", "like", "with", "for", "and", "the", "this", "that",
    "brauche", "einen", "eine", "termin", "für", "ich", "möchte", "hätte", "gern", "gerne", "buchen",
}  # fmt: skip


@dataclass(frozen=True)
class MenuChoice:
    digits: str | None  # None: wait (for an operator, or for the menu to route on its own)
    why: str


def choose_option(options: list[MenuOption], request: BookingRequest | None, text: str = "") -> MenuChoice:
    """The option that fits a booking request: one about appointments or the request's subject; else the
    operator / reception / "all other questions"; else wait when the menu says to stay on the line; else
    "0" (the usual key for a person)."""
    purpose_words = set()
    if request is not None:
        for word in re.findall(r"[^\W\d_]{4,}", f"{request.title} {request.description}".lower()):
            if word not in _STOP_WORDS:
                purpose_words.add(word)
    best: tuple[int, MenuOption] | None = None
    for option in options:
        label = option.label.lower()
        if _AVOID.search(label) and not _BOOKING.search(re.sub(_AVOID.pattern, "", label, flags=re.I)):
            continue
        score = 2 * bool(_BOOKING.search(label)) + sum(1 for w in purpose_words if w in label)
        if score and (best is None or score > best[0]):
            best = (score, option)
    if best is not None:
        return MenuChoice(best[1].digit, best[1].label)
    operator = next((o for o in options if _OPERATOR.search(o.label) and not _AVOID.search(o.label)), None)
    if operator is not None:
        return MenuChoice(operator.digit, operator.label)
    if _STAY_ON_LINE.search(text):
        return MenuChoice(None, "stay on the line")
    return MenuChoice("0", "operator")


# ------------------------------------------------------------------------------------------ voicemail, screeners, hold

_MAILBOX = _rx(r"\b(voice ?mail|mail ?box|answering machine|anrufbeantworter|sprachbox|mailbox)\b")
_AFTER_TONE = _rx(
    r"\b(after|at) the (tone|beep|signal)|\b(nach dem|nach einem) (signalton|piepton|ton|piep|signal)\b|"
    r"\bbeim (signalton|piepton|ton)\b"
)
_UNAVAILABLE = _rx(
    r"\b(not available|unavailable|can'?t (come to|take|get to) the phone|can'?t take your call|"
    r"not (here|in|able to take)|away from|out of the office|closed|"
    r"nicht erreichbar|nicht (zu erreichen|verfügbar|da|im büro)|geschlossen|außerhalb unserer)\b"
)
_LEAVE_MESSAGE = _rx(
    r"\b(leave (us |me )?(a|your) (message|name)|record your message|"
    r"(hinterlassen|sprechen) sie (uns |mir )?(bitte )?(eine|ihre) nachricht|nachricht hinterlassen|"
    r"(ihren|ihre) namen? und (ihre )?(nummer|telefonnummer))\b"
)
# a call screener asking who is calling and why (Lisa answers) …
_SCREENER = _rx(
    r"(\b(say|state|tell (me|us)|record) your name\b.*\b(why|reason|purpose|what)\b|"
    r"\b(who'?s calling and (why|what)|who is calling and (why|what)|"
    r"(nennen|sagen) sie (bitte )?(ihren|mir ihren) namen\b.*\b(grund|worum|anliegen|warum)|"
    r"wer (ist|spricht) (da )?und (warum|worum|was))\b)"
)
# … or only saying that it screens (Lisa waits for the question)
_SCREENER_NOTICE = _rx(
    r"\b(screening (service|calls)|call screen\w*|call assist\w*|google assistant|"
    r"the person you'?re calling (is using|will)|before i (try to )?connect you|anrufassistent\w*|"
    r"anruf ?filter)\b"
)
_QUEUE = _rx(
    r"\b(all (of )?our (staff|agents|lines|team members|representatives|colleagues|operators)\b.{0,30}\b(busy|engaged|"
    r"occupied|assisting|helping|with other)|your call is important|(stay|remain) on the line|"
    r"(you are|you'?re) (caller |number )?(number )?\d+ in (the )?(queue|line)|next available|"
    r"your call will be answered|calls? (are|is) (answered|taken) in (the )?order|currently (busy|engaged)|"
    r"alle (unsere[n]? )?(mitarbeiter\w*|leitungen|plätze|kolleg\w*)\b.{0,30}\b(besetzt|belegt|im gespräch)|"
    r"ihr anruf ist (uns )?wichtig|legen sie (bitte )?nicht auf|bleiben sie (bitte )?in der leitung|"
    r"der nächste freie|(sie werden|wir verbinden sie) (gleich|in kürze|sofort)|warteschleife)\b"
)
_HOLD = _rx(
    r"\b((i'?ll|let me|i'?m going to|i will|i'?m gonna) (just )?put you (on hold|through)|"
    r"(please|can you|could you|would you|if you could) (please )?hold|hold (on|the line|please)|"
    r"(one|a) (moment|second|sec|minute),? (please|i'?ll|let me)|just a (moment|sec|second|minute)|"
    r"i'?ll (just )?(check|transfer you|connect you)|let me (check|see|look|transfer|connect)|bear with me|"
    r"ich (stelle|verbinde) sie|in die warteschleife|bleiben sie (bitte |kurz )*dran|"
    r"einen (kleinen )?(moment|augenblick)|moment,? bitte|kurz warten|ich schau\w*( mal)? nach)\b"
)
_ANY_TIME_OR_DAY = _rx(
    r"\d|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|morning|afternoon|"
    r"o'?clock|half past|quarter|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|heute|morgen|"
    r"nachmittag|vormittag|uhr)\b"
)
# a day named: a queue's words ("next available", "stay on the line") around it make an offer, not a queue
_DAY_WORD = _rx(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|montag|dienstag|mittwoch|"
    r"donnerstag|freitag|samstag|sonntag|heute|morgen|übermorgen)\b"
)
# what speech recognition makes of music and tones: "[Music]", "(upbeat music)", "♪ ♪", "Thanks for watching!"
_NON_SPEECH = _rx(
    r"^\W*((\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪+|♫+)\W*)+$|^\W*(thanks for watching|please subscribe|"
    r"subtitles by)\b"
)


_FAREWELL = re.compile(
    r"^\W*(good\s*bye|bye(\W*bye)*|tsch(ü|u)s+|tschö|ciao|auf wieder(sehen|hören))\b", re.IGNORECASE
)


def is_farewell(text: str) -> bool:
    """A caller taking leave in a word or two ("Goodbye.", "Bye bye!", "Tschüss."): never a backchannel."""
    return bool(_FAREWELL.search(text))


def is_non_speech(text: str) -> bool:
    """Whether a transcript is speech recognition's rendering of music, tones or noise ("[Music]", "♪")."""
    return not text.strip() or bool(_NON_SPEECH.search(text.strip()))


def is_voicemail(text: str) -> bool:
    """A mailbox greeting ("… is not available, please leave a message after the tone"); a person asking
    "would you like to leave a message?" is none."""
    if text.rstrip().endswith("?") and not _MAILBOX.search(text):
        return False
    if _MAILBOX.search(text) and (
        _LEAVE_MESSAGE.search(text) or _AFTER_TONE.search(text) or _UNAVAILABLE.search(text)
    ):
        return True
    if _AFTER_TONE.search(text):
        return True
    return bool(_UNAVAILABLE.search(text) and _LEAVE_MESSAGE.search(text))


def classify(text: str) -> Situation:
    """What kind of turn ``text`` is (see :class:`Situation`)."""
    if is_voicemail(text):
        return Situation.VOICEMAIL
    if menu_options(text):
        return Situation.MENU
    if _SCREENER.search(text):
        return Situation.SCREENER
    if _SCREENER_NOTICE.search(text):
        return Situation.SCREENER_NOTICE
    if _QUEUE.search(text) and not _DAY_WORD.search(text):  # "Next available would be Tuesday at 2": an offer
        return Situation.QUEUE
    if _HOLD.search(text) and len(text.split()) <= 14 and not _ANY_TIME_OR_DAY.search(text):
        return Situation.HOLD
    return Situation.NONE


# ------------------------------------------------------------------------------------------ state and replies


def phone_state(conv: Conversation) -> dict[str, Any]:
    """What this module keeps on a call: ``person`` (a person talked), ``on_hold``, ``menus`` answered,
    ``last_menu`` and how often it came (``same_menu``), ``pressed`` keys, ``screened``, ``voicemail``."""
    state: dict[str, Any] = conv.state.setdefault("phone", {})
    return state


def on_hold(conv: Conversation) -> bool:
    """Whether Lisa is on hold (put there by a person or a queue, or hearing hold music): she stays quiet."""
    return bool(conv.state.get("phone", {}).get("on_hold"))


def put_on_hold(conv: Conversation) -> None:
    """The line plays music or queue messages: Lisa waits quietly until a person speaks."""
    phone_state(conv)["on_hold"] = True


def voicemail_greeting(conv: Conversation) -> bool:
    """Whether a mailbox greeting was recognised (the channel waits for the beep before Lisa speaks)."""
    return bool(conv.state.get("phone", {}).get("voicemail"))


def _t(conv: Conversation, key: str, **values: Any) -> str:
    return phrase(conv.language, f"phone.{key}", **values)


def _user(conv: Conversation) -> str:
    name = conv.request.user_name if conv.request else ""
    return name or _t(conv, "user")


def _purpose(conv: Conversation) -> str:
    if conv.request is None:
        return _t(conv, "purpose")
    return nlu.purpose(conv.request, str(conv.language))


def voicemail_message(conv: Conversation, with_number: bool | None = None) -> str:
    """The short message Lisa leaves on a mailbox: who she calls for, what for, the callback number only
    when the user allowed it (``user_profile.share_callback_number``), and goodbye."""
    request = conv.request
    preferred = nlu.spoken_preference(request.preferred_time, str(conv.language)) if request else ""
    if preferred and nlu.ANY_TIME.search(preferred):
        preferred = ""
    text = _t(
        conv,
        "voicemail",
        user=_user(conv),
        purpose=_purpose(conv),
        preferred=_t(conv, "voicemail_preferred", preferred=preferred) if preferred else "",
    )
    if with_number is None:
        with_number = may_share_number(conv)
    if with_number and request is not None and request.callback_number:
        text += _t(conv, "voicemail_number", user=_user(conv), phone=request.callback_number)
    else:
        text += _t(conv, "voicemail_retry")
    return text + _t(conv, "voicemail_end")


def may_share_number(conv: Conversation) -> bool:
    """Whether the user allowed their callback number on a voicemail (``user_profile.share_callback_number``)."""
    if conv.request is None:
        return False
    value = conv.request.user_profile.get("share_callback_number")
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


async def leave_voicemail(conv: Conversation, tools: Any, leave_messages: bool = True) -> str:
    """A mailbox answered (recognised greeting, or answering-machine detection after the beep): Lisa
    leaves her message and ends the call, or with ``leave_messages`` off ends it without one; either way
    the request waits for a call back (``waiting_for_callback``)."""
    state = phone_state(conv)
    if state.get("message_done"):
        return ""
    state["message_done"] = True
    state["voicemail"] = True
    place = str(conv.slots.get("callee") or "").strip()
    de = str(conv.language) == "de"
    if not leave_messages:
        summary = (
            f"Mailbox{' von ' + place if place else ''} erreicht; keine Nachricht hinterlassen."
            if de
            else f"Reached the voicemail{' of ' + place if place else ''}; no message left."
        )
        await tools.wait_for_callback(summary, "voicemail_reached")
        return ""
    text = voicemail_message(conv)
    number = " (with the callback number)" if may_share_number(conv) else ""
    summary = (
        f"Nachricht auf der Mailbox{' von ' + place if place else ''} hinterlassen{' (mit Rückrufnummer)' if number else ''}."
        if de
        else f"Left a message on the voicemail{' of ' + place if place else ''}{number}."
    )
    await tools.wait_for_callback(summary, "message_left")
    return text


async def give_up_holding(conv: Conversation, tools: Any, waited_s: float) -> str:
    """Lisa has held longer than the limit: she says so politely, ends the call, the request waits."""
    minutes = max(1, round(waited_s / 60))
    de = str(conv.language) == "de"
    summary = (
        f"Nach {minutes} Minute{'n' if minutes != 1 else ''} in der Warteschleife aufgelegt; erneuter Anruf folgt."
        if de
        else f"Gave up after {minutes} minute{'s' if minutes != 1 else ''} on hold; will call again."
    )
    phone_state(conv)["on_hold"] = False
    await tools.wait_for_callback(summary, "hold_timeout")
    return _t(conv, "hold_give_up")


async def respond(conv: Conversation, text: str, tools: Any, leave_messages: bool = True) -> str | None:
    """Lisa's answer to a turn that is a menu, a mailbox, a screener, a queue or a hold announcement ("" =
    she says nothing), or None for a person talking (then the brain answers). Sets ``conv.send_digits``
    when she presses keys."""
    state = phone_state(conv)
    situation = classify(text)
    person = bool(state.get("person"))
    if state.get("on_hold") and is_non_speech(text):
        return ""
    if not person and situation is Situation.VOICEMAIL:
        return await leave_voicemail(conv, tools, leave_messages)
    if situation is Situation.MENU and not person:
        return await _menu(conv, text, tools)
    if situation is Situation.SCREENER and not person:
        state["screened"] = int(state.get("screened", 0)) + 1
        await tools.note_event("screened", "A call screener asked who is calling; Lisa said who and why.")
        return _t(conv, "screener", user=_user(conv), purpose=_purpose(conv))
    if situation is Situation.SCREENER_NOTICE and not person:
        return ""  # its question follows
    if situation is Situation.QUEUE:
        state["on_hold"] = True
        return ""
    state["person"] = True
    if situation is Situation.HOLD:
        state["on_hold"] = True
        if not conv.lisa_lines():  # "Miller Dental, please hold": no introduction into the hold
            return phrase(conv.language, "outbound.hold")
        return None  # the brain acknowledges it ("Sure, I'll wait.")
    state["on_hold"] = False
    return None


async def _menu(conv: Conversation, text: str, tools: Any) -> str:
    state = phone_state(conv)
    options = menu_options(text)
    signature = "|".join(f"{o.digit}:{o.label.lower()}" for o in options)
    same = signature == state.get("last_menu")
    state["same_menu"] = int(state.get("same_menu", 0)) + 1 if same else 1
    state["last_menu"] = signature
    state["menus"] = int(state.get("menus", 0)) + 1
    pressed: list[str] = state.setdefault("pressed", [])
    choice = choose_option(options, conv.request, text)
    if same and pressed:
        # the same menu again after a key: the key led nowhere (or the menu repeats); a person instead, once
        if state["same_menu"] > MAX_SAME_MENU or "0" in pressed:
            choice = MenuChoice(None, "loop")
        else:
            operator = next((o for o in options if _OPERATOR.search(o.label)), None)
            choice = MenuChoice(
                operator.digit if operator and operator.digit not in pressed else "0", "operator"
            )
    fallback = choice.digits in (None, "0") or choice.why == "operator" or not _BOOKING.search(choice.why)
    if not same and fallback and state.get("fitted"):
        # the rest of a menu whose fitting key Lisa has pressed already ("… For billing, press 2."): wait
        # for what the key brings instead of asking for a person
        state["fitted"] = False
        return ""
    if state["menus"] > MAX_MENUS or choice.why == "loop":
        state["on_hold"] = False
        de = str(conv.language) == "de"
        summary = (
            "Im Telefonmenü nicht weitergekommen; erneuter Anruf folgt."
            if de
            else "Could not get through the phone menu; will call again."
        )
        await tools.wait_for_callback(summary, "phone_menu_failed")
        return ""
    if choice.digits is None:
        state["on_hold"] = True  # waiting for the menu to hand the call to a person
        await tools.note_event("phone_menu", "Phone menu: waiting on the line for a person.")
        return ""
    pressed.append(choice.digits)
    state["fitted"] = not fallback
    conv.send_digits = (conv.send_digits or "") + choice.digits
    state["on_hold"] = True  # after a key: music, another menu or a person
    await tools.note_event("phone_menu", f"Phone menu: pressed {choice.digits} ({choice.why}).")
    return ""
