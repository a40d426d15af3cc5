"""Caller voice activity at 8 kHz: Silero VAD (pipecat's bundled model) with one shared ONNX session.

Each call gets its own recurrent state (:class:`CallerVAD`) but not its own model load. Windows that are
plainly silent (very low energy, e.g. a muted line) skip the model entirely, so a connected, silent call
costs almost nothing.
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np

from pipelines.audio import is_quiet

WINDOW_SAMPLES = 256  # Silero's window at 8 kHz = 32 ms
WINDOW_BYTES = WINDOW_SAMPLES * 2
WINDOW_S = WINDOW_SAMPLES / 8000
_RESET_AFTER_QUIET = 8  # ~256 ms of quiet: the model's state is reset (deterministic: depends on audio only)


@cache
def vad_template():  # noqa: ANN201 - pipecat's SileroOnnxModel
    from importlib import resources

    from pipecat.audio.vad.silero import SileroOnnxModel

    path = str(resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx"))
    return SileroOnnxModel(path, force_onnx_cpu=True)


class CallerVAD:
    """Speech probability per 32 ms window of 8 kHz 16-bit PCM for one call."""

    def __init__(self) -> None:
        self._model = copy.copy(vad_template())  # shares the ONNX session, owns its state
        self._model.reset_states()
        self._quiet_windows = 0

    def confidence(self, window: bytes) -> float:
        if is_quiet(window):
            self._quiet(True)
            return 0.0
        samples = np.frombuffer(window, dtype=np.int16).astype(np.float32)
        score = float(self._model(samples / 32768.0, 8000)[0][0])
        self._quiet(score < 0.15)
        return score

    def _quiet(self, quiet: bool) -> None:
        """Reset the recurrent state once per quiet stretch, so the same speech always scores the same."""
        self._quiet_windows = self._quiet_windows + 1 if quiet else 0
        if self._quiet_windows == _RESET_AFTER_QUIET:
            self._model.reset_states()
