"""The invariant of an outbound booking call: Lisa's last words and the stored outcome agree.

- booked ⇒ the booked slot is the one both sides agreed on, and Lisa's last words name its day and time;
- failed / waiting / open ⇒ no acceptance of hers stands and her last words accept nothing.

:func:`mismatches` states what is wrong (tests and logs); :func:`settle` runs where an outbound call ends:
it derives the outcome from the agreement (a slot agreed but not yet recorded is booked) and repairs the
last words so that the business and the user are told the same thing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from agent.agreement import KEY, Agreement, agreed_slot, iso
from agent.conversation import Conversation, Status
from agent.phrases import phrase
from agent.when import parse_offers, say_datetime

if TYPE_CHECKING:
    from agent.tools import Toolbox

log = logging.getLogger(__name__)

# words with which Lisa says yes to a slot (en + de)
ACCEPTING = re.compile(
    r"\b(would be great|works (too|for us|fine)|sounds good|perfect|that'?s fine|we'?ll take|"
    r"wäre prima|passt (auch|gut)?|prima|nehmen wir|ist gut)\b",
    re.IGNORECASE,
)


def names_slot(words: str, slot: datetime, now: datetime, language: str) -> bool:
    """Whether ``words`` name the day and the time of ``slot`` (as one offer, not a day and a stray time)."""
    local = slot.replace(tzinfo=None)
    for offer in parse_offers(words, now, language):
        if offer.day != local.date() or offer.time is None:
            continue
        # "7:45" said for 07:45 is read as 19:45: the same on a 12-hour clock when no am/pm was said
        said_half = re.search(r"\b(a\.?m\b|p\.?m\b|morning|evening|afternoon|morgens|abends)", words, re.I)
        if offer.time == local.time() or (
            not said_half and offer.time.minute == local.minute and offer.time.hour % 12 == local.hour % 12
        ):
            return True
    return False


def mismatches(conv: Conversation, last_words: str, now: datetime) -> list[str]:
    """What contradicts between the outcome of an outbound call and Lisa's last words (empty = they agree)."""
    status = conv.outcome.status
    lang = str(conv.language)
    ag = Agreement.of(conv)
    out: list[str] = []
    if status is Status.BOOKED:
        slot = conv.outcome.appointment
        if slot is None:
            return ["booked without an appointment"]
        if not names_slot(last_words, slot, now, lang):
            out.append(f"booked {iso(slot)} but the last words do not name its day and time: {last_words!r}")
        if conv.state.get(KEY) and agreed_slot(conv) != iso(slot):
            out.append(f"booked {iso(slot)} but the agreed slot is {agreed_slot(conv)}")
    else:
        if ag.standing:
            out.append(f"{status} although Lisa's yes to {ag.standing} stands")
        for sentence in re.split(r"(?<=[.!?])\s+", last_words):
            if ACCEPTING.search(sentence) and parse_offers(sentence, now, lang):
                out.append(f"{status} but the last words accept a slot: {sentence!r}")
    return out


async def settle(conv: Conversation, tools: Toolbox, last_words: str, now: datetime, user: str) -> str:
    """Lisa's last words on an ending outbound call, made to agree with the outcome derived from the agreement.

    ``tools`` is the turn's :class:`agent.tools.Toolbox`. Mismatches that had to be repaired are logged:
    they mean the brain's dialogue policy missed a case.
    """
    lang = "de" if str(conv.language) == "de" else "en"
    agreed = agreed_slot(conv)
    slot = conv.outcome.appointment
    if agreed and (conv.outcome.status is not Status.BOOKED or slot is None or iso(slot) != agreed):
        await tools.book_appointment(start=agreed)
    words = last_words
    problems = mismatches(conv, words, now)
    if not problems:
        return words
    log.warning("outbound call %s: last words and outcome disagreed: %s", conv.id, "; ".join(problems))
    ag = Agreement.of(conv)
    if conv.outcome.status is Status.BOOKED and conv.outcome.appointment is not None:
        said = say_datetime(conv.outcome.appointment, lang, now)
        words = f"{said[:1].upper()}{said[1:]} — {words}"
    elif ag.standing:
        when = say_datetime(datetime.fromisoformat(ag.standing), lang, now)
        words = phrase(lang, "outbound.release", when=when, user=user) + " " + words
        ag.withdraw()
    left = mismatches(conv, words, now)
    if left:
        log.error("outbound call %s: outcome still contradicts the last words: %s", conv.id, "; ".join(left))
    return words
