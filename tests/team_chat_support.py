"""Helpers of the team chat tests: cheap Argon2 parameters, sign-up and sign-in over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

TEST_ENV = {
    # the hashing itself is real Argon2id; smaller memory keeps many sign-ups quick on a 2-core machine
    "TEAM_ARGON2_MEMORY_KIB": "8192",
    "TEAM_ARGON2_TIME_COST": "1",
    "TEAM_SMS_PROVIDER": "outbox",
}


@pytest.fixture
def team_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("TEAM_JWT_SECRET", "TEAM_TOKEN_ENCRYPTION_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    """A new account (unique email); the answer of /auth/register plus ``headers`` for its access token."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/auth/register", json={"email": email, "password": f"pw-{name}-secret", "name": name, **extra}
    )
    assert response.status_code == 201, response.text
    data = response.json()
    data["email"] = email
    data["password"] = f"pw-{name}-secret"
    data["headers"] = bearer(data["accessToken"])
    return data
