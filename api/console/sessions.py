"""Console sign-in: a service-role token (or, with auth off, nobody's) exchanged once for a cookie session.

The cookie ``lisa_console`` holds a random token (HttpOnly, SameSite=Strict, Path=/console, Secure over
HTTPS); the database keeps only its SHA-256, the operator, the role, a CSRF token and the expiry, so every
worker knows the session and signing out ends it everywhere. Write actions need the CSRF token in the
``X-CSRF-Token`` header (the page gets it from ``GET /console/api/session``, which another site cannot read)
and, when the browser sends one, an ``Origin`` of this host.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
from fastapi import HTTPException, Request

from api.storage.db import Database, utcnow

COOKIE = "lisa_console"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"
ANONYMOUS_OPERATOR = "auth off"
OPERATOR_ROLES = ("operator", "admin")  # team-chat accounts (claim ``lisa_role``) that may use the console


@dataclass(frozen=True)
class Operator:
    """Who is signed in to the console."""

    name: str
    role: str  # service_role | operator | admin | anonymous (auth off)
    csrf: str
    expires_at: str
    bearer: bool = False  # signed in by an Authorization header (a script): no cookie, so no CSRF to fear


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSessions:
    """Console sessions in the database (table ``console_sessions``)."""

    def __init__(self, db: Database, lifetime_h: float) -> None:
        self.db = db
        self.lifetime = timedelta(hours=lifetime_h)

    async def create(self, operator: str, role: str) -> tuple[str, Operator]:
        """A new session: the cookie token (shown once) and the operator with its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = (datetime.now(UTC) + self.lifetime).isoformat(timespec="milliseconds")
        await self.db.execute(
            "INSERT INTO console_sessions (token_hash, operator, role, csrf, created_at, expires_at) "
            "VALUES (:h, :operator, :role, :csrf, :now, :expires)",
            {
                "h": _hash(token),
                "operator": operator,
                "role": role,
                "csrf": csrf,
                "now": utcnow(),
                "expires": expires,
            },
        )
        await self.db.execute("DELETE FROM console_sessions WHERE expires_at < :now", {"now": utcnow()})
        return token, Operator(operator, role, csrf, expires)

    async def lookup(self, token: str | None) -> Operator | None:
        if not token or len(token) > 200:
            return None
        row = await self.db.fetchone(
            "SELECT operator, role, csrf, expires_at FROM console_sessions "
            "WHERE token_hash = :h AND revoked_at IS NULL AND expires_at > :now",
            {"h": _hash(token), "now": utcnow()},
        )
        if row is None:
            return None
        return Operator(row["operator"], row["role"], row["csrf"], row["expires_at"])

    async def revoke(self, token: str | None) -> None:
        if token:
            await self.db.execute(
                "UPDATE console_sessions SET revoked_at = :now WHERE token_hash = :h",
                {"now": utcnow(), "h": _hash(token)},
            )


def sessions_of(request: Request) -> ConsoleSessions:
    from api.console.lifespan import console_services

    return console_services(request).sessions


async def bearer_operator(request: Request) -> Operator:
    """The caller of an ``Authorization: Bearer`` request as an operator: the service role (anyone with auth
    off); 401 for a bad token, 403 for a user who is no operator."""
    from api.auth import current_principal

    principal = await current_principal(request)
    if principal.is_admin:
        return Operator(principal.user_id or "Manager", principal.role, "", "", bearer=True)
    token = (request.headers.get("authorization") or "").partition(" ")[2].strip()
    claims = jwt.decode(token, options={"verify_signature": False})  # verified by current_principal
    role = str(claims.get("lisa_role") or "")
    if role not in OPERATOR_ROLES:
        raise HTTPException(403, detail="the console needs the service role or an operator account")
    return Operator(str(claims.get("name") or principal.user_id or "Operator"), role, "", "", bearer=True)


async def current_operator(request: Request) -> Operator:
    """FastAPI dependency: the operator of the session cookie, else of an ``Authorization`` header (scripts);
    401 without either."""
    operator = await sessions_of(request).lookup(request.cookies.get(COOKIE))
    if operator is not None:
        return operator
    if request.headers.get("authorization"):
        return await bearer_operator(request)
    raise HTTPException(401, detail="not signed in to the console")


def same_origin(request: Request) -> bool:
    """True when the browser sent no ``Origin`` or one naming this host."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


async def operator_for_write(request: Request) -> Operator:
    """FastAPI dependency for write actions: a session, its CSRF token in ``X-CSRF-Token``, our own origin."""
    operator = await current_operator(request)
    if operator.bearer:  # a header the browser never adds by itself: not forgeable by another site
        return operator
    given = request.headers.get(CSRF_HEADER) or ""
    if not given or not hmac.compare_digest(given, operator.csrf):
        raise HTTPException(403, detail="missing or wrong CSRF token (header X-CSRF-Token)")
    if not same_origin(request):
        raise HTTPException(403, detail="cross-origin request refused")
    return operator
