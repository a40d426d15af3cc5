"""Local speech inference off the event loop: one small thread pool shared by every call.

CTranslate2 (Whisper) and onnxruntime (Piper, smart turn) release the GIL, so a few worker threads run
inference in parallel while the event loop keeps serving audio for all calls. The pool is bounded: when
every thread is busy, further jobs queue instead of oversubscribing the CPU, most urgent first — a caller
waiting for the end of their turn goes before sentences Lisa will say later.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from functools import cache
from typing import Any, TypeVar

import numpy as np

from pipelines import local_models
from pipelines.audio import pcm16_to_float
from telephony.audio_codec import resample_pcm16

T = TypeVar("T")

# job priorities: what a caller is waiting for right now goes first
URGENT = 0  # transcription and smart turn (the end of the caller's turn waits on them)
SPEAK = 1  # the first sentence of a reply
AHEAD = 2  # later sentences synthesized ahead of time


class PriorityPool:
    """A fixed set of worker threads taking the most urgent job first (FIFO within a priority)."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._jobs: list[tuple[int, int, Future, Callable[..., Any], tuple[Any, ...]]] = []
        self._ready = threading.Condition()
        self._count = itertools.count()
        self._started = False

    def submit(self, priority: int, fn: Callable[..., T], *args: Any) -> Future:
        future: Future = Future()
        with self._ready:
            if not self._started:
                for n in range(self._threads):
                    threading.Thread(target=self._work, name=f"lisa-voice-{n}", daemon=True).start()
                self._started = True
            heapq.heappush(self._jobs, (priority, next(self._count), future, fn, args))
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                _, _, future, fn, args = heapq.heappop(self._jobs)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)


_pool: PriorityPool | None = None
_pool_lock = threading.Lock()
_threads = 2


def configure(threads: int, tts_cache_phrases: int = 256) -> None:
    """Set the number of inference threads (takes effect before the pool is first used) and how many of
    Lisa's phrases the TTS cache keeps (0: none, every sentence is synthesized)."""
    global _threads, _TTS_CACHE_ITEMS
    _threads = max(1, threads)
    _TTS_CACHE_ITEMS = max(0, tts_cache_phrases)


def pool() -> PriorityPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = PriorityPool(_threads)
        return _pool


async def run(fn: Callable[..., T], *args: Any, priority: int = URGENT) -> T:
    return await asyncio.wrap_future(pool().submit(priority, fn, *args))


# ----------------------------------------------------------------------------------------------- STT

_NOISE_TRANSCRIPTS = {"you", "bye", "so", "uh", "um", ""}  # what tiny.en makes of a noise burst, alone
_NOISE_SURE = 0.2  # Whisper's confidence in such a word from which on it was said (noise: ~0.05-0.15)


def _clean(text: str, words: tuple[tuple[str, float], ...] = ()) -> str:
    """The transcript, or "" when it is one of the words Whisper hears in noise and it was unsure of it (a
    clipped "Goodbye." comes out as "Bye" at 0.29-0.77 and is kept)."""
    said = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if len(said) <= 1 and " ".join(said) in _NOISE_TRANSCRIPTS:
        sure = bool(words) and min(confidence for _, confidence in words) >= _NOISE_SURE
        return text.strip() if sure else ""
    return text.strip()


def transcribe_8k(pcm_8k: bytes, context: str = "") -> local_models.Recognised:
    """Blocking: transcribe 8 kHz 16-bit PCM (upsampled to Whisper's 16 kHz here, nowhere else), with word
    confidences; ``context`` biases recognition towards what the call is about (``pipelines.stt_context``)."""
    audio = pcm16_to_float(resample_pcm16(pcm_8k, 8000, 16000))
    heard = local_models.recognise_short(audio, context)
    text = _clean(heard.text, heard.words)
    return local_models.Recognised(text, heard.words if text else (), heard.closing if text else None)


async def transcribe(pcm_8k: bytes, context: str = "") -> local_models.Recognised:
    return await run(transcribe_8k, pcm_8k, context)


# ----------------------------------------------------------------------------------------------- TTS


def synthesize_8k(text: str) -> bytes:
    """Blocking: Lisa's voice for ``text`` as 8 kHz 16-bit PCM (Piper's 22.05 kHz resampled once)."""
    pcm, rate = local_models.synthesize(text, local_models.LISA_STYLE)
    return resample_pcm16(pcm, rate, 8000)


_TTS_CACHE: OrderedDict[str, bytes] = OrderedDict()
_TTS_CACHE_ITEMS = 256  # Lisa repeats herself (greeting, "Sure.", re-prompts): ~50 KB per phrase


_TTS_PENDING: dict[str, asyncio.Future[bytes]] = {}


async def synthesize(text: str) -> bytes:
    """Lisa's voice for ``text`` (8 kHz PCM); phrases she said before come from a small cache, and a
    phrase already being synthesized (see :func:`prefetch`) is awaited rather than done twice."""
    return await asyncio.shield(prefetch(text, SPEAK))


def prefetch(text: str, priority: int = AHEAD) -> asyncio.Future[bytes]:
    """Start synthesizing ``text`` now (e.g. the next sentences while the first one plays); a phrase in the
    cache is not synthesized again."""
    key = text.strip()
    cached = _TTS_CACHE.get(key)
    if cached is not None:
        _TTS_CACHE.move_to_end(key)
        ready: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        ready.set_result(cached)
        return ready
    pending = _TTS_PENDING.get(key)
    if pending is not None and pending.get_loop() is asyncio.get_running_loop():
        return pending
    future = asyncio.ensure_future(run(synthesize_8k, key, priority=priority))
    _TTS_PENDING[key] = future

    def done(f: asyncio.Future[bytes]) -> None:
        if _TTS_PENDING.get(key) is f:
            del _TTS_PENDING[key]
        if not f.cancelled() and f.exception() is None and _TTS_CACHE_ITEMS:
            _TTS_CACHE[key] = f.result()
            while len(_TTS_CACHE) > _TTS_CACHE_ITEMS:
                _TTS_CACHE.popitem(last=False)

    future.add_done_callback(done)
    return future


# ---------------------------------------------------------------------------------------- smart turn


@cache
def _smart_turn() -> Any:
    """One smart-turn v3 analyzer per process (its ONNX session is thread-safe), fed 16 kHz audio."""
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    analyzer = LocalSmartTurnAnalyzerV3()
    analyzer.set_sample_rate(16000)
    return analyzer


def turn_complete_8k(pcm_8k: bytes) -> tuple[bool, float]:
    """Blocking: does this caller audio sound like a finished turn? (complete, probability)."""
    audio = pcm16_to_float(resample_pcm16(pcm_8k[-8 * 16000 :], 8000, 16000))
    result = _smart_turn()._predict_endpoint(audio)
    return bool(result["prediction"] == 1), float(result["probability"])


async def turn_complete(pcm_8k: bytes) -> tuple[bool, float]:
    return await run(turn_complete_8k, pcm_8k)


def warm_up_blocking() -> None:
    """Load every model and run each once, so the first call pays nothing."""
    transcribe_8k(np.zeros(4000, dtype=np.int16).tobytes())
    synthesize_8k("Hello.")
    turn_complete_8k(np.zeros(8000, dtype=np.int16).tobytes())
    from pipelines.vad import vad_session

    vad_session()


async def warm_up() -> None:
    await asyncio.to_thread(warm_up_blocking)
