"""Bearer-token auth with Supabase-issued JWTs (HS256, signed with ``SUPABASE_JWT_SECRET``).

When ``auth_enabled`` is off (the embedded default) every caller is an anonymous admin. When it is on:
user tokens carry ``sub`` (user id), ``role`` = ``authenticated`` and ``aud`` = ``authenticated``; the
service role (``role`` = ``service_role``) is the admin/manager. Missing or invalid token -> 401; a user
reaching for someone else's session or an admin endpoint -> 403. WebSockets pass the token as ``?token=``.

Other areas reuse the dependencies: ``Depends(current_principal)``, ``Depends(require_user)``,
``Depends(require_admin)``; for WebSockets ``principal_for_websocket(websocket)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from fastapi import HTTPException, Request, WebSocket, status

from api.settings import ApiSettings

SERVICE_ROLE = "service_role"
USER_AUDIENCE = "authenticated"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (``user_id``), the service role (admin), or anyone when auth is off."""

    user_id: str | None
    role: str
    authenticated: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == SERVICE_ROLE or not self.authenticated

    def may_access(self, owner_id: str | None) -> bool:
        """Admins see everything; a user sees only sessions they own."""
        return self.is_admin or (self.user_id is not None and owner_id == self.user_id)


ANONYMOUS = Principal(user_id=None, role="anonymous", authenticated=False)


class AuthError(Exception):
    """The token is missing or not acceptable; the message is safe to show (never the token or secret)."""


def check_settings(settings: ApiSettings) -> None:
    """Refuse to start with auth on but no secret to check tokens with."""
    if settings.auth_enabled and not settings.supabase_jwt_secret:
        raise RuntimeError("AUTH_ENABLED=true needs SUPABASE_JWT_SECRET to verify tokens")


def decode_token(token: str, secret: str) -> Principal:
    """Verify an HS256 Supabase JWT and tell who it belongs to."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_aud": False, "require": []},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid token") from exc
    role = str(claims.get("role") or "")
    if role == SERVICE_ROLE:
        return Principal(user_id=claims.get("sub"), role=role)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if USER_AUDIENCE not in audiences:
        raise AuthError("token audience is not 'authenticated'")
    if not claims.get("sub"):
        raise AuthError("token has no subject (user id)")
    return Principal(user_id=str(claims["sub"]), role=role or USER_AUDIENCE)


def principal_from_token(settings: ApiSettings, token: str | None) -> Principal:
    if not settings.auth_enabled:
        return ANONYMOUS
    if not token:
        raise AuthError("missing bearer token")
    return decode_token(token, settings.supabase_jwt_secret or "")


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller (401 when auth is on and the token is missing or bad)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    settings: ApiSettings = request.app.state.lisa.settings
    try:
        principal = principal_from_token(settings, _bearer(request.headers.get("authorization")))
    except AuthError as exc:
        raise _unauthorized(str(exc)) from exc
    request.state.principal = principal
    return principal


async def require_user(request: Request) -> Principal:
    """Any authenticated caller (same as :func:`current_principal`; named for readability)."""
    return await current_principal(request)


async def require_admin(request: Request) -> Principal:
    """FastAPI dependency: the service role (403 for ordinary users)."""
    principal = await current_principal(request)
    if not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this endpoint needs the service role")
    return principal


def principal_for_websocket(websocket: WebSocket) -> Principal:
    """The caller of a WebSocket (token in ``?token=`` or an Authorization header); raises AuthError."""
    settings: ApiSettings = websocket.app.state.lisa.settings
    token = websocket.query_params.get("token") or _bearer(websocket.headers.get("authorization"))
    return principal_from_token(settings, token)
