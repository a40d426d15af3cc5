"""``GET /api/requests/{id}/events``: one outbound request's progress as server-sent events, for the request's
owner (or the service role), so a frontend can follow a request without Supabase (seed 002's Next.js app on
the embedded default).

Each event is ``event: request`` with the resource of ``GET /api/requests/{id}`` (status, events,
``next_attempt_at``…) as its data: first as it is, then after every change; the stream ends after a final
status (booked, failed, canceled). Changes come from the console's live bus, so with several workers on
PostgreSQL a change made by another worker arrives too; a comment line every 15 s keeps proxies from closing
an idle stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse

from api.auth import Principal, current_principal
from api.console.lifespan import console_services
from api.edge.openapi_docs import responses
from api.requests.models import FINAL_STATUSES

router = APIRouter(tags=["outbound requests (seed 002)"])
KEEP_ALIVE_S = 15.0


def _event(resource: dict[str, Any]) -> str:
    return f"event: request\ndata: {json.dumps(resource, default=str, separators=(',', ':'))}\n\n"


@router.get(
    "/api/requests/{request_id}/events",
    summary="Follow one request live (server-sent events until its status is final)",
    responses=responses(401, 403, described={404: "unknown request"}),
    response_class=StreamingResponse,
    include_in_schema=False,  # a stream that lasts until the request is final: no schema fuzzer can take it
)
async def request_events(
    request_id: str, request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> StreamingResponse:
    services = console_services(request)
    processor = services.service.processor
    row = await processor.store.get(request_id)
    if row is None:
        raise HTTPException(404, detail=f"unknown request {request_id}")
    if not principal.may_access(row["user_id"]):
        raise HTTPException(403, detail="this request belongs to another user")
    bus = services.bus
    queue = bus.subscribe()  # before the first read: no change slips in between

    async def stream() -> AsyncIterator[str]:
        try:
            last = await processor.describe(request_id)
            yield "retry: 2000\n\n" + _event(last)
            while last is not None and last["status"] not in FINAL_STATUSES:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event.get("kind") == "bye":
                    return
                if event.get("kind") == "resync" or (
                    event.get("kind") == "request" and event.get("request_id") == request_id
                ):
                    now = await processor.describe(request_id)
                    if now is not None and now != last:
                        last = now
                        yield _event(now)
        finally:
            bus.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
