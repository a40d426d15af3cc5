"""Caller voice activity at 8 kHz: Silero VAD (pipecat's bundled model) with one shared ONNX session.

Each call gets its own recurrent state (:class:`CallerVAD`) but not its own model load. Windows that are
plainly silent (very low energy, e.g. a muted line) skip the model entirely, so a connected, silent call
costs almost nothing. The windows of all calls that are ready in the same turn of the event loop are scored
in one batched run (:class:`_Batch`): Silero's per-run overhead is most of its cost, so 8 windows at once
cost ~35 µs each instead of ~80 µs, and the results are bit for bit those of single runs.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import numpy as np

from pipelines.audio import is_quiet

WINDOW_SAMPLES = 256  # Silero's window at 8 kHz = 32 ms
WINDOW_BYTES = WINDOW_SAMPLES * 2
WINDOW_S = WINDOW_SAMPLES / 8000
CONTEXT_SAMPLES = 32  # Silero at 8 kHz sees the previous window's last 32 samples too
_RESET_AFTER_QUIET = 8  # ~256 ms of quiet: the model's state is reset (deterministic: depends on audio only)
_SR = np.array(8000, dtype=np.int64)


@cache
def vad_session() -> Any:  # onnxruntime.InferenceSession
    """The Silero ONNX session, loaded once per process (pipecat's loader: one thread, CPU)."""
    from importlib import resources

    from pipecat.audio.vad.silero import SileroOnnxModel

    path = str(resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx"))
    return SileroOnnxModel(path, force_onnx_cpu=True).session


class CallerVAD:
    """Speech probability per 32 ms window of 8 kHz 16-bit PCM for one call."""

    def __init__(self) -> None:
        vad_session()  # loaded with the first call (the turn detector builds this off the event loop), then shared
        self._quiet_windows = 0
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    async def score(self, window: bytes) -> float:
        """The window's speech probability; scored together with the other calls' ready windows."""
        if is_quiet(window):
            self._quiet(True)
            return 0.0
        score = await _batch_for(asyncio.get_running_loop()).submit(self, self._input(window))
        self._quiet(score < 0.15)
        return score

    def _input(self, window: bytes) -> np.ndarray:
        samples = np.frombuffer(window, dtype=np.int16).astype(np.float32) / 32768.0
        return np.concatenate((self._context, samples))

    def _advance(self, x: np.ndarray, state: np.ndarray) -> None:
        self._state = state
        self._context = x[-CONTEXT_SAMPLES:]

    def _quiet(self, quiet: bool) -> None:
        """Reset the recurrent state once per quiet stretch, so the same speech always scores the same."""
        self._quiet_windows = self._quiet_windows + 1 if quiet else 0
        if self._quiet_windows == _RESET_AFTER_QUIET:
            self.reset()


class _Batch:
    """Windows submitted during one turn of the event loop, scored in one ONNX run at its end."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[tuple[CallerVAD, np.ndarray, asyncio.Future[float]]] = []

    def submit(self, vad: CallerVAD, x: np.ndarray) -> asyncio.Future[float]:
        future: asyncio.Future[float] = self._loop.create_future()
        if not self._pending:
            self._loop.call_soon(self._run)
        self._pending.append((vad, x, future))
        return future

    def _run(self) -> None:
        batch, self._pending = self._pending, []
        try:  # (a call awaits each window before its next, so no call appears twice in a batch)
            inputs = np.stack([x for _, x, _ in batch])
            states = np.concatenate([vad._state for vad, _, _ in batch], axis=1)
            out, states = vad_session().run(None, {"input": inputs, "state": states, "sr": _SR})
        except Exception as exc:  # handed to every waiting call
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for i, (vad, x, future) in enumerate(batch):
            vad._advance(x, states[:, i : i + 1])
            if not future.done():
                future.set_result(float(out[i, 0]))


_batches: dict[asyncio.AbstractEventLoop, _Batch] = {}


def _batch_for(loop: asyncio.AbstractEventLoop) -> _Batch:
    batch = _batches.get(loop)
    if batch is None:
        for old in [old for old in _batches if old.is_closed()]:
            del _batches[old]
        batch = _batches[loop] = _Batch(loop)
    return batch
