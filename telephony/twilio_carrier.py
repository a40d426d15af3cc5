"""Calls through Twilio's REST API (twilio 9.x client; its blocking HTTP runs in a worker thread).

``place_call``: ``calls.create`` with inline TwiML ``<Connect><Stream>`` to our media WebSocket (with a
stream token for the call's request, bound to the call sid once Twilio returned it), status
callbacks to ``/twilio/status`` (with our parameters on the URL) and, if configured, asynchronous
answering-machine detection reported to the same route. ``hangup``: ``calls(sid).update(status="completed")``
(``canceled`` if it is still ringing; an already ended call is fine). ``transfer``: ``calls(sid).update(twiml=<Dial>)``.
``send_digits`` (a phone menu): ``calls(sid).update(twiml=<Play digits>…<Connect><Stream>)`` — what Twilio
documents for DTMF on a live call; the update ends the media stream, so the TwiML opens it again with a fresh
stream token and ``resume=1``, and the pipeline carries the conversation over (``digits_restart_stream``).
Transient failures (429, 5xx, connection refused) are retried with backoff; ``calls.create`` is not retried
after a timeout, which could have placed the call already.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from telephony.carrier import CarrierError
from telephony.phone_numbers import mask_phone, mask_text
from telephony.settings import TwilioSettings
from telephony.stream_tokens import TOKEN_PARAMETER, StreamTokens
from telephony.twiml import STATUS_PATH, connect_stream, dial, media_stream_url, play_digits_and_stream

log = logging.getLogger(__name__)

# The twilio client logs every request body (numbers, TwiML) at INFO; keep it to warnings.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
_RETRY_STATUSES = {429, 500, 502, 503, 504}
# Parameters that carry phone numbers stay off the callback URL (Twilio sends To/From anyway).
_NUMBER_PARAMS = {"from", "to"}

T = TypeVar("T")


class TwilioCarrier:
    name = "twilio"
    digits_restart_stream = True  # send_digits ends the call's media stream; a new one resumes the call

    def __init__(
        self, settings: TwilioSettings, public_url: str, *, tokens: StreamTokens, backoff_s: float = 0.5
    ) -> None:
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                ("TWILIO_FROM_NUMBER", settings.twilio_from_number),
                ("PUBLIC_URL", public_url),
            )
            if not value
        ]
        if missing:
            raise CarrierError(f"Twilio calls need these settings: {', '.join(missing)}")
        self.settings = settings
        self.tokens = tokens
        self._streams: dict[str, dict[str, str]] = {}  # call sid -> its stream's parameters (send_digits)
        self.public_url = public_url.rstrip("/")
        self.from_number = settings.twilio_from_number or ""
        self.backoff_s = backoff_s
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=TwilioHttpClient(timeout=settings.twilio_timeout_s),
        )
        if settings.twilio_api_base_url:  # e.g. the REST protocol server of the tests
            self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")

    # ----------------------------------------------------------------------- requests

    async def _call(self, what: str, fn: Callable[[], T], *, retry_timeouts: bool) -> T:
        attempts = max(1, self.settings.twilio_max_attempts)
        for attempt in range(1, attempts + 1):
            try:
                return await asyncio.to_thread(fn)
            except TwilioRestException as exc:
                if exc.status in _RETRY_STATUSES and attempt < attempts:
                    log.warning("twilio %s: HTTP %s, retrying (%d/%d)", what, exc.status, attempt, attempts)
                else:
                    raise CarrierError(
                        f"twilio {what} failed: HTTP {exc.status} code {exc.code}: {mask_text(str(exc.msg))}",
                        status=exc.status,
                        code=exc.code,
                    ) from None
            except requests.exceptions.ConnectionError as exc:
                # never reached Twilio (refused / DNS) -> safe to repeat; a read timeout is not (see module doc)
                sent = isinstance(exc, requests.exceptions.ReadTimeout)
                if attempt < attempts and (retry_timeouts or not sent):
                    log.warning(
                        "twilio %s: %s, retrying (%d/%d)", what, type(exc).__name__, attempt, attempts
                    )
                else:
                    raise CarrierError(f"twilio {what} failed: {type(exc).__name__}") from None
            except requests.exceptions.Timeout:
                if attempt < attempts and retry_timeouts:
                    log.warning("twilio %s: timeout, retrying (%d/%d)", what, attempt, attempts)
                else:
                    raise CarrierError(f"twilio {what} failed: timeout") from None
            await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _status_callback(self, parameters: dict[str, str]) -> str:
        ours = {k: v for k, v in parameters.items() if k not in _NUMBER_PARAMS and v}
        return f"{self.public_url}{STATUS_PATH}" + (f"?{urlencode(ours)}" if ours else "")

    async def place_call(self, to: str, parameters: dict[str, str]) -> str:
        params = {"direction": "outbound", **{k: str(v) for k, v in parameters.items() if v is not None}}
        params.setdefault("to", to)
        params.setdefault("from", self.from_number)
        direction = "outbound" if params["direction"] == "outbound" else "inbound"
        token = await self.tokens.issue(direction, request_id=params.get("request_id"))
        twiml = connect_stream(media_stream_url(self.public_url), {**params, TOKEN_PARAMETER: token})
        callback = self._status_callback(params)  # the token stays off URLs
        options: dict[str, Any] = {
            "to": to,
            "from_": self.from_number,
            "twiml": twiml,
            "status_callback": callback,
            "status_callback_event": STATUS_EVENTS,
            "status_callback_method": "POST",
        }
        if self.settings.twilio_machine_detection:
            options.update(
                machine_detection="DetectMessageEnd",  # machine_end_beep etc.: Lisa speaks after the beep
                async_amd="true",
                async_amd_status_callback=callback,
                async_amd_status_callback_method="POST",
            )
        call = await self._call(
            "calls.create", lambda: self.client.calls.create(**options), retry_timeouts=False
        )
        await self.tokens.bind_call(token, str(call.sid))  # the stream must then come for this call
        self._streams[str(call.sid)] = params
        log.info("twilio call %s to %s placed", call.sid, mask_phone(to))
        return str(call.sid)

    async def hangup(self, call_sid: str) -> None:
        """``completed`` ends a call in progress; a call still queued or ringing needs ``canceled``."""
        try:
            call = await self._call(
                "hangup",
                lambda: self.client.calls(call_sid).update(status="completed"),
                retry_timeouts=True,
            )
            if getattr(call, "status", None) in ("queued", "ringing"):
                await self._call(
                    "cancel",
                    lambda: self.client.calls(call_sid).update(status="canceled"),
                    retry_timeouts=True,
                )
            log.info("twilio call %s: hung up", call_sid)
        except CarrierError as exc:
            if exc.status in (400, 404):  # already over, or unknown: nothing to end
                log.info("twilio call %s: hang-up not needed (%s)", call_sid, exc)
                return
            raise

    async def send_digits(self, call_sid: str, digits: str) -> None:
        """Press keys on a call this carrier placed: ``<Play digits>``, then its stream again (``resume=1``)."""
        params = self._streams.get(call_sid)
        if params is None:
            raise CarrierError(f"call {call_sid} was not placed here; cannot send digits", status=400)
        direction = "outbound" if params.get("direction") == "outbound" else "inbound"
        token = await self.tokens.issue(direction, request_id=params.get("request_id"), call_sid=call_sid)
        twiml = play_digits_and_stream(
            digits, media_stream_url(self.public_url), {**params, "resume": "1", TOKEN_PARAMETER: token}
        )
        await self._call(
            "send digits", lambda: self.client.calls(call_sid).update(twiml=twiml), retry_timeouts=True
        )
        log.info("twilio call %s: keys %s pressed", call_sid, digits)

    async def transfer(self, call_sid: str, number: str) -> None:
        twiml = dial(number, caller_id=None)
        await self._call(
            "transfer", lambda: self.client.calls(call_sid).update(twiml=twiml), retry_timeouts=True
        )
        log.info("twilio call %s: transferred to %s", call_sid, mask_phone(number))

    async def close(self) -> None:
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()
