"""Lisa's phrases are synthesized once per process: the pipeline prefetches every sentence as the engine
makes it, and a phrase in the cache (said before, or drafted during the caller's pause) must come from
there, not from Piper again."""

from __future__ import annotations

import asyncio

import pytest

from pipelines import inference


@pytest.fixture
def piper_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the real Piper synthesized during the test (a fresh cache)."""
    runs: list[str] = []
    real = inference.synthesize_8k

    def counted(text: str) -> bytes:
        runs.append(text)
        return real(text)

    monkeypatch.setattr(inference, "synthesize_8k", counted)
    monkeypatch.setattr(inference, "_TTS_CACHE", type(inference._TTS_CACHE)())
    return runs


def test_a_cached_phrase_is_not_synthesized_again(piper_runs: list[str]) -> None:
    async def main() -> tuple[bytes, bytes, bytes]:
        first = await inference.synthesize("Which day would suit you?")
        again = await inference.prefetch("Which day would suit you? ", inference.SPEAK)  # the pipeline's path
        spoken = await inference.synthesize("Which day would suit you?")
        return first, again, spoken

    first, again, spoken = asyncio.run(main())
    assert piper_runs == ["Which day would suit you?"]
    assert len(first) > 8000 and first == again == spoken  # > 0.5 s of 8 kHz 16-bit audio


def test_a_draft_being_synthesized_is_awaited_not_repeated(piper_runs: list[str]) -> None:
    async def main() -> list[bytes]:
        draft = inference.prefetch("We open at eight.", inference.AHEAD)  # drafted in the caller's pause
        return list(await asyncio.gather(inference.synthesize("We open at eight."), draft))

    spoken, drafted = asyncio.run(main())
    assert piper_runs == ["We open at eight."]
    assert spoken == drafted and len(spoken) > 4000


def test_no_cache_when_configured_off(piper_runs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inference, "_TTS_CACHE_ITEMS", inference._TTS_CACHE_ITEMS)  # restored afterwards
    monkeypatch.setattr(inference, "_threads", inference._threads)
    inference.configure(inference._threads, tts_cache_phrases=0)  # LISA_TTS_CACHE_PHRASES=0

    async def main() -> None:
        await inference.synthesize("See you then.")
        await inference.synthesize("See you then.")

    asyncio.run(main())
    assert piper_runs == ["See you then.", "See you then."]
