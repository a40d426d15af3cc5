"""The Twilio webhooks' form: read (URL-encoded, 422 for anything else) and signature-checked with the app's
Twilio settings (403 with the reason when ``telephony.signature`` refuses it)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile

from api.deps import StateDep
from telephony.signature import (
    SIGNATURE_HEADER,
    public_request_url,
    unsigned_refusal,
    webhook_refusal,
)

log = logging.getLogger(__name__)


async def read_form(request: Request) -> FormData:
    """The URL-encoded form body Twilio posts (multi-valued fields kept); 422 for any other body."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != "application/x-www-form-urlencoded":
        raise HTTPException(
            422, f"expected an application/x-www-form-urlencoded body, got {content_type or 'none'}"
        )
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        )
    except UnicodeDecodeError:
        raise HTTPException(422, "form body is not UTF-8") from None
    return FormData(pairs)


async def twilio_form(request: Request, state: StateDep) -> FormData:
    """FastAPI dependency: the webhook's form parameters, after checking its signature (403 if wrong)."""
    settings = state.telephony.settings
    if not settings.twilio_validate_signature:
        return await read_form(request)
    signature = request.headers.get(SIGNATURE_HEADER)
    if refusal := unsigned_refusal(settings.twilio_auth_token, signature):
        if not settings.twilio_auth_token:
            log.error("refusing Twilio webhook %s: TWILIO_AUTH_TOKEN is not set", request.url.path)
        else:
            log.warning("refusing Twilio webhook %s: no %s header", request.url.path, SIGNATURE_HEADER)
        raise HTTPException(403, refusal)
    form = await read_form(request)
    url = public_request_url(request, state.settings.public_url)
    if refusal := webhook_refusal(settings.twilio_auth_token or "", url, form, signature):
        log.warning("refusing Twilio webhook %s: signature does not match (url %s)", request.url.path, url)
        raise HTTPException(403, refusal)
    return form
