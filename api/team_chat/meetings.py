"""Meetings for team chat users: a Google Calendar event with a Meet conference when the user has given us a
Google token, else the keyless embedded default, a Jitsi Meet room with an unguessable name (never a made-up
Meet URL)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from api.team_chat.accounts import AccountService, TeamError
from api.team_chat.google import GoogleClient, GoogleError
from api.team_chat.store import User, now_utc


@dataclass(frozen=True)
class Meeting:
    url: str
    provider: str  # google | jitsi


class Meetings:
    """Creates meetings with the best provider a user has."""

    def __init__(self, accounts: AccountService, google: GoogleClient, jitsi_base_url: str) -> None:
        self.accounts = accounts
        self.google = google
        self.jitsi_base_url = jitsi_base_url.rstrip("/")

    @property
    def name(self) -> str:
        """For /api/v1/health: which providers meetings can come from."""
        jitsi = f"jitsi ({self.jitsi_base_url})"
        return f"google meet (users with a Google token), else {jitsi}" if self.accounts.vault else jitsi

    def jitsi_room(self) -> str:
        return f"{self.jitsi_base_url}/Lisa-{secrets.token_urlsafe(18)}"

    async def create(self, user: User, title: str | None = None) -> Meeting:
        """A meeting starting now (30 minutes); Google's when the user's token works, else Jitsi."""
        token = await self.accounts.google_token(user.id)
        if token is None:
            return Meeting(self.jitsi_room(), "jitsi")
        try:
            url = await self.google.create_meet(token, title or "Meeting", now_utc() + timedelta(minutes=1))
        except GoogleError as exc:
            raise TeamError(exc.status_code, exc.detail) from exc
        return Meeting(url, "google")
