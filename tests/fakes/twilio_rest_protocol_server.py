"""A local HTTP server that speaks the subset of Twilio's REST API (2010-04-01) that Lisa uses.

Not a mock of our code: the real ``twilio`` client talks HTTP to it (``client.api.base_url`` pointed here).

- ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` — create a call (form body: ``To``, ``From``,
  ``Twiml`` or ``Url``, ``StatusCallback``, repeated ``StatusCallbackEvent``, ``MachineDetection``,
  ``AsyncAmd``…) → 201 and the call resource as JSON, status ``queued``.
- ``POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` — update: ``Status=completed|canceled``
  ends it; ``Twiml``/``Url`` redirects a call in progress (else 400, code 21220).
- ``GET`` of the same call URL → the call resource.
- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` — send an SMS (``To``, ``From``, ``Body``) → 201
  and the message resource, status ``queued`` (kept in :attr:`messages`); 400 with Twilio's codes for a
  missing or malformed ``To`` (21211), a missing ``From`` (21603) or ``Body`` (21602).
- HTTP basic auth with the account sid and auth token (else 401, code 20003); Twilio's error format
  ``{"code", "message", "more_info", "status"}``; 404 code 20404 for unknown calls or paths.

Test controls: :meth:`fail_next` (answer the next requests with e.g. 503), :attr:`requests` (everything
received, with multi-valued form fields), :meth:`set_status`, :attr:`calls`. It can also play Twilio's
side of a call: :meth:`answer` posts signed status callbacks to the call's ``StatusCallback``;
:meth:`connect_media` answers a created call and opens the media stream its TwiML names (its parameters,
stream token included, and a signed upgrade, as Twilio does), with a party on it
(a REST hang-up or redirect then stops the stream, as Twilio does); :meth:`inbound_call` rings the app's
``/twilio/voice`` webhook (signed) and connects the stream of the TwiML it answers with.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import json
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

API = "/2010-04-01"
_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls(?:/(?P<call>CA\w+))?\.json$")
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")
FINAL = {"completed", "busy", "no-answer", "failed", "canceled"}
# The StatusCallbackEvent that asks for a callback of each call status; "completed" (every final status) is
# always sent, the others only when the call asked for them, as Twilio does.
STATUS_EVENT = {
    "initiated": "initiated",
    "queued": "initiated",
    "ringing": "ringing",
    "in-progress": "answered",
}


def status_event(status: str) -> str:
    return STATUS_EVENT.get(status, "completed")


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    auth: tuple[str, str] | None

    def one(self, key: str) -> str | None:
        values = self.form.get(key)
        return values[0] if values else None


@dataclass
class FakeCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    twiml: str | None
    url: str | None
    status_callback: str | None
    status_events: list[str]
    machine_detection: str | None
    async_amd: str | None
    async_amd_callback: str | None
    status: str = "queued"
    answered_by: str | None = None
    updates: list[dict[str, list[str]]] = field(default_factory=list)

    def resource(self) -> dict[str, Any]:
        now = email.utils.formatdate(usegmt=True)
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "status": self.status,
            "direction": "outbound-api",
            "answered_by": self.answered_by,
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "parent_call_sid": None,
            "uri": f"{API}/Accounts/{self.account_sid}/Calls/{self.sid}.json",
            "subresource_uris": {},
        }


class TwilioRestProtocolServer:
    """Start with ``with TwilioRestProtocolServer(account_sid, auth_token) as twilio: twilio.base_url``."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: dict[str, FakeCall] = {}
        self.messages: list[dict[str, Any]] = []  # SMS sent through Messages.json, as their resources
        self.requests: list[RecordedRequest] = []
        self.callbacks: list[tuple[str, str, dict[str, str]]] = []  # (call sid, event or "amd", form) posted
        self._failures: list[tuple[int, int, str]] = []  # (status, code, message)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._streams: dict[str, tuple[asyncio.AbstractEventLoop, Any]] = {}  # call sid -> (loop, client)

    # ----------------------------------------------------------------------- lifecycle

    def __enter__(self) -> TwilioRestProtocolServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer._handle(self, "GET")

            def do_POST(self) -> None:
                outer._handle(self, "POST")

            def do_DELETE(self) -> None:
                outer._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="twilio-rest-fake", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ----------------------------------------------------------------------- test controls

    def fail_next(self, status: int = 503, count: int = 1, code: int = 20500, message: str = "") -> None:
        """Answer the next ``count`` requests with this error (Twilio's error format)."""
        with self._lock:
            self._failures.extend([(status, code, message or f"Simulated error {status}")] * count)

    def set_status(self, call_sid: str, status: str, answered_by: str | None = None) -> None:
        call = self.calls[call_sid]
        call.status = status
        if answered_by:
            call.answered_by = answered_by

    async def answer(
        self,
        call_sid: str,
        statuses: tuple[str, ...] = ("initiated", "ringing", "in-progress"),
        answered_by: str | None = "human",
        rewrite_base: str | None = None,
    ) -> list[int]:
        """Play Twilio's side: post signed status callbacks (and the async AMD result) for a call.

        As Twilio: a status gets a callback only when the call asked for its ``StatusCallbackEvent``
        (``initiated ringing answered completed``; the final statuses, ``completed``, always); the answering
        machine result (``AnsweredBy``) only when the call set ``MachineDetection`` — with ``AsyncAmd`` it
        goes to ``AsyncAmdStatusCallback``, else it rides on the ``answered``/``completed`` callbacks.

        ``rewrite_base`` replaces the callback URL's scheme+host for sending (the signature stays on the
        URL as configured, as Twilio signs what it was given). Returns the HTTP statuses of our posts.
        """
        call = self.calls[call_sid]
        codes: list[int] = []
        async with httpx.AsyncClient(timeout=10) as client:
            for status in statuses:
                call.status = "queued" if status == "initiated" else status
                event = status_event(call.status)
                if call.status_callback and (event == "completed" or event in call.status_events):
                    form = {"CallSid": call.sid, "AccountSid": call.account_sid, "CallStatus": call.status}
                    form.update({"To": call.to, "From": call.from_, "Direction": "outbound-api"})
                    sync_amd = call.machine_detection and (call.async_amd or "").lower() != "true"
                    if sync_amd and answered_by and event in ("answered", "completed"):
                        call.answered_by = answered_by
                        form["AnsweredBy"] = answered_by
                    self.callbacks.append((call.sid, event, dict(form)))
                    codes.append(
                        (
                            await self._post_signed(client, call.status_callback, form, rewrite_base)
                        ).status_code
                    )
            asynchronous = (call.async_amd or "").lower() == "true" and call.async_amd_callback
            if answered_by and call.machine_detection and asynchronous and call.status == "in-progress":
                call.answered_by = answered_by
                form = {"CallSid": call.sid, "AccountSid": call.account_sid, "AnsweredBy": answered_by}
                form["MachineDetectionDuration"] = "1200"
                self.callbacks.append((call.sid, "amd", dict(form)))
                codes.append(
                    (await self._post_signed(client, call.async_amd_callback, form, rewrite_base)).status_code
                )
        return codes

    async def _post_signed(
        self, client: httpx.AsyncClient, url: str, form: dict[str, str], rewrite_base: str | None
    ) -> httpx.Response:
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        target = url
        if rewrite_base:
            parts = urlsplit(url)
            target = rewrite_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        return await client.post(target, data=form, headers={"X-Twilio-Signature": signature})

    def _stream_signature(self, url: str) -> dict[str, str]:
        """Twilio signs a media stream's WebSocket upgrade: the TwiML's ``wss://`` URL, no parameters."""
        return {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(url, {})}

    async def connect_media(
        self,
        call_sid: str,
        party: Callable[[Any], Awaitable[None]],
        *,
        ws_base: str,
        http_base: str | None = None,
        answered_by: str | None = "human",
    ) -> Any:
        """Answer a created call and run ``party(call)`` on the media stream of its TwiML ``<Stream>``.

        ``ws_base`` (``ws://127.0.0.1:port``) replaces the stream URL's scheme and host; ``http_base`` does
        the same for status callbacks (signed for the URLs as given). Ends with the ``completed`` callback.
        Returns the :class:`MediaStreamClient` (for its records).
        """
        from simulation.media_stream_client import MediaStreamClient

        call = self.calls[call_sid]
        url, params = stream_of(call.twiml or "")
        await self.answer(call_sid, answered_by=answered_by, rewrite_base=http_base)
        async with MediaStreamClient.connect(
            _rebase(url, ws_base),
            custom_parameters=params,
            call_sid=call_sid,
            account_sid=self.account_sid,
            headers=self._stream_signature(url),
        ) as client:
            self._streams[call_sid] = (asyncio.get_running_loop(), client)
            party_task = asyncio.create_task(party(client))
            closed = asyncio.create_task(client.wait_closed())
            await asyncio.wait({party_task, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not party_task.done():
                await asyncio.wait({party_task}, timeout=3)
                party_task.cancel()
            closed.cancel()
            with contextlib.suppress(BaseException):
                await party_task
        self._streams.pop(call_sid, None)
        if call.status not in FINAL:
            call.status = "completed"
        await self.answer(call_sid, statuses=("completed",), answered_by=None, rewrite_base=http_base)
        return client

    async def inbound_call(
        self,
        party: Callable[[Any], Awaitable[None]],
        *,
        app_url: str,
        public_url: str,
        from_number: str,
        to_number: str,
    ) -> tuple[str, Any]:
        """Ring the app's ``/twilio/voice`` as Twilio does for a call to our number, then stream the call.

        Returns (TwiML answered, the MediaStreamClient after the call).
        """
        from simulation.media_stream_client import MediaStreamClient

        sid = "CA" + uuid.uuid4().hex
        form = {
            "CallSid": sid,
            "AccountSid": self.account_sid,
            "From": from_number,
            "To": to_number,
            "Direction": "inbound",
            "CallStatus": "ringing",
        }
        async with httpx.AsyncClient(timeout=10) as client:
            resp = await self._post_signed(client, public_url.rstrip("/") + "/twilio/voice", form, app_url)
        if resp.status_code != 200:
            raise AssertionError(f"/twilio/voice answered {resp.status_code}: {resp.text}")
        twiml = resp.text
        url, params = stream_of(twiml)
        ws_base = "ws://" + urlsplit(app_url).netloc
        async with MediaStreamClient.connect(
            _rebase(url, ws_base),
            custom_parameters=params,
            call_sid=sid,
            account_sid=self.account_sid,
            headers=self._stream_signature(url),
        ) as call:
            self._streams[sid] = (asyncio.get_running_loop(), call)
            try:
                await party(call)
            finally:
                self._streams.pop(sid, None)
        return twiml, call

    def _end_stream(self, call_sid: str) -> None:
        """From the HTTP thread: the call was hung up or redirected, so its media stream stops."""
        entry = self._streams.get(call_sid)
        if entry is not None:
            loop, client = entry
            asyncio.run_coroutine_threadsafe(client.stop(remote=True), loop)

    # ----------------------------------------------------------------------- HTTP

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length).decode() if length else ""
        path = urlsplit(req.path).path
        form = parse_qs(body, keep_blank_values=True)
        auth = _basic_auth(req.headers.get("Authorization"))
        with self._lock:
            self.requests.append(RecordedRequest(method, path, form, auth))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, code, message = failure
            return _error(req, status, code, message)
        if auth != (self.account_sid, self.auth_token):
            return _error(req, 401, 20003, "Authenticate")
        sms = _MESSAGES.match(path)
        if sms is not None and sms["account"] == self.account_sid and method == "POST":
            return self._create_message(req, form)
        match = _CALLS.match(path)
        if match is None or match["account"] != self.account_sid:
            return _error(req, 404, 20404, f"The requested resource {path} was not found")
        if match["call"] is None:
            if method != "POST":
                return _error(req, 405, 20004, "Method not allowed")
            return self._create(req, form)
        call = self.calls.get(match["call"])
        if call is None:
            return _error(req, 404, 20404, f"The requested resource {path} was not found")
        if method == "GET":
            return _json(req, 200, call.resource())
        if method == "POST":
            return self._update(req, call, form)
        return _error(req, 405, 20004, "Method not allowed")

    def _create(self, req: BaseHTTPRequestHandler, form: dict[str, list[str]]) -> None:
        def one(key: str) -> str | None:
            return form[key][0] if form.get(key) else None

        if not one("To"):
            return _error(req, 400, 21201, "No 'To' number is specified")
        if not one("From"):
            return _error(req, 400, 21603, "A 'From' phone number is required.")
        if not (one("Twiml") or one("Url") or one("ApplicationSid")):
            return _error(req, 400, 21205, "Url parameter is required.")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", one("To") or ""):
            return _error(req, 400, 21211, f"Invalid 'To' Phone Number: {one('To')}")
        call = FakeCall(
            sid="CA" + uuid.uuid4().hex,
            account_sid=self.account_sid,
            to=one("To") or "",
            from_=one("From") or "",
            twiml=one("Twiml"),
            url=one("Url"),
            status_callback=one("StatusCallback"),
            status_events=form.get("StatusCallbackEvent", []),
            machine_detection=one("MachineDetection"),
            async_amd=one("AsyncAmd"),
            async_amd_callback=one("AsyncAmdStatusCallback"),
        )
        with self._lock:
            self.calls[call.sid] = call
        return _json(req, 201, call.resource())

    def _create_message(self, req: BaseHTTPRequestHandler, form: dict[str, list[str]]) -> None:
        to, from_, body = (form[k][0] if form.get(k) else None for k in ("To", "From", "Body"))
        if not to or not re.fullmatch(r"\+[1-9]\d{6,14}", to):
            return _error(req, 400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_:
            return _error(req, 400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(req, 400, 21602, "Message body is required.")
        now = email.utils.formatdate(usegmt=True)
        sid = "SM" + uuid.uuid4().hex
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": from_,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self.messages.append(message)
        return _json(req, 201, message)

    def _update(self, req: BaseHTTPRequestHandler, call: FakeCall, form: dict[str, list[str]]) -> None:
        call.updates.append(form)
        status = form.get("Status", [None])[0]
        redirect = form.get("Twiml", [None])[0] or form.get("Url", [None])[0]
        if status:
            if status not in ("completed", "canceled"):
                return _error(req, 400, 20001, f"Invalid Status: {status}")
            # As documented: "completed" hangs up a call in progress, "canceled" a queued or ringing one;
            # the other combination leaves the call as it is.
            if call.status == "in-progress" and status == "completed":
                call.status = "completed"
            elif call.status in ("queued", "ringing") and status == "canceled":
                call.status = "canceled"
            if call.status in FINAL:
                self._end_stream(call.sid)
            return _json(req, 200, call.resource())
        if redirect:
            if call.status != "in-progress":
                return _error(req, 400, 21220, "Call is not in-progress. Cannot redirect.")
            if form.get("Twiml"):
                call.twiml = form["Twiml"][0]
            self._end_stream(call.sid)  # new TwiML replaces <Connect><Stream>: the stream ends
            return _json(req, 200, call.resource())
        return _json(req, 200, call.resource())


def stream_of(twiml: str) -> tuple[str, dict[str, str]]:
    """The ``<Connect><Stream url>`` and its ``<Parameter>``s of a TwiML document."""
    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")
    if stream is None:
        raise AssertionError(f"no <Connect><Stream> in TwiML: {twiml}")
    params = {p.get("name") or "": p.get("value") or "" for p in stream.findall("Parameter")}
    return stream.get("url") or "", params


def _rebase(url: str, base: str) -> str:
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _json(req: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def _error(req: BaseHTTPRequestHandler, status: int, code: int, message: str) -> None:
    _json(
        req,
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
