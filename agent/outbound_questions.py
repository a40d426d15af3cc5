"""What a called business asks Lisa, matched by meaning when the keyword patterns miss it (en + de).

On an outbound booking call the receptionist asks in her own words: "Is this just a routine visit, or is
something bothering him?" (what the appointment is for), "When was he hoping to come in?" (the preferred
time), "How do we get hold of her?" (the callback number), "Who shall I write it under?" (the name). The
patterns of :mod:`agent.outbound_nlu` and :mod:`agent.rule_nlu` come first; a question they leave
unplaced is matched here against example phrasings per kind with the packaged sentence encoder of
:mod:`agent.paraphrase` (nothing downloaded). Things a business says that are no such question (offers,
confirmations, hold, goodbyes, small talk) are the negatives.
"""

from __future__ import annotations

import re
import threading

from agent.paraphrase import ParaphraseIndex, default_encoder

PURPOSE, PREFERENCE, PHONE, NAME, MESSAGE = "purpose", "preference", "phone", "name", "message"

EXAMPLES: dict[str, tuple[str, ...]] = {
    PURPOSE: (
        "What is the appointment for?",
        "What does he need done?",
        "Is it for a check-up or is something wrong?",
        "Is this a routine visit or is there a problem?",
        "What would she like us to look at?",
        "What is he coming in with?",
        "What needs treating?",
        "What kind of appointment is it?",
        "Worum geht es denn?",
        "Ist das eine Kontrolle oder hat er Beschwerden?",
        "Was soll gemacht werden?",
        "Weswegen kommt sie?",
    ),
    PREFERENCE: (
        "When would he like to come?",
        "When was she hoping to come in?",
        "What day suits him best?",
        "Are there days that are better for her?",
        "Does she prefer mornings or afternoons?",
        "What time were you thinking of?",
        "When is he free?",
        "Wann würde es ihm denn passen?",
        "Hat sie einen Wunschtermin?",
        "Lieber vormittags oder nachmittags?",
        "An welchen Tagen kann er?",
    ),
    PHONE: (
        "What's the best number to reach her?",
        "How can we get hold of him?",
        "Where can we contact her if something changes?",
        "Can I have a number in case we need to call back?",
        "How do we reach him?",
        "Unter welcher Nummer ist sie erreichbar?",
        "Wie erreichen wir ihn, falls sich etwas ändert?",
        "Haben Sie eine Telefonnummer für Rückfragen?",
    ),
    NAME: (
        "Who is the appointment for?",
        "Who shall I put it under?",
        "What name should I write down?",
        "And who am I booking in?",
        "Whose appointment is it?",
        "Auf welchen Namen soll ich das eintragen?",
        "Für wen ist der Termin?",
        "Wen darf ich eintragen?",
    ),
}
EXAMPLES_MESSAGE: tuple[str, ...] = (
    "I can pass on a message and she will ring you back.",
    "Shall I leave him a note to call you back?",
    "I'll let the doctor know and she'll get back to you.",
    "She does her own bookings, I can ask her to call you.",
    "I can take a message for her.",
    "Ich kann ihr etwas ausrichten, sie ruft dann zurück.",
    "Soll ich ihm eine Notiz hinlegen, dass er Sie zurückruft?",
    "Ich gebe das weiter, die Ärztin meldet sich bei Ihnen.",
)
NEGATIVES: tuple[str, ...] = (
    "We have Tuesday at nine.",
    "How about Wednesday at half past two?",
    "Would Thursday morning at ten work?",
    "Can he do Friday at eleven?",
    "Alright, I've put her down for Monday at ten.",
    "See you then, goodbye.",
    "One moment, let me check.",
    "Can you hold for a second?",
    "Are you still there?",
    "We're fully booked this week.",
    "Could you call back tomorrow?",
    "Has he been with us before?",
    "What's his date of birth?",
    "Is she privately insured?",
    "Does he have a referral?",
    "Is there anything else?",
    "Sorry, could you say that again?",
    "Are you a robot?",
    "We've just moved into a new building.",
    "The computer system is so slow today.",
    "It's really busy here today.",
    "Wir hätten Dienstag um neun.",
    "Ginge Mittwoch um halb drei?",
    "Einen Moment, ich schaue nach.",
    "Wir sind leider ausgebucht.",
    "War er schon einmal bei uns?",
    "Wann ist ihr Geburtsdatum?",
    "Ist sie privat versichert?",
    "Sonst noch etwas?",
    "Wie bitte?",
    "Bis dann, auf Wiederhören.",
)

_lock = threading.Lock()
_index: ParaphraseIndex | None = None
_built = False


def _shared() -> ParaphraseIndex | None:
    global _index, _built
    if not _built:
        with _lock:
            if not _built:
                encoder = default_encoder()
                examples = [(t, kind) for kind, texts in EXAMPLES.items() for t in texts]
                examples += [(t, MESSAGE) for t in EXAMPLES_MESSAGE]
                _index = ParaphraseIndex(examples, encoder, NEGATIVES) if encoder is not None else None
                _built = True
    return _index


def warm_up() -> None:
    """Load the encoder and embed the examples (~0.1 s once the encoder is loaded; off the event loop)."""
    _shared()


def question_kind(text: str) -> str | None:
    """What the business asks in ``text`` (:data:`PURPOSE`, :data:`PREFERENCE`, :data:`PHONE`, :data:`NAME`)
    or offers (:data:`MESSAGE`), by meaning; None when unsure or without the encoder."""
    index = _shared()
    if index is None or not text.strip():
        return None
    label = index.match(text).label
    if label is not None:
        return label
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):  # "Sure, what is he coming in with? What …"
        if sentence != text.strip() and len(sentence.split()) >= 3:
            label = index.match(sentence).label
            if label is not None:
                return label
    return None
