"""Outbound booking requests (seed 002): ``POST /api/process-request``, ``GET /api/requests/{id}``,
``POST /api/requests/{id}/cancel`` (the services behind them start in ``api/requests/lifespan.py``).

A bad body gets 422 naming the field(s) and nothing is stored. ``number_to_call: null`` passes validation
(the seed allows it) but cannot be called: the request is recorded as ``failed`` with an ``error`` event
(so a frontend polling Supabase sees why) and the answer is ``422 {"status": "error", ...}``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.auth import Principal, current_principal
from api.deps import ProcessorDep, RequestsDep
from api.edge import json_input
from api.edge.errors import new_error_id
from api.edge.openapi_docs import json_body, responses
from api.requests.models import FINAL_STATUSES, ProcessRequestBody, guess_language
from api.requests.processor import RequestProcessor
from api.storage.db import database_unavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["outbound requests"])
Caller = Annotated[Principal, Depends(current_principal)]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _error(status: int, request_id: Any, error: str, **extra: Any) -> JSONResponse:
    rid = request_id if isinstance(request_id, str) else None
    return JSONResponse({"status": "error", "request_id": rid, "error": error, **extra}, status_code=status)


@router.post(
    "/api/process-request",
    openapi_extra=json_body(ProcessRequestBody),
    responses=responses(
        401,
        403,
        422,
        429,
        500,
        described={409: "this request_id is already used by another user"},
    ),
)
async def process_request(request: Request, principal: Caller, requests: RequestsDep) -> JSONResponse:
    """Seed 002: accept a booking request and call the business (now, or at the next opening)."""
    try:  # the edge (api/edge/body_limit.py) checked it already; parsed the same safe way here
        raw = json_input.loads(await request.body())
    except json_input.BadJson as exc:
        return _error(422, None, str(exc), detail=exc.detail())
    if not isinstance(raw, dict):
        return _error(422, None, "body: expected a JSON object")
    try:
        body = ProcessRequestBody.model_validate(raw)
    except ValidationError as exc:
        fields = [".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()]
        detail = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        message = "; ".join(f"{f}: {e['msg']}" for f, e in zip(fields, exc.errors(), strict=True))
        return _error(422, raw.get("request_id"), message, detail=detail)
    if requests.outbox is not None:  # Supabase: ids are uuid columns there
        for name in ("request_id", "user_id"):
            if not _is_uuid(getattr(body, name)):
                return _error(422, body.request_id, f"{name}: must be a UUID (Supabase is the outcome store)")
    if principal.authenticated and not principal.is_admin and principal.user_id != body.user_id:
        return _error(403, body.request_id, "user_id does not match the signed-in user")
    language = guess_language(body.title, body.description, body.preferred_time, hint=body.language)
    processor = requests.processor
    known = await processor.store.get(body.request_id) is not None
    try:
        status, answer = await processor.submit(body, language)
    except Exception as exc:  # seed 002's error answer, and the stored request set failed
        return await _failed(processor, body.request_id, exc, stored_before=known)
    return JSONResponse(answer, status_code=status)


async def _failed(
    processor: RequestProcessor, request_id: str, exc: Exception, stored_before: bool
) -> JSONResponse:
    """An unexpected failure while taking a request: logged with an error id; a request this call stored is
    set ``failed`` with an ``error`` event (a frontend polling its row sees why); seed 002's answer."""
    error_id = new_error_id()
    if database_unavailable(exc):  # nothing can be stored or marked now: the caller tries again later
        log.warning(
            "error %s: request %s: database unavailable (%s)", error_id, request_id, type(exc).__name__
        )
        return _error(503, request_id, f"database unavailable (error id {error_id})", error_id=error_id)
    log.error("error %s: request %s failed: %s", error_id, request_id, type(exc).__name__, exc_info=exc)
    message = f"internal error (error id {error_id})"
    if not stored_before:
        try:
            row = await processor.store.get(request_id)
            if row is not None and row["status"] not in FINAL_STATUSES:
                await processor.store.update(
                    request_id,
                    {"status": "failed", "last_error": message},
                    [("error", message)],
                    unless_status=FINAL_STATUSES,
                )
                await processor.store.cancel_jobs(request_id)
                processor._changed()  # the outbox (Supabase) learns of it too
        except Exception:  # the answer below still goes out
            log.exception("error %s: could not mark request %s failed", error_id, request_id)
    return _error(500, request_id, message, error_id=error_id)


class RequestRefused(Exception):
    """A request route cannot answer this caller (``status_code``: 403 or 404); answered by
    :func:`request_refused` as ``{"detail": ...}``."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


async def request_refused(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler of :class:`RequestRefused` (registered by the app)."""
    assert isinstance(exc, RequestRefused)  # registered for RequestRefused only
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _owned(processor: RequestProcessor, request_id: str, principal: Principal) -> None:
    """Raises :class:`RequestRefused` unless ``request_id`` exists and ``principal`` may see it."""
    row = await processor.store.get(request_id)
    if row is None:
        raise RequestRefused(404, f"unknown request {request_id}")
    if not principal.may_access(row["user_id"]):
        raise RequestRefused(403, "this request belongs to another user")


@router.get("/api/requests", responses=responses(401, 403))
async def list_requests(
    processor: ProcessorDep,
    principal: Caller,
    user_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JSONResponse:
    """The newest requests (status, summary, appointment) of the signed-in user; the service role (or
    anyone with auth off) may list all or filter by ``user_id``."""
    if not principal.is_admin:
        if user_id not in (None, principal.user_id):
            raise RequestRefused(403, "you may only list your own requests")
        user_id = principal.user_id
    rows = await processor.store.newest(user_id, limit)
    keys = (
        "id",
        "user_id",
        "title",
        "status",
        "summary",
        "appointment",
        "attempts",
        "created_at",
        "updated_at",
    )
    return JSONResponse({"requests": [{k: r[k] for k in keys} for r in rows]})


@router.get("/api/requests/{request_id}", responses=responses(401, 403, 404))
async def get_request(request_id: str, processor: ProcessorDep, principal: Caller) -> JSONResponse:
    """Status, events, summary and appointment of a request (for clients that do not read Supabase)."""
    await _owned(processor, request_id, principal)
    return JSONResponse(await processor.describe(request_id))


@router.post("/api/requests/{request_id}/cancel", responses=responses(401, 403, 404))
async def cancel_request(request_id: str, processor: ProcessorDep, principal: Caller) -> JSONResponse:
    """Cancel a request: no further calls; a call in progress is ended."""
    await _owned(processor, request_id, principal)
    status, answer = await processor.cancel(request_id)
    return JSONResponse(answer, status_code=status)
