"""``WS /twilio/media``: one Twilio media stream per phone call, each served by its own voice pipeline.

A stream is served only when (1) its upgrade carries a valid ``X-Twilio-Signature`` (when
``TWILIO_AUTH_TOKEN`` is set), (2) fewer than ``LISA_MAX_STREAMS`` streams are open in this process and
(3) its ``start`` message arrives within ``LISA_STREAM_START_TIMEOUT_S`` with an unused stream token
issued for this call (``telephony/stream_tokens.py``). Otherwise the socket is closed with the reason before
anything of a call or request is looked up, briefed or written.

Each call's pipeline gets what it needs from the app as one :class:`~pipelines.call_deps.CallDeps`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging

from fastapi import APIRouter, WebSocket

from api.deps import StateDep
from api.state import AppState
from pipelines.call_deps import CallDeps
from telephony.media_stream import Start
from telephony.signature import media_stream_refusal
from telephony.stream_tokens import TOKEN_PARAMETER, StreamRefused, StreamTokens

log = logging.getLogger(__name__)

router = APIRouter()

CLOSE_POLICY = 1008  # policy violation: signature or token refused
CLOSE_TRY_LATER = 1013  # over the stream cap


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.accept()
        await websocket.close(code=code, reason=reason[:120])


@router.websocket("/twilio/media")
async def twilio_media(websocket: WebSocket, state: StateDep) -> None:
    from pipelines.call_pipeline import handle_media_stream

    telephony, calls = state.telephony, state.calls
    settings = telephony.settings
    count = calls.stream_count
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
            return await admit_stream(telephony.stream_tokens, start)

        await handle_media_stream(
            websocket, call_deps(state), admit=admit, start_timeout_s=settings.lisa_stream_start_timeout_s
        )
    finally:
        count.open -= 1


def call_deps(state: AppState) -> CallDeps:
    """What a call's pipeline gets from the app."""
    return CallDeps(
        engine=state.engine,
        default_language=state.agent_settings.lisa_language,
        voice_settings=state.calls.voice_settings,
        call_records=state.calls.records,
        carrier=state.telephony.carrier,
        hooks=state.calls.hooks,
        request_lookup=state.requests.lookup,
    )


async def admit_stream(tokens: StreamTokens, start: Start) -> Start:
    """Redeem the stream token of ``start`` for its direction, request id and call sid; the start without
    the token (it goes nowhere else). Raises :class:`StreamRefused` with the reason."""
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
