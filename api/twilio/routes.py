"""Twilio webhooks: ``POST /twilio/voice`` (a call comes in: TwiML to our media stream) and
``POST /twilio/status`` (call status callbacks, incl. answering-machine detection). Both signature-checked;
the TwiML carries a fresh stream token (the only way its media stream is served), and a status callback
Twilio (or anyone replaying it) sends again for the same call and status is applied once."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.datastructures import FormData

from api.deps import StateDep, TelephonyDep
from api.edge.openapi_docs import responses
from api.twilio.signed_form import twilio_form
from telephony.phone_numbers import mask_phone
from telephony.signature import public_base_url
from telephony.twiml import connect_call, media_stream_url, voice_parameters

log = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])
# what a webhook answers besides 200 (the edge, api/edge/body_limit.py, adds 408 and 413)
WEBHOOK_ERRORS = responses(
    described={
        403: "X-Twilio-Signature is missing or wrong (or cannot be checked: TWILIO_AUTH_TOKEN unset)",
        408: "the body did not arrive within BODY_TIMEOUT_S",
        413: "body larger than MAX_TWILIO_BODY_BYTES",
        422: "not a URL-encoded form, or a required field is missing",
    }
)

XML = "application/xml"
TwilioForm = Annotated[FormData, Depends(twilio_form)]  # signature-checked (403 with the reason if not)


@router.post("/twilio/voice", response_class=Response, responses=WEBHOOK_ERRORS)
async def voice(request: Request, form: TwilioForm, state: StateDep) -> Response:
    """A call reached our Twilio number (or an outbound call asks for its TwiML): connect it to Lisa."""
    call_sid = str(form.get("CallSid") or "")
    if not call_sid:
        raise HTTPException(422, "missing form field 'CallSid'")
    parameters = voice_parameters(form, request.query_params)
    if parameters["request_id"] and not state.telephony.settings.twilio_validate_signature:
        # unsigned webhooks (local development) must not hand out streams that brief Lisa from a request
        raise HTTPException(403, "outbound call TwiML needs signature-checked webhooks")
    stream_url = media_stream_url(public_base_url(request, state.settings.public_url))
    log.info(
        "call %s %s from %s to %s -> %s",
        call_sid,
        parameters["direction"],
        mask_phone(parameters["from"]),
        mask_phone(parameters["to"]),
        stream_url,
    )
    twiml = await connect_call(state.telephony.stream_tokens, stream_url, parameters, call_sid=call_sid)
    return Response(twiml, media_type=XML)


@router.post("/twilio/status", responses=WEBHOOK_ERRORS)
async def status(request: Request, form: TwilioForm, telephony: TelephonyDep) -> Response:
    """A call status callback (or an async answering-machine result): tell the status listeners."""
    call_sid = str(form.get("CallSid") or "")
    if not call_sid:
        raise HTTPException(422, "missing form field 'CallSid'")
    info: dict[str, str] = {key: str(value) for key, value in form.items()}
    info.update(request.query_params.items())  # our own parameters (request_id) ride on the callback URL
    value = str(form.get("CallStatus") or "")
    if not value:
        if not form.get("AnsweredBy"):
            raise HTTPException(422, "missing form field 'CallStatus'")
        value = "in-progress"  # async machine detection: the call was answered, AnsweredBy says by whom
    applied = telephony.applied_statuses
    key = value + (f"/{form.get('AnsweredBy')}" if form.get("AnsweredBy") else "")
    if not await applied.first_time(call_sid, key):
        log.info("call %s: status callback %s applied before; ignored (a replay)", call_sid, key)
        return Response(status_code=200)
    await telephony.statuses.notify(call_sid, value, info)
    return Response(status_code=200)
