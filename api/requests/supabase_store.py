"""The remote outcome store: Supabase's ``requests`` and ``events`` tables through the ``supabase`` client.

Only the operations the outbox delivers: upsert a request (a row the frontend created is updated, a missing
one inserted), update a request's fields, insert an event (idempotent on its id, so a retried delivery whose
first answer got lost does not duplicate it).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import httpx

from supabase import AsyncClient, AsyncClientOptions

log = logging.getLogger(__name__)


class SupabaseOutcomeStore:
    def __init__(self, url: str, service_key: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.AsyncClient(timeout=timeout_s)
        self.client = AsyncClient(url, service_key, options=AsyncClientOptions(httpx_client=self._http))

    async def deliver(self, op: str, payload: dict[str, Any]) -> None:
        """Apply one outbox entry; raises on any failure (the outbox keeps it and retries)."""
        if op == "upsert_request":
            await self.client.table("requests").upsert(payload, on_conflict="id").execute()
        elif op == "update_request":
            result = (
                await self.client.table("requests")
                .update(payload["fields"])
                .eq("id", payload["id"])
                .execute()
            )
            if not result.data:
                log.warning("request %s is missing in Supabase; update skipped", payload["id"])
        elif op == "insert_event":
            await (
                self.client.table("events")
                .upsert(payload, on_conflict="id", ignore_duplicates=True)
                .execute()
            )
        else:
            raise ValueError(f"unknown outbox operation {op!r}")

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            await self._http.aclose()
