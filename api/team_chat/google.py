"""Google for the team chat: checking a user's OAuth access token (the tokeninfo endpoint), keeping it encrypted
at rest (Fernet), and creating a Calendar event with a Google Meet conference (``conferenceData.createRequest``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class GoogleError(Exception):
    """Google refused or could not be reached; ``status_code`` is our HTTP answer, the message safe to show."""

    def __init__(self, detail: str, status_code: int = 502) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


@dataclass(frozen=True)
class TokenInfo:
    email: str | None
    scope: str | None
    expires_in: int | None
    audience: str | None


class TokenVault:
    """Encrypts tokens with the configured Fernet key before they reach the database."""

    def __init__(self, key: str) -> None:
        try:
            self.fernet = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise RuntimeError(
                "TEAM_TOKEN_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from exc

    def seal(self, token: str) -> str:
        return self.fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


class GoogleClient:
    """The two Google calls the team chat makes, against configurable base URLs."""

    def __init__(
        self, tokeninfo_url: str, calendar_url: str, client_id: str | None, timeout_s: float
    ) -> None:
        self.tokeninfo_url = tokeninfo_url
        self.calendar_url = calendar_url.rstrip("/")
        self.client_id = client_id
        self.timeout_s = timeout_s

    async def token_info(self, token: str) -> TokenInfo:
        """Ask Google about an access token; GoogleError(401) when Google does not know it or it was issued to
        another client."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(self.tokeninfo_url, data={"access_token": token})
        except httpx.HTTPError as exc:
            raise GoogleError("Google could not be reached to check the token", 502) from exc
        if response.status_code in (400, 401):
            raise GoogleError("Google does not accept this token (invalid or expired)", 401)
        if response.status_code >= 300:
            raise GoogleError(f"Google answered {response.status_code} checking the token", 502)
        data: dict[str, Any] = response.json()
        audience = data.get("aud") or data.get("azp")
        if self.client_id and audience != self.client_id:
            raise GoogleError("this Google token was issued to another app", 401)
        expires = data.get("expires_in")
        return TokenInfo(
            email=data.get("email"),
            scope=data.get("scope"),
            expires_in=int(expires) if expires is not None else None,
            audience=audience,
        )

    async def create_meet(self, token: str, summary: str, start: datetime, minutes: int = 30) -> str:
        """A Calendar event on the user's primary calendar with a Meet conference; its join URL."""
        body = {
            "summary": summary,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
            "conferenceData": {
                "createRequest": {
                    "requestId": uuid.uuid4().hex,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            },
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(
                    f"{self.calendar_url}/calendars/primary/events",
                    params={"conferenceDataVersion": 1},
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            raise GoogleError("Google Calendar could not be reached", 502) from exc
        if response.status_code == 401:
            raise GoogleError("Google no longer accepts your token; send a new one to /auth/gmail/token", 401)
        if response.status_code >= 300:
            raise GoogleError(f"Google Calendar answered {response.status_code}", 502)
        event: dict[str, Any] = response.json()
        url = event.get("hangoutLink") or next(
            (
                p.get("uri")
                for p in (event.get("conferenceData") or {}).get("entryPoints") or []
                if p.get("entryPointType") == "video"
            ),
            None,
        )
        if not url:
            raise GoogleError("Google Calendar created no Meet conference for the event", 502)
        return str(url)
