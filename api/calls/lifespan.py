"""The calls area's lifespan: voice settings, the inference threads and warm models (loaded once per
process, off the event loop, so the first call greets within its time budget), the call records and the
calls' hooks (:class:`api.state.Calls`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.calls.store import CallStore
from api.state import Calls, Core, Overrides, StreamCount

log = logging.getLogger(__name__)


@asynccontextmanager
async def calls_lifespan(core: Core, overrides: Overrides) -> AsyncIterator[Calls]:
    from pipelines import inference
    from pipelines.call_pipeline import end_live_call
    from pipelines.settings import VoiceSettings

    settings = overrides.voice_settings or VoiceSettings()
    store = CallStore(core.db)  # where each call's record goes
    records = overrides.call_records(store) if overrides.call_records else store
    inference.configure(settings.lisa_voice_threads, settings.lisa_tts_cache_phrases)
    # warm on the cloud stack too: Whisper and Piper take a call over when its Deepgram or ElevenLabs fails
    await inference.warm_up()
    log.info("voice pipeline ready (stt=%s, tts=%s)", settings.lisa_stt, settings.lisa_tts)
    # end_live_call: a canceled request ends its call politely
    yield Calls(settings, store, records, list(overrides.call_hooks), StreamCount(), end_live_call)
