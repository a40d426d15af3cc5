"""A call to our number over HTTP, as Twilio places it: ``POST /twilio/voice`` (signed), then the media stream
its TwiML names, with the TwiML's parameters (the stream token among them) and a signed upgrade.

For a running app in another process (``lisa replay --server``, benchmarks); in process, the loopback
carrier's ``call_in`` does the same without HTTP. The app answers an unsigned webhook with 403 (the embedded
default has no ``TWILIO_AUTH_TOKEN``, so it has to be given one for this).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from simulation.media_stream_client import MediaStreamClient
from telephony.signature import SIGNATURE_HEADER, sign
from telephony.twiml import stream_of


class InboundCallRefused(RuntimeError):
    """The app did not answer ``/twilio/voice`` with stream TwiML (the reason is in the message)."""


def _rebase(url: str, base: str) -> str:
    """``url``'s path and query on ``base``'s scheme and host (the app as we reach it, not its public URL)."""
    parts, to = urlsplit(url), urlsplit(base)
    scheme = {"https": "wss", "http": "ws"}.get(to.scheme, to.scheme)
    return f"{scheme}://{to.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


async def ring(
    app_url: str,
    *,
    auth_token: str | None,
    from_number: str,
    to_number: str,
    call_sid: str,
    account_sid: str = "AC00000000000000000000000000000000",
    public_url: str | None = None,
    language: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> tuple[str, str, dict[str, str]]:
    """Ask the app for a call's TwiML as Twilio does; returns (TwiML, stream URL, stream parameters).

    ``public_url``: the base the app believes Twilio uses (its ``PUBLIC_URL``); signatures are computed
    over it, requests go to ``app_url``. ``client``: an HTTP client to reuse (a new one costs ~35 ms of CPU
    for its TLS context: a load generator ringing many calls would stall its own event loop)."""
    path = "/twilio/voice" + (f"?language={language}" if language else "")
    form = {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": from_number,
        "To": to_number,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    headers = {}
    if auth_token:
        headers[SIGNATURE_HEADER] = sign(auth_token, (public_url or app_url).rstrip("/") + path, form)
    if client is not None:
        resp = await client.post(app_url.rstrip("/") + path, data=form, headers=headers)
    else:
        async with httpx.AsyncClient(timeout=15) as own:
            resp = await own.post(app_url.rstrip("/") + path, data=form, headers=headers)
    if resp.status_code != 200:
        hint = "" if auth_token else " (no TWILIO_AUTH_TOKEN to sign with)"
        raise InboundCallRefused(f"POST /twilio/voice answered {resp.status_code}{hint}: {resp.text[:200]}")
    try:
        url, params = stream_of(resp.text)
    except (ValueError, SyntaxError) as exc:
        raise InboundCallRefused(f"/twilio/voice answered no stream TwiML: {exc}") from None
    return resp.text, url, params


@contextlib.asynccontextmanager
async def call_in(
    app_url: str,
    *,
    auth_token: str | None,
    from_number: str,
    to_number: str,
    public_url: str | None = None,
    language: str | None = None,
    **connect: Any,
) -> AsyncIterator[MediaStreamClient]:
    """:func:`ring`, then the media stream of its TwiML (reached at ``app_url``, signed for the TwiML's URL)."""
    sid = "CA" + uuid.uuid4().hex
    _twiml, url, params = await ring(
        app_url,
        auth_token=auth_token,
        from_number=from_number,
        to_number=to_number,
        call_sid=sid,
        public_url=public_url,
        language=language,
    )
    headers = {SIGNATURE_HEADER: sign(auth_token, url, {})} if auth_token else {}
    async with MediaStreamClient.connect(
        _rebase(url, app_url), custom_parameters=params, call_sid=sid, headers=headers, **connect
    ) as call:
        yield call
