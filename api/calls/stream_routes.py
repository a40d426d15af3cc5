"""``WS /twilio/media``: one Twilio media stream per phone call, each served by its own voice pipeline.

A stream is served only when (1) its upgrade carries a valid ``X-Twilio-Signature`` (when
``TWILIO_AUTH_TOKEN`` is set), (2) fewer than ``LISA_MAX_STREAMS`` streams are open in this process and
(3) its ``start`` message arrives within ``LISA_STREAM_START_TIMEOUT_S`` with an unused stream token
issued for this call (``telephony/stream_tokens.py``). Otherwise the socket is closed with the reason before
anything of a call or request is looked up, briefed or written.

Also registers the voice area's start-up: the voice settings, the inference threads and warm models
(loaded once per process, off the event loop), so the first call greets within its time budget.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any

from fastapi import APIRouter, WebSocket

from api import app as app_module
from api.calls.store import CallStore
from api.state import AppState
from telephony.media_stream import Start
from telephony.settings import TwilioSettings
from telephony.signature import media_stream_refusal
from telephony.stream_tokens import TOKEN_PARAMETER, StreamRefused, StreamTokens

log = logging.getLogger(__name__)

router = APIRouter()

CLOSE_POLICY = 1008  # policy violation: signature or token refused
CLOSE_TRY_LATER = 1013  # over the stream cap


class StreamCount:
    """Media streams open in this process (from the upgrade until the socket is done)."""

    def __init__(self) -> None:
        self.open = 0
        self.refused_over_cap = 0


def stream_count(services: dict[str, Any]) -> StreamCount:
    return services.setdefault("media_stream_count", StreamCount())


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.accept()
        await websocket.close(code=code, reason=reason[:120])


@router.websocket("/twilio/media")
async def twilio_media(websocket: WebSocket) -> None:
    from pipelines.call_pipeline import handle_media_stream

    state = websocket.app.state.lisa
    settings: TwilioSettings = state.services.get("twilio_settings") or TwilioSettings()
    count = stream_count(state.services)
    if count.open >= settings.lisa_max_streams:
        count.refused_over_cap += 1
        log.warning("media stream refused: %d streams open (LISA_MAX_STREAMS)", count.open)
        await _refuse(websocket, CLOSE_TRY_LATER, "too many media streams")
        return
    count.open += 1
    try:
        refusal = media_stream_refusal(
            websocket,
            settings.twilio_auth_token,
            settings.twilio_validate_signature,
            state.settings.public_url,
        )
        if refusal:
            log.warning("media stream refused: %s", refusal)
            await _refuse(websocket, CLOSE_POLICY, refusal)
            return
        await websocket.accept()

        async def admit(start: Start) -> Start:
            return await admit_stream(state.services, start)

        await handle_media_stream(
            websocket, state, admit=admit, start_timeout_s=settings.lisa_stream_start_timeout_s
        )
    finally:
        count.open -= 1


async def admit_stream(services: dict[str, Any], start: Start) -> Start:
    """Redeem the stream token of ``start`` for its direction, request id and call sid; the start without
    the token (it goes nowhere else). Raises :class:`StreamRefused` with the reason."""
    tokens: StreamTokens | None = services.get("stream_tokens")
    if tokens is None:
        raise StreamRefused("stream tokens are not available")
    params = dict(start.custom_parameters)
    token = params.pop(TOKEN_PARAMETER, None)
    direction = "outbound" if params.get("direction") == "outbound" else "inbound"
    try:
        await tokens.redeem(
            token, direction=direction, request_id=params.get("request_id"), call_sid=start.call_sid
        )
    except StreamRefused:
        raise
    except Exception as exc:  # e.g. the database is down: refuse rather than serve unchecked
        log.warning("media stream token could not be checked: %s", type(exc).__name__)
        raise StreamRefused("stream token could not be checked") from None
    return dataclasses.replace(start, custom_parameters=params)


async def start_voice(state: AppState) -> None:
    from pipelines import inference
    from pipelines.call_pipeline import end_live_call
    from pipelines.settings import VoiceSettings

    stream_count(state.services)  # media streams open in this process (LISA_MAX_STREAMS)
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
