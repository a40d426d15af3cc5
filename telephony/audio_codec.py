"""G.711 μ-law <-> 16-bit PCM and resampling: the phone line's audio format (numpy and soxr, no audioop).

Below both the call pipeline (``pipelines``) and the simulated far end (``simulation``), which share them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

_BIAS = 0x84
_CLIP = 32635


def _build_decode_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.int16)
    for i in range(256):
        u = ~i & 0xFF
        sign = u & 0x80
        exponent = (u >> 4) & 0x07
        mantissa = u & 0x0F
        sample = ((mantissa << 3) + _BIAS) << exponent
        sample -= _BIAS
        table[i] = -sample if sign else sample
    return table


_DECODE = _build_decode_table()


def _build_encode_table() -> npt.NDArray[np.uint8]:
    """μ-law code for every 16-bit sample value (64 K entries: encoding becomes one lookup)."""
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    table: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return table


_ENCODE = _build_encode_table()


def ulaw_to_pcm16(data: bytes) -> bytes:
    return _DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()


def pcm16_to_ulaw(data: bytes) -> bytes:
    samples = np.frombuffer(data, dtype=np.int16).astype(np.int32) + 32768
    return _ENCODE[samples].tobytes()


def resample_pcm16(data: bytes, rate_in: int, rate_out: int) -> bytes:
    if rate_in == rate_out or not data:
        return data
    samples = np.frombuffer(data, dtype=np.int16)
    resampled: np.ndarray = soxr.resample(samples, rate_in, rate_out, quality="HQ")
    return resampled.astype(np.int16).tobytes()
