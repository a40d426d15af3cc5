"""Bearer-token auth with Supabase-issued JWTs (the legacy HS256 secret and the asymmetric signing keys) and
the access tokens this server issues to team chat accounts (HS256, ``kid`` = ``lisa``, api/team_chat/tokens.py).

When ``auth_enabled`` is off (the embedded default) every caller is an anonymous admin. When it is on, a token
is checked for its signature, ``exp`` (required), ``nbf`` and ``aud``:
- HS256 tokens with ``SUPABASE_JWT_SECRET`` (Supabase's legacy secret);
- ES256/RS256 tokens with the project's public keys, the JWKS at ``SUPABASE_URL/auth/v1/.well-known/jwks.json``
  (or ``SUPABASE_JWKS_URL``), fetched with httpx, cached, refetched for an unknown ``kid`` (rotated keys) at
  most every ``JwksCache.min_refetch_s`` seconds.
User tokens carry ``sub`` (user id), ``role`` = ``authenticated`` and ``aud`` = ``JWT_AUDIENCE``; the service
role (``role`` = ``service_role``) is the admin/manager; its ``aud`` is the same or absent (Supabase's service
key has none), any other ``aud`` is refused. Missing or invalid token -> 401; a user reaching for someone
else's session or an admin endpoint -> 403. WebSockets: see :func:`socket_token`.

Other areas reuse the dependencies: ``Depends(current_principal)``, ``Depends(require_user)``,
``Depends(require_admin)``; for WebSockets ``await principal_for_websocket(websocket)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from fastapi import HTTPException, Request, WebSocket, status

from api.settings import ApiSettings
from api.state import app_state

log = logging.getLogger(__name__)

SERVICE_ROLE = "service_role"
USER_AUDIENCE = "authenticated"
ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")
BEARER_SUBPROTOCOL = "bearer"  # browsers: new WebSocket(url, ["bearer", token]); the server echoes "bearer"


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


def jwks_url(settings: ApiSettings) -> str | None:
    """Where the project's public signing keys are published (None: only the HS256 secret is used)."""
    if settings.supabase_jwks_url:
        return settings.supabase_jwks_url
    if settings.supabase_url:
        return settings.supabase_url.rstrip("/") + "/auth/v1/.well-known/jwks.json"
    return None


def check_settings(settings: ApiSettings) -> None:
    """Refuse to start with auth on but nothing to check tokens with."""
    if settings.auth_enabled and not (settings.supabase_jwt_secret or jwks_url(settings)):
        raise RuntimeError(
            "AUTH_ENABLED=true needs SUPABASE_JWT_SECRET (HS256) or SUPABASE_URL / SUPABASE_JWKS_URL "
            "(asymmetric signing keys) to verify tokens"
        )


# --- claims -------------------------------------------------------------------------------------------
def _decode(token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
    """Signature, ``exp`` (required), ``nbf`` and ``iat``; the audience is checked by :func:`principal_of`."""
    try:
        return jwt.decode(
            token, key, algorithms=algorithms, options={"verify_aud": False, "require": ["exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("token not valid yet (nbf/iat in the future)") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"token has no '{exc.claim}' claim") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid token") from exc


def principal_of(claims: dict[str, Any], audience: str = USER_AUDIENCE) -> Principal:
    """Who verified ``claims`` belong to; the audience is checked for every role."""
    role = str(claims.get("role") or "")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else ([] if aud is None else [aud])
    if role == SERVICE_ROLE:
        if audiences and audience not in audiences:  # Supabase's service key has no aud; others must match
            raise AuthError(f"token audience is not '{audience}'")
        return Principal(user_id=claims.get("sub"), role=role)
    if audience not in audiences:
        raise AuthError(f"token audience is not '{audience}'")
    if not claims.get("sub"):
        raise AuthError("token has no subject (user id)")
    return Principal(user_id=str(claims["sub"]), role=role or USER_AUDIENCE)


def decode_token(token: str, secret: str, audience: str = USER_AUDIENCE) -> Principal:
    """Verify an HS256 Supabase JWT (legacy secret) and tell who it belongs to."""
    return principal_of(_decode(token, secret, ["HS256"]), audience)


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError("invalid token") from exc


# --- the project's public keys ----------------------------------------------------------------------------
class JwksCache:
    """The JWKS of one URL: fetched on first use, kept for ``ttl_s``; a token whose ``kid`` is unknown (a
    rotated key) refetches, but at most once every ``min_refetch_s`` (so forged ``kid``s cannot hammer the
    endpoint). When a refresh fails the keys already known stay in use."""

    def __init__(self, url: str, ttl_s: float = 600.0, min_refetch_s: float = 30.0, timeout_s: float = 5.0):
        self.url = url
        self.ttl_s = ttl_s
        self.min_refetch_s = min_refetch_s
        self.timeout_s = timeout_s
        self.keys: dict[str, jwt.PyJWK] = {}  # by kid ("" for a key without one)
        self.fetched_at: float | None = None  # last successful fetch (monotonic)
        self.attempted_at: float | None = None  # last fetch attempt
        self.fetches = 0
        self._lock = asyncio.Lock()
        self._background: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def _may_refetch(self, now: float) -> bool:
        return self.attempted_at is None or now - self.attempted_at >= self.min_refetch_s

    async def refresh(self, force: bool = False) -> None:
        async with self._lock:
            now = time.monotonic()
            stale = self.fetched_at is None or now - self.fetched_at >= self.ttl_s
            if not (stale or force) or not self._may_refetch(now):
                return
            self.attempted_at = now
            self.fetches += 1
            try:
                async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                    response = await client.get(self.url, headers={"Accept": "application/json"})
                    response.raise_for_status()
                    document = response.json()
                self.keys = _parse_jwks(document)
                self.fetched_at = time.monotonic()
                log.info("signing keys fetched from the JWKS endpoint (%d keys)", len(self.keys))
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                log.warning(
                    "fetching the JWKS failed (%s); %d known keys stay in use",
                    type(exc).__name__,
                    len(self.keys),
                )

    async def key_for(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        if self.fetched_at is None:
            await self.refresh()  # the first token waits for the keys
        elif time.monotonic() - self.fetched_at >= self.ttl_s and (
            self._background is None or self._background.done()
        ):  # stale: refreshed in the background while the known keys keep working
            self._background = asyncio.create_task(self.refresh(), name="jwks-refresh")
        key = self._find(kid, algorithm)
        if key is None:  # perhaps a rotated key: look again (rate-limited)
            await self.refresh(force=True)
            key = self._find(kid, algorithm)
        if key is None:
            raise AuthError("token signed with an unknown key")
        return key

    def _find(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        if kid is not None:
            key = self.keys.get(kid)
            return key if key is not None and key.algorithm_name == algorithm else None
        matching = [k for k in self.keys.values() if k.algorithm_name == algorithm]
        return matching[0] if len(matching) == 1 else None


def _parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The usable signature keys of a JWKS document (asymmetric only: an HS256 key there would let anyone who
    can read the JWKS sign tokens)."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in document["keys"]:
        if (
            not isinstance(data, dict)
            or data.get("use", "sig") != "sig"
            or data.get("kty") not in ("EC", "RSA")
        ):
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ASYMMETRIC_ALGORITHMS:
            keys[str(data.get("kid") or "")] = key
    return keys


_JWKS: dict[str, JwksCache] = {}


def jwks_cache(url: str) -> JwksCache:
    """The cache of one JWKS URL, shared by everything on this event loop (one per worker process)."""
    loop = asyncio.get_running_loop()
    cache = _JWKS.get(url)
    if cache is None or cache.loop is not loop:
        cache = _JWKS[url] = JwksCache(url)
        cache.loop = loop
    return cache


# --- tokens we issue ourselves (team chat accounts, api/team_chat/tokens.py) ---------------------------------
LOCAL_KID = "lisa"  # the ``kid`` header of the access tokens this server issues
_LOCAL_SECRETS: list[str] = []  # their signing keys, registered by the team chat area when it starts


def register_local_secret(secret: str) -> None:
    """Accept access tokens signed with ``secret`` (HS256, ``kid`` = ``lisa``) from now on."""
    if secret not in _LOCAL_SECRETS:
        _LOCAL_SECRETS.append(secret)


def unregister_local_secret(secret: str) -> None:
    if secret in _LOCAL_SECRETS:
        _LOCAL_SECRETS.remove(secret)


def is_local_token(token: str) -> bool:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return header.get("kid") == LOCAL_KID and header.get("alg") == "HS256"


def local_principal(token: str, audience: str = USER_AUDIENCE) -> Principal:
    """Who one of our own access tokens belongs to (signature, ``exp``, audience); raises AuthError."""
    failure: AuthError | None = None
    for secret in list(_LOCAL_SECRETS):
        try:
            return decode_token(token, secret, audience)
        except AuthError as exc:
            failure = exc
            if str(exc) != "invalid token":  # right key, but expired / wrong audience: no other key helps
                break
    raise failure or AuthError("invalid token")


async def verify_token(settings: ApiSettings, token: str) -> Principal:
    """Check a token with the legacy secret (HS256) or the project's public keys (ES256/RS256); our own
    access tokens (``kid`` = ``lisa``) with the keys registered by :func:`register_local_secret`."""
    if is_local_token(token):
        return local_principal(token, settings.jwt_audience)
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm == "HS256":
        if not settings.supabase_jwt_secret:
            raise AuthError("invalid token")
        return decode_token(token, settings.supabase_jwt_secret, settings.jwt_audience)
    url = jwks_url(settings)
    if algorithm not in ASYMMETRIC_ALGORITHMS or url is None:
        raise AuthError("invalid token")
    kid = header.get("kid")
    key = await jwks_cache(url).key_for(str(kid) if kid is not None else None, algorithm)
    return principal_of(_decode(token, key.key, [algorithm]), settings.jwt_audience)


async def principal_from_token(settings: ApiSettings, token: str | None) -> Principal:
    """The caller. With auth off anyone is the anonymous admin, except the bearer of one of our own access
    tokens, who is that user (an expired or forged one of ours is refused either way)."""
    if token and is_local_token(token):
        return local_principal(token, settings.jwt_audience)
    if not settings.auth_enabled:
        return ANONYMOUS
    if not token:
        raise AuthError("missing bearer token")
    return await verify_token(settings, token)


# --- HTTP ---------------------------------------------------------------------------------------------
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
    settings = app_state(request).settings
    try:
        principal = await principal_from_token(settings, _bearer(request.headers.get("authorization")))
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


# --- WebSockets -------------------------------------------------------------------------------------------
def offered_subprotocols(websocket: WebSocket) -> list[str]:
    header = websocket.headers.get("sec-websocket-protocol") or ""
    return [p.strip() for p in header.split(",") if p.strip()]


def socket_token(websocket: WebSocket) -> str | None:
    """The token offered at the handshake, in this order: the ``Sec-WebSocket-Protocol`` value after
    ``bearer`` (browsers: keeps it out of URLs and logs), ``Authorization: Bearer`` (non-browser clients),
    ``?token=`` (old clients). None: none offered (the client may still send ``{"type": "auth", ...}``)."""
    protocols = offered_subprotocols(websocket)
    if BEARER_SUBPROTOCOL in protocols:
        index = protocols.index(BEARER_SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1]
    return _bearer(websocket.headers.get("authorization")) or websocket.query_params.get("token")


def chosen_subprotocol(websocket: WebSocket) -> str | None:
    """What the server answers in ``Sec-WebSocket-Protocol``: ``bearer`` when the client offered it (a
    browser fails the connection when an offered protocol is not echoed), never the token itself."""
    return BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in offered_subprotocols(websocket) else None


def auth_frame_token(raw: str) -> str | None:
    """The token of a first frame ``{"type": "auth", "token": "…"}``; None for anything else."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "auth" and isinstance(data.get("token"), str):
        return _bearer(data["token"]) or data["token"].strip() or None
    return None


async def principal_for_websocket(websocket: WebSocket) -> Principal:
    """The caller of a WebSocket from the handshake's token (see :func:`socket_token`); raises AuthError."""
    settings = app_state(websocket).settings
    return await principal_from_token(settings, socket_token(websocket))
