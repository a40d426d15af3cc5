"""Pipeline frames of our own: a finished caller turn, and Lisa's speech on its way to the TTS."""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.frames.frames import DataFrame

ARRIVED = "lisa_arrived"  # metadata key of a caller audio frame: time.monotonic() when it came off the line


@dataclass
class CallerTurnFrame(DataFrame):
    """What the caller said in one turn (end of speech and STT final, ms since the stream started), and its
    words with the recogniser's confidence (0–1)."""

    text: str = ""
    words: tuple[tuple[str, float], ...] = ()
    start_ms: float = 0.0
    end_ms: float = 0.0
    stt_final_ms: float = 0.0


@dataclass
class UtteranceEndFrame(DataFrame):
    """The cloud STT says the caller's utterance is over (Deepgram's ``UtteranceEnd``: ``utterance_end_ms``
    of audio without a word after ``last_word_end``, audio seconds); in order after the utterance's finals."""

    last_word_end: float = 0.0


@dataclass
class LisaSpeechFrame(DataFrame):
    """One sentence-sized piece of Lisa's reply ``reply`` (its ``index``-th, from 1)."""

    text: str = ""
    reply: int = 0
    index: int = 0
