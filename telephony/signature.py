"""Twilio webhook signatures: ``X-Twilio-Signature`` checked with twilio's ``RequestValidator``.

Twilio signs the exact public URL it requested plus the POST form parameters. Behind a tunnel or proxy
our server sees another URL, so the URL is rebuilt from ``PUBLIC_URL`` when set, else from
``X-Forwarded-Proto`` / ``X-Forwarded-Host`` / ``Host``. The WebSocket upgrade of a media stream carries
the header too, signed over the ``wss://`` URL alone (no parameters): :func:`media_stream_refusal`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_base_url(request: HTTPConnection, public_url: str | None = None) -> str:
    """``scheme://host[/prefix]`` Twilio reaches us at: ``PUBLIC_URL``, else the forwarded/Host headers."""
    if public_url:
        base = urlsplit(public_url if "://" in public_url else f"https://{public_url}")
        return f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}"
    headers = request.headers
    scheme = (headers.get("x-forwarded-proto") or request.url.scheme).split(",")[0].strip()
    host = (
        (headers.get("x-forwarded-host") or headers.get("host") or request.url.netloc).split(",")[0].strip()
    )
    return f"{scheme}://{host}"


def public_request_url(request: Request, public_url: str | None = None) -> str:
    """The URL Twilio used for this request (what it signed)."""
    path_query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return public_base_url(request, public_url) + path_query


def public_websocket_url(websocket: HTTPConnection, public_url: str | None = None) -> str:
    """The ``ws(s)://`` URL Twilio opened this WebSocket at (what it signed): ``https`` -> ``wss``."""
    base = public_base_url(websocket, public_url)
    scheme, rest = base.split("://", 1)
    scheme = {"https": "wss", "http": "ws"}.get(scheme, scheme)
    query = f"?{websocket.url.query}" if websocket.url.query else ""
    return f"{scheme}://{rest}{websocket.url.path}{query}"


def media_stream_refusal(
    websocket: HTTPConnection, auth_token: str | None, validate: bool, public_url: str | None = None
) -> str | None:
    """Why the upgrade of a media stream must be refused (its ``X-Twilio-Signature``), or None.

    Checked only when ``validate`` and an auth token is set: the embedded default has no Twilio account to
    sign with, so there only the stream token (``telephony/stream_tokens.py``) guards the stream."""
    if not validate or not auth_token:
        return None
    signature = websocket.headers.get(SIGNATURE_HEADER)
    if not signature:
        return "invalid Twilio signature: missing"
    url = public_websocket_url(websocket, public_url)
    if not is_valid(auth_token, url, {}, signature):
        log.warning("media stream signature does not match (url %s)", url)
        return "invalid Twilio signature: does not match"
    return None


def is_valid(auth_token: str, url: str, params: Any, signature: str | None) -> bool:
    """True when ``signature`` is Twilio's signature of ``url`` + ``params`` (a dict or multi-dict)."""
    if not signature or not auth_token:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio would send for ``url`` + ``params`` (tests, the Twilio protocol server)."""
    return RequestValidator(auth_token).compute_signature(url, params)


async def read_form(request: Request) -> FormData:
    """The URL-encoded form body Twilio posts (multi-valued fields kept); 422 for any other body."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and content_type != "application/x-www-form-urlencoded":
        raise HTTPException(
            422, f"expected an application/x-www-form-urlencoded body, got {content_type or 'none'}"
        )
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise HTTPException(422, "form body is not UTF-8") from None
    return FormData(pairs)


async def twilio_form(request: Request) -> FormData:
    """FastAPI dependency: the webhook's form parameters, after checking its signature (403 if wrong).

    Uses the app's ``TwilioSettings`` (``state.services["twilio_settings"]``) and ``ApiSettings.public_url``.
    """
    from telephony.settings import TwilioSettings

    state = request.app.state.lisa
    settings: TwilioSettings = state.services.get("twilio_settings") or TwilioSettings()
    if not settings.twilio_validate_signature:
        return await read_form(request)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not settings.twilio_auth_token:
        log.error("refusing Twilio webhook %s: TWILIO_AUTH_TOKEN is not set", request.url.path)
        raise HTTPException(403, "Twilio signature cannot be checked: TWILIO_AUTH_TOKEN is not set")
    if not signature:
        log.warning("refusing Twilio webhook %s: no %s header", request.url.path, SIGNATURE_HEADER)
        raise HTTPException(403, "invalid Twilio signature: missing")
    form = await read_form(request)
    url = public_request_url(request, state.settings.public_url)
    if not is_valid(settings.twilio_auth_token, url, form, signature):
        log.warning("refusing Twilio webhook %s: signature does not match (url %s)", request.url.path, url)
        raise HTTPException(403, "invalid Twilio signature: does not match")
    return form
