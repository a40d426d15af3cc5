"""Tokens we issue: short-lived access JWTs (HS256, verified by api/auth.py like Supabase's) and opaque
refresh tokens, stored hashed, rotated on every use; a refresh token used twice revokes its whole family."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from api.team_chat.store import TeamStore, User, now_utc

ISSUER = "lisa"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or replayed; the message is safe to show."""


class TokenIssuer:
    """Issues and rotates the tokens of team chat accounts."""

    def __init__(self, store: TeamStore, secret: str, audience: str, access_ttl_s: int, refresh_ttl_s: int):
        self.store = store
        self.secret = secret
        self.audience = audience
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s

    def access_token(self, user: User, now: datetime | None = None) -> str:
        moment = now or now_utc()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": user.id,
            "userId": user.id,
            "aud": self.audience,
            "role": "authenticated",
            "lisa_role": user.role,
            "iat": int(moment.timestamp()),
            "exp": int((moment + timedelta(seconds=self.access_ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": ISSUER})

    async def _new_refresh(self, user_id: str, family_id: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = now_utc() + timedelta(seconds=self.refresh_ttl_s)
        await self.store.add_refresh(token_hash(token), family_id, user_id, expires)
        return token

    async def issue(self, user: User) -> TokenPair:
        """A new sign-in: an access token and the first refresh token of a new family."""
        refresh = await self._new_refresh(user.id, uuid.uuid4().hex)
        return TokenPair(self.access_token(user), refresh)

    async def rotate(self, refresh_token: str) -> tuple[User, TokenPair]:
        """Trade a refresh token for a new pair. A token seen before (a replay: stolen or raced) revokes its
        family, so neither the thief nor the owner can go on with it."""
        row = await self.store.refresh_row(token_hash(refresh_token))
        if row is None:
            raise RefreshRefused("unknown refresh token")
        if row["revoked_at"] is not None:
            raise RefreshRefused("refresh token revoked")
        if datetime.fromisoformat(row["expires_at"]) <= now_utc():
            raise RefreshRefused("refresh token expired")
        if not await self.store.use_refresh(row["token_hash"]):
            await self.store.revoke_family(row["family_id"])
            raise RefreshRefused("refresh token already used; every session of this sign-in is revoked")
        user = await self.store.user(row["user_id"])
        if user is None:
            raise RefreshRefused("unknown refresh token")
        refresh = await self._new_refresh(user.id, row["family_id"])
        return user, TokenPair(self.access_token(user), refresh)

    async def revoke(self, refresh_token: str) -> bool:
        """Log out: revoke the token's family. False for an unknown token."""
        row = await self.store.refresh_row(token_hash(refresh_token))
        if row is None:
            return False
        await self.store.revoke_family(row["family_id"])
        return True
