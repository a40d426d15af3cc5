"""Call records: ``GET /api/calls`` (newest first) and ``GET /api/calls/{call_sid}`` (admin when auth is on)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from api.auth import Principal, require_admin
from api.calls.store import CallStore
from api.deps import StateDep
from api.edge.openapi_docs import MAX_OFFSET, responses

router = APIRouter(prefix="/api/calls", tags=["calls"])
Admin = Annotated[Principal, Depends(require_admin)]


def _store(state: StateDep) -> CallStore:
    return CallStore(state.db)


Store = Annotated[CallStore, Depends(_store)]


@router.get("", responses=responses(401, 403))
async def list_calls(
    store: Store,
    _principal: Admin,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Recent calls with masked numbers, outcome, transcript and per-turn timing."""
    return {"calls": await store.list(limit, offset)}


@router.get("/{call_sid}", responses=responses(401, 403, described={404: "no call with this sid"}))
async def get_call(call_sid: str, store: Store, _principal: Admin) -> dict[str, Any]:
    call = await store.get(call_sid)
    if call is None:
        raise HTTPException(status_code=404, detail=f"unknown call {call_sid!r}")
    return call
