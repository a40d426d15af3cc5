"""The party's voice on a test call: Piper in the party's style (local, no network), made once per test process,
and sending it over a ``MediaStreamClient``."""

from __future__ import annotations

import asyncio
from typing import Any

_NATIVE: dict[str, tuple[bytes, int]] = {}
_LINE: dict[str, bytes] = {}


def party_speech(text: str) -> bytes:
    """8 kHz PCM of the party's line (local Piper, the party's voice), made anew."""
    from pipelines.local_models import PARTY_STYLE, synthesize
    from telephony.audio_codec import resample_pcm16

    pcm, rate = synthesize(text, PARTY_STYLE)
    return resample_pcm16(pcm, rate, 8000)


async def speech(text: str) -> tuple[bytes, int]:
    """The party's voice saying ``text`` at Piper's own rate: (16-bit PCM, rate)."""
    if text not in _NATIVE:
        from pipelines.local_models import PARTY_STYLE, synthesize

        _NATIVE[text] = await asyncio.to_thread(synthesize, text, PARTY_STYLE)
    return _NATIVE[text]


async def phone_line(text: str) -> bytes:
    """8 kHz PCM of the party saying ``text`` (:func:`party_speech`)."""
    if text not in _LINE:
        _LINE[text] = await asyncio.to_thread(party_speech, text)
    return _LINE[text]


async def say(call: Any, text: str) -> float:
    """The party says ``text`` on ``call`` (a ``MediaStreamClient``) at Piper's rate; returns when (ms) the line
    was said."""
    pcm, rate = await speech(text)
    assert await call.send_audio(pcm, sample_rate=rate)
    return call.audio_sends[-1][1]


async def say_on_the_line(call: Any, text: str, silence_ms: int = 0) -> float:
    """The party says ``text`` as 8 kHz audio, then ``silence_ms`` of silence (the end of the turn without
    voice activity detection on the caller's side); returns when (ms) the line was said."""
    assert await call.send_audio(await phone_line(text), sample_rate=8000)
    said_ms = call.audio_sends[-1][1]
    if silence_ms:
        assert await call.send_silence(silence_ms)
    return said_ms


async def exchange(call: Any, text: str) -> None:
    """Say ``text``, then wait for Lisa's reply that starts after the whole line was said, to its end."""
    said_ms = await say(call, text)
    await call.wait_lisa_speaking(20, after_ms=said_ms)
    await call.wait_lisa_done(25, new_utterance=False, settle=0.8)
