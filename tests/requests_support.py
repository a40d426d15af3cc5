"""Helpers for the outbound-request tests: a processor on a real database without the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from api.requests.business_hours import BusinessHours
from api.requests.models import ProcessRequestBody
from api.requests.processor import RequestProcessor
from api.requests.settings import RequestSettings
from api.requests.store import RequestStore
from pipelines.settings import VoiceSettings

SAMPLE = {
    "request_id": "3f0c7c1e-8a52-4a3e-9d1b-0d6a2f1c9b11",
    "user_id": "9b2d4c8e-1f3a-4b5c-8d7e-6f5a4b3c2d1e",
    "title": "Zahnarzttermin buchen",
    "description": "Ich brauche einen Termin für eine Zahnreinigung",
    "callback_number": "+49 30 1234567",
    "number_to_call": "+49 30 7654321",
    "preferred_time": "nächste Woche, Montag 10-12 Uhr",
    "user_profile": {"username": "Max Mustermann", "city": "Berlin", "country": "Germany"},
}


def make_processor(
    db, clock, carrier=None, remote: bool = False, voice: VoiceSettings | None = None, **settings: Any
) -> RequestProcessor:
    values = {"scheduler_poll_s": 0.05, "outbound_retry_delay_s": 60.0, **settings}
    rs = RequestSettings(_env_file=None, **values)
    return RequestProcessor(
        rs,
        RequestStore(db, remote=remote),
        BusinessHours.from_settings(rs),
        clock=clock,
        carrier=carrier,
        voice_settings=voice,
    )


def body(**overrides: Any) -> ProcessRequestBody:
    return ProcessRequestBody.model_validate({**SAMPLE, **overrides})


async def wait_for(predicate, within: float = 10.0, interval: float = 0.05):
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def database_url(kind: str, tmp_path) -> AsyncIterator[str]:
    """A temp SQLite file, or a fresh PostgreSQL database (dropped afterwards; skips when unreachable)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/requests-{uuid.uuid4().hex[:8]}.db"
        return
    from conftest import fresh_postgres_database

    async with fresh_postgres_database("lisa_req") as url:
        yield url
