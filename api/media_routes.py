"""``WS /twilio/media``: one Twilio media stream per phone call, each served by its own voice pipeline.

Also registers the voice area's start-up: the voice settings, the inference threads and warm models
(loaded once per process, off the event loop), so the first call greets within its time budget.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket

from api import app as app_module
from api.state import AppState
from api.storage.calls import CallStore

log = logging.getLogger(__name__)

router = APIRouter()


@router.websocket("/twilio/media")
async def twilio_media(websocket: WebSocket) -> None:
    from pipelines.call_pipeline import handle_media_stream

    await websocket.accept()
    await handle_media_stream(websocket, websocket.app.state.lisa)


async def start_voice(state: AppState) -> None:
    from pipelines import inference
    from pipelines.call_pipeline import end_live_call
    from pipelines.settings import VoiceSettings

    state.services["end_live_call"] = end_live_call  # a canceled request ends its call politely
    state.services.setdefault("call_store", CallStore(state.db))  # where each call's record goes

    settings = state.services.get("voice_settings") or VoiceSettings()
    state.services["voice_settings"] = settings
    inference.configure(settings.lisa_voice_threads)
    if settings.lisa_stt == "local" or settings.lisa_tts == "local":
        await inference.warm_up()
    log.info("voice pipeline ready (stt=%s, tts=%s)", settings.lisa_stt, settings.lisa_tts)


if start_voice not in app_module.STARTUP:
    app_module.STARTUP.append(start_voice)
