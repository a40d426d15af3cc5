"""What a call is about, as words to bias speech recognition with.

Names are what a small speech model gets wrong most ("Nina Vogel" → "nina vodial", "Optik Sommer" → "Optics
summer"), and they are known before anyone says them: the user and the purpose of an outbound request, the
business that answered (once it has said its name), the business and services of inbound calls. Whisper
takes them as its previous-text prompt (``<|startofprev|>``, faster-whisper's ``initial_prompt``; at most
``local_models.MAX_CONTEXT_TOKENS``, a longer prompt makes tiny.en copy it), used when the plain transcript
is unsure (see ``local_models.recognise_short``); Deepgram takes the same names and services as ``keyterm``.
Weekdays and time phrases are left out: measured (``bench/stt_wer.py``), a weekday list in tiny.en's prompt
turned "Wednesday at two" into "Wednesday at Tuesday" and a time list changed how times are written, and
both recognisers know these words without help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.business import BusinessProfile
from agent.conversation import Conversation, Language, Mode

MAX_PURPOSE_WORDS = 6
MAX_TERMS = 12


@dataclass(frozen=True)
class SpeechContext:
    """``prompt``: Whisper's previous-text prompt; ``terms``: names to boost (Deepgram ``keyterm``)."""

    prompt: str = ""
    terms: tuple[str, ...] = ()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip(" .,;:!?")


def _purpose(title: str) -> str:
    """The request's title as a short phrase ("Book a dental cleaning" → "a dental cleaning")."""
    words = _clean(title).split()
    if words and words[0].lower() in {"book", "schedule", "make", "arrange", "get", "buchen", "termin"}:
        words = words[1:]
    return " ".join(words[:MAX_PURPOSE_WORDS])


def speech_context(conv: Conversation, business: BusinessProfile | None = None) -> SpeechContext:
    """The context of ``conv`` now (the callee's name joins once the brain has heard it)."""
    terms: list[str] = []
    sentences: list[str] = []
    if conv.mode is Mode.OUTBOUND and conv.request is not None:
        user = _clean(conv.request.user_name)
        purpose = _purpose(conv.request.title)
        callee = _clean(conv.slots.get("callee") or "")
        terms += [user, callee]
        about = f" about {purpose}" if purpose else ""
        sentences.append(f"Lisa calling for {user}{about}" if user else f"Lisa calling{about}")
        if callee:
            sentences.append(callee)
    elif business is not None:
        lang = "de" if conv.language is Language.DE else "en"
        offered = [_clean(s.label(lang)) for s in business.services]
        terms += [_clean(business.name), *offered]
        sentences.append(_clean(business.name))
        if offered:
            sentences.append(", ".join(offered[:-1]) + (" or " if len(offered) > 1 else "") + offered[-1])
    unique = tuple(dict.fromkeys(t for t in terms if t))[:MAX_TERMS]
    text = ". ".join(s for s in sentences if s)
    return SpeechContext(prompt=f"{text}." if text else "", terms=unique)
