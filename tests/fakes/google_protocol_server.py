"""A local HTTP server that speaks the subset of Google's wire protocol the team chat uses.

- ``GET|POST /tokeninfo`` (``access_token`` as query or form field), as ``oauth2.googleapis.com/tokeninfo``:
  200 ``{azp, aud, sub, scope, exp, expires_in, email, email_verified, access_type}`` for a known token,
  400 ``{"error": "invalid_token", "error_description": "Invalid Value"}`` otherwise.
- ``POST /calendar/v3/calendars/{calendarId}/events?conferenceDataVersion=1`` with ``Authorization: Bearer``,
  as the Calendar API v3 ``events.insert``: 401 with Google's error body for an unknown token; with
  ``conferenceData.createRequest.conferenceSolutionKey.type == "hangoutsMeet"`` (and conferenceDataVersion=1)
  the event gets a Meet conference: ``hangoutLink`` and ``conferenceData.entryPoints[video].uri``; without
  it, an event without a conference (as Google does).

Every request is kept in ``requests`` (method, path, query, headers, body) for the test to inspect.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def meet_code() -> str:
    """A code like Google Meet's: ``abc-defg-hij``."""
    letters = "".join(random.choices(string.ascii_lowercase, k=10))
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"


class GoogleProtocolServer:
    def __init__(self, client_id: str = "test-client.apps.googleusercontent.com") -> None:
        self.client_id = client_id
        self.tokens: dict[str, dict[str, Any]] = {}  # access token -> its user (email, scope)
        self.requests: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None

    def issue(self, email: str, scope: str = "https://www.googleapis.com/auth/calendar.events") -> str:
        token = "ya29." + uuid.uuid4().hex
        self.tokens[token] = {"email": email, "scope": scope, "sub": str(random.randint(10**20, 10**21))}
        return token

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tokeninfo_url(self) -> str:
        return f"{self.url}/tokeninfo"

    @property
    def calendar_url(self) -> str:
        return f"{self.url}/calendar/v3"

    def __enter__(self) -> GoogleProtocolServer:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # --- the endpoints ----------------------------------------------------------------------------------
    def tokeninfo(self, token: str | None) -> tuple[int, dict[str, Any]]:
        user = self.tokens.get(token or "")
        if user is None:
            return 400, {"error": "invalid_token", "error_description": "Invalid Value"}
        expires_in = 3599
        return 200, {
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": user["sub"],
            "scope": user["scope"],
            "exp": str(int(time.time()) + expires_in),
            "expires_in": str(expires_in),
            "email": user["email"],
            "email_verified": "true",
            "access_type": "online",
        }

    def insert_event(
        self, token: str | None, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if token not in self.tokens:
            return 401, {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "status": "UNAUTHENTICATED",
                }
            }
        event = {
            "kind": "calendar#event",
            "id": uuid.uuid4().hex,
            "status": "confirmed",
            "summary": body.get("summary", ""),
            "start": body.get("start"),
            "end": body.get("end"),
            "htmlLink": f"https://www.google.com/calendar/event?eid={uuid.uuid4().hex}",
        }
        request = (body.get("conferenceData") or {}).get("createRequest")
        wants_meet = (request or {}).get("conferenceSolutionKey", {}).get("type") == "hangoutsMeet"
        if wants_meet and query.get("conferenceDataVersion") == ["1"]:
            code = meet_code()
            url = f"https://meet.google.com/{code}"
            event["hangoutLink"] = url
            event["conferenceData"] = {
                "createRequest": {**request, "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": url, "label": f"meet.google.com/{code}"}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": code,
            }
        self.events.append(event)
        return 200, event


class _Handler(BaseHTTPRequestHandler):
    backend: GoogleProtocolServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
        content_type = self.headers.get("Content-Type") or ""
        form = parse_qs(raw.decode()) if "x-www-form-urlencoded" in content_type else {}
        body = json.loads(raw) if raw and "json" in content_type else {}
        self.backend.requests.append(
            {
                "method": method,
                "path": parts.path,
                "query": query,
                "headers": dict(self.headers),
                "body": body,
            }
        )
        auth = self.headers.get("Authorization") or ""
        bearer = auth[7:] if auth.startswith("Bearer ") else None
        if parts.path == "/tokeninfo":
            token = (form.get("access_token") or query.get("access_token") or [None])[0]
            self._answer(*self.backend.tokeninfo(token))
        elif (
            method == "POST"
            and parts.path.startswith("/calendar/v3/calendars/")
            and parts.path.endswith("/events")
        ):
            self._answer(*self.backend.insert_event(bearer, query, body))
        else:
            self._answer(404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")
