"""Channel impairments for simulated phone lines: white noise at an SNR, dropped frames, jittered delivery.

Everything is driven by a seeded RNG so a replay with the same seed impairs the line the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

FRAME_MS = 20
# Speech level assumed for the line noise before the party has said anything (16-bit RMS).
DEFAULT_SPEECH_RMS = 2500.0


@dataclass(frozen=True)
class Channel:
    """What the line does to the party's audio (the ``channel:`` block of a scenario)."""

    snr_db: float | None = None  # white noise at this signal-to-noise ratio (None: no noise)
    drop_rate: float = 0.0  # share of 20 ms frames dropped
    jitter_ms: int = 0  # frames delivered in bursts up to this late
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1), got {self.drop_rate}")
        if self.jitter_ms < 0:
            raise ValueError(f"jitter_ms must be >= 0, got {self.jitter_ms}")

    @property
    def impaired(self) -> bool:
        return self.snr_db is not None or self.drop_rate > 0 or self.jitter_ms > 0


def speech_rms(pcm: bytes) -> float:
    """RMS of the voiced part of 16-bit PCM (frames quieter than 1/10 of the loudest are left out)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    if samples.size == 0:
        return 0.0
    n = samples.size // 160 * 160
    if n == 0:
        return float(np.sqrt(np.mean(samples**2)))
    frame_rms = np.sqrt(np.mean(samples[:n].reshape(-1, 160) ** 2, axis=1))
    voiced = frame_rms[frame_rms >= frame_rms.max() / 10]
    return float(np.sqrt(np.mean(voiced**2))) if voiced.size else 0.0


class Impairer:
    """Applies a :class:`Channel` to a stream of 20 ms frames; one instance per call."""

    def __init__(self, channel: Channel | None = None) -> None:
        self.channel = channel or Channel()
        self._rng = random.Random(self.channel.seed)
        self._np = np.random.default_rng(self.channel.seed)
        self._speech_rms = DEFAULT_SPEECH_RMS
        self._last_delivery = 0.0

    def noise_sigma(self) -> float:
        """Standard deviation of the line noise (0 without ``snr_db``)."""
        if self.channel.snr_db is None:
            return 0.0
        return self._speech_rms / (10 ** (self.channel.snr_db / 20))

    def set_speech_level(self, rms: float) -> None:
        """The party's speech level (16-bit RMS) the noise is measured against."""
        if rms > 0:
            self._speech_rms = rms

    def add_line_noise(self, pcm: bytes) -> bytes:
        """``pcm`` plus white noise at the channel's SNR below the party's speech level (the line hiss is
        the same whether the party talks or not)."""
        if self.channel.snr_db is None or not pcm:
            return pcm
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
        noisy = samples + self._np.normal(0.0, self.noise_sigma(), samples.size)
        return np.clip(noisy, -32768, 32767).astype(np.int16).tobytes()

    def drop(self) -> bool:
        """Whether the next frame is lost."""
        return self.channel.drop_rate > 0 and self._rng.random() < self.channel.drop_rate

    def delivery_time(self, nominal: float) -> float:
        """When a frame due at ``nominal`` (seconds) arrives: never before an earlier frame, up to
        ``jitter_ms`` late. A long delay followed by short ones releases the held frames as a burst."""
        if self.channel.jitter_ms <= 0:
            return nominal
        late = self._rng.uniform(0, self.channel.jitter_ms) / 1000
        self._last_delivery = max(self._last_delivery, nominal + late)
        return self._last_delivery
