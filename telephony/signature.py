"""Twilio webhook signatures: ``X-Twilio-Signature`` checked with twilio's ``RequestValidator``.

Twilio signs the exact public URL it requested plus the POST form parameters. Behind a tunnel or proxy
our server sees another URL, so the URL is rebuilt from ``PUBLIC_URL`` when set, else from
``X-Forwarded-Proto`` / ``X-Forwarded-Host`` / ``Host``. The WebSocket upgrade of a media stream carries
the header too, signed over the ``wss://`` URL alone (no parameters): :func:`media_stream_refusal`.
Pure checks: the app's routes call them with the settings and answer a refusal with 403
(``api/twilio/signed_form.py``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

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


def public_request_url(request: HTTPConnection, public_url: str | None = None) -> str:
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
    valid: bool = RequestValidator(auth_token).validate(url, params, signature)
    return valid


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio would send for ``url`` + ``params`` (tests, the Twilio protocol server)."""
    signature: str = RequestValidator(auth_token).compute_signature(url, params)
    return signature


def unsigned_refusal(auth_token: str | None, signature: str | None) -> str | None:
    """Why a webhook must be refused before its body is read (no token to check with, no signature), or None.
    Only for signature-checked webhooks (``TWILIO_VALIDATE_SIGNATURE``)."""
    if not auth_token:
        return "Twilio signature cannot be checked: TWILIO_AUTH_TOKEN is not set"
    if not signature:
        return "invalid Twilio signature: missing"
    return None


def webhook_refusal(auth_token: str, url: str, params: Any, signature: str | None) -> str | None:
    """Why a webhook whose form ``params`` were posted to ``url`` must be refused (its signature), or None."""
    if not is_valid(auth_token, url, params, signature):
        return "invalid Twilio signature: does not match"
    return None
