"""The session API of seeds 000/001 (the Flutter app): create a session, chat, read, end, list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.responses import Response

from api.auth import Principal, require_admin
from api.chat.models import (
    ChatIn,
    ChatOut,
    CreateSessionIn,
    MessageOut,
    OutcomeOut,
    SessionCreatedOut,
    SessionListOut,
    SessionOut,
    SessionSummaryOut,
    session_page_json,
)
from api.chat.service import ChatService, SessionEnded
from api.chat.store import wire_time
from api.deps import ChatDep
from api.edge.openapi_docs import MAX_OFFSET
from api.edge.plain_routes import serve_plainly
from api.edge.rate_limit import rate_limited
from api.state import app_state

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "auth is on and the bearer token is missing or invalid"},
    403: {"description": "the session belongs to another user, or the endpoint needs the service role"},
    404: {"description": "unknown session"},
    409: {"description": "the session has ended"},
    413: {"description": "message longer than MAX_MESSAGE_CHARS"},
    422: {"description": "malformed body; the detail names the field"},
    429: {"description": "rate limit reached; see Retry-After"},
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: _ERRORS[c] for c in codes}


async def _caller(request: Request) -> tuple[Principal, ChatService]:
    """The caller, counted against the rate limit, and the chat service: what ``Depends(rate_limited)`` and
    ``ChatDep`` give, without their two dependency levels (FastAPI's solving costs ~15 µs a level on the
    app's busiest routes; neither declares anything in OpenAPI). For routes without a body: with one,
    FastAPI would check it before the caller is counted."""
    return await rate_limited(request), app_state(request).chat


@router.post(
    "",
    status_code=201,
    response_model=SessionCreatedOut,
    summary="Start a chat session and get Lisa's greeting",
    responses=_responses(401, 422, 429),
)
async def create_session(
    principal: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
    body: Annotated[CreateSessionIn | None, Body()] = None,
) -> SessionCreatedOut:
    body = body or CreateSessionIn()
    session, greeting = await service.create(body.language, body.channel, body.metadata, principal)
    return SessionCreatedOut(
        session_id=session.id,
        status=session.status,
        language=session.language,
        channel=session.channel,
        greeting=greeting.content if greeting else "",
        created_at=wire_time(session.created_at),
        outcome=OutcomeOut(**session.outcome),
        messages=[MessageOut.of(greeting)] if greeting else [],
    )


@router.post(
    "/{session_id}/chat",
    response_model=ChatOut,
    summary="Send a message; Lisa's reply and the session's current outcome",
    responses=_responses(401, 403, 404, 409, 413, 422, 429),
)
async def chat(
    session_id: str,
    body: ChatIn,
    request: Request,
    principal: Annotated[Principal, Depends(rate_limited)],  # a dependency: counted before the body's 422
) -> ChatOut:
    service = app_state(request).chat
    turn = await service.send(session_id, body.message, principal, body.user_name)
    return ChatOut(
        session_id=session_id,
        reply=turn.reply.content if turn.reply else None,
        status=turn.session.status,
        taken_over=turn.session.taken_over_by is not None,
        outcome=OutcomeOut(**turn.session.outcome),
        messages=[MessageOut.of(m) for m in (turn.message, turn.reply) if m is not None],
    )


@router.get(
    "/{session_id}",
    response_model=SessionOut,
    summary="Status, history, created/last activity and outcome of a session",
    responses=_responses(401, 403, 404, 429),
)
async def get_session(session_id: str, request: Request) -> Response:
    principal, service = await _caller(request)
    session, history = await service.with_history(session_id, principal)
    # SessionOut's JSON (the response model documents it), without building the models to serialize them
    return Response(session_page_json(session, history), media_type="application/json")


async def _get_session_plainly(request: Request) -> Response:
    return await get_session(request.path_params["session_id"], request)


# the busiest read runs as a plain Starlette endpoint: FastAPI's per-request work (solving the parameters,
# running the endpoint through its handler) is a tenth of it, and it has nothing to check (the id is any
# text, the caller and the limit are _caller's); the route, its parameters and responses stay documented
serve_plainly(router, get_session, _get_session_plainly)


@router.delete(
    "/{session_id}",
    response_model=SessionSummaryOut,
    summary="End a session (its history is kept); an ended session is answered as it is (idempotent)",
    responses=_responses(401, 403, 404, 429),
)
async def end_session(session_id: str, request: Request) -> SessionSummaryOut:
    principal, service = await _caller(request)
    try:
        session = await service.end(session_id, principal)
    except SessionEnded:  # ended before (Lisa said goodbye, idle, an earlier DELETE): nothing left to do
        session = await service.get(session_id, principal)
    return SessionSummaryOut.of(session)


@router.get(
    "",
    response_model=SessionListOut,
    summary="All sessions, newest activity first (admin: service role when auth is on)",
    responses=_responses(401, 403, 429),
)
async def list_sessions(
    principal: Annotated[Principal, Depends(require_admin)],
    _limited: Annotated[Principal, Depends(rate_limited)],
    service: ChatDep,
    status: Annotated[Literal["active", "ended"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SessionListOut:
    sessions = await service.list_sessions(principal, status, limit, offset)
    return SessionListOut(
        sessions=[SessionSummaryOut.of(s) for s in sessions], count=await service.store.count(status)
    )
