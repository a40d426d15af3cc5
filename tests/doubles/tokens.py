"""Supabase-style access tokens (HS256) for the tests that turn authentication on."""

from __future__ import annotations

import time
from typing import Any

import jwt

SECRET = "test-only-jwt-secret-0123456789abcdef"


def token(
    sub: str | None = "user-a", role: str = "authenticated", secret: str = SECRET, **claims: Any
) -> str:
    """A token for ``sub`` (none for ``None``) with ``role``, valid for an hour, signed with ``secret``;
    ``claims`` add or replace claims. Audience ``authenticated`` unless the role is ``service_role``."""
    payload = {"role": role, "iat": int(time.time()), "exp": int(time.time()) + 3600, **claims}
    if role != "service_role":
        payload.setdefault("aud", "authenticated")
    if sub:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(tok: str) -> dict[str, str]:
    """The ``Authorization`` header carrying ``tok``."""
    return {"Authorization": f"Bearer {tok}"}
