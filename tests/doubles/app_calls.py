"""A call as the app keeps it: its record over HTTP (``GET /api/calls/{sid}``) and what Lisa said in it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def call_record(server: Any, call_sid: str, ended: bool = True) -> dict[str, Any]:
    """The record of ``call_sid`` from the app at ``server.url``, once the call has ended (unless ``ended`` is
    false); polls for 10 s, every answer must be 200."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(100):
            response = await client.get(f"/api/calls/{call_sid}")
            assert response.status_code == 200, response.text
            record = response.json()
            if record["ended_at"] or not ended:
                return record
            await asyncio.sleep(0.1)
    raise AssertionError(f"call {call_sid} was never completed in storage: {record}")


def lisa_text(record: dict[str, Any]) -> str:
    """Everything Lisa said in the call ``record``, in one string."""
    return " ".join(line["text"] for line in record["transcript"] if line["speaker"] == "lisa")
