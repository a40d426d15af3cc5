"""The operator console: the page at ``/console``, its static files, its JSON API and its live stream.

``/console/api/session``: ``GET`` who is signed in (with auth off a session opens by itself), ``POST``
``{"token": …}`` signs in with a service-role token (or a team-chat operator's token) and sets the session
cookie, ``DELETE`` signs out. Every other ``/console/api`` route needs the session cookie; those that change
something also the CSRF token (``X-CSRF-Token``). ``GET /console/api/events`` is the live stream (server-sent
events, one JSON object per event: ``kind`` = counters | call | call_status | call_event | call_live |
request | chat | resync).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

import jwt
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from api.auth import SERVICE_ROLE, AuthError, verify_token
from api.console import request_stream_routes
from api.console.lifespan import ConsoleServices, console_services
from api.console.service import ActionError, ConsoleService
from api.console.sessions import (
    ANONYMOUS_OPERATOR,
    COOKIE,
    COOKIE_PATH,
    OPERATOR_ROLES,
    Operator,
    bearer_operator,
    current_operator,
    operator_for_write,
)
from api.edge import json_input
from api.edge.openapi_docs import json_body, responses
from api.edge.rate_limit import limiter_of
from api.state import app_state

pages = APIRouter(
    prefix="/console",
    tags=["console"],
    responses=responses(
        described={
            401: "not signed in to the console (or, signing in: a bad token or password)",
            403: "a write without the session's CSRF token or from another origin; a sign-in that is no operator",
            404: "unknown call, request, chat or file",
            409: "the action does not fit now (the call ended, outside business hours, not failed…)",
            429: "too many sign-in attempts",
        }
    ),
)
Reader = Annotated[Operator, Depends(current_operator)]
Writer = Annotated[Operator, Depends(operator_for_write)]
STATIC = {"console.js": "text/javascript", "console.css": "text/css", "icon.svg": "image/svg+xml"}
KEEP_ALIVE_S = 15.0
SVG_CSP = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}  # opened on its own
BodyModel = TypeVar("BodyModel", bound=BaseModel)
RequestStatus = Literal[
    "queued",
    "outside_business_hours",
    "calling",
    "in_progress",
    "waiting_for_callback",
    "booked",
    "failed",
    "canceled",
]  # seed 002's statuses (api.requests.models.STATUSES)


def services(request: Request) -> ConsoleServices:
    return console_services(request)


def console(request: Request) -> ConsoleService:
    return services(request).service


Service = Annotated[ConsoleService, Depends(console)]


def _fail(exc: ActionError) -> HTTPException:
    return HTTPException(exc.status, detail=exc.detail)


# --- the page ----------------------------------------------------------------------------------------
def _static(name: str) -> bytes:
    return resources.files("api.console").joinpath("static", name).read_bytes()


@pages.get("", response_class=HTMLResponse, include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(_static("index.html"), headers={"Cache-Control": "no-store"})


@pages.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, detail=f"no console file {name!r}")
    return Response(_static(name), media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


# --- session -----------------------------------------------------------------------------------------
class SignInIn(BaseModel):
    """Either ``token`` (a service-role JWT, or a team-chat operator's access token) or ``email`` and
    ``password`` of a team-chat account with the operator role."""

    token: str | None = Field(None, min_length=1, max_length=8192)
    email: str | None = Field(None, min_length=3, max_length=320)
    password: str | None = Field(None, max_length=1024)


def _session_body(request: Request, operator: Operator) -> dict[str, Any]:
    state = app_state(request)
    service = console(request)
    return {
        "operator": operator.name,
        "role": operator.role,
        "auth": "on" if state.settings.auth_enabled else "off",
        "csrf": operator.csrf,
        "expires_at": operator.expires_at,
        "timezone": state.agent_settings.lisa_timezone,
        "business": getattr(getattr(state.engine, "business", None), "name", "") or "",
        "can_transfer": bool(service.transfer_number()),
        "recordings": bool(service.settings.lisa_recording_dir),
        "demo_calls": service.can_place_demo_call,
    }


def _with_cookie(request: Request, body: dict[str, Any], token: str) -> JSONResponse:
    response = JSONResponse(body)
    settings = app_state(request).settings
    secure = request.url.scheme == "https" or (settings.public_url or "").startswith("https://")
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(console(request).settings.console_session_hours * 3600),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


async def _open(request: Request, name: str, role: str) -> JSONResponse:
    token, operator = await services(request).sessions.create(name, role)
    return _with_cookie(request, _session_body(request, operator), token)


@pages.get("/api/session", summary="Who is signed in to the console (with auth off: opens a session)")
async def session(request: Request) -> Response:
    operator = await services(request).sessions.lookup(request.cookies.get(COOKIE))
    if operator is not None:
        return JSONResponse(_session_body(request, operator))
    if not app_state(request).settings.auth_enabled:
        return await _open(request, ANONYMOUS_OPERATOR, "anonymous")
    if request.headers.get("authorization"):  # a script: who its token is, no session
        return JSONResponse(_session_body(request, await bearer_operator(request)))
    return JSONResponse({"detail": "not signed in to the console", "auth": "on"}, status_code=401)


async def _role_of(request: Request, token: str) -> tuple[str, str]:
    """(operator name, role) of a token the console accepts; 401 for a bad token, 403 for a mere user."""
    settings = app_state(request).settings
    try:
        principal = await verify_token(settings, token)
    except AuthError as exc:
        raise HTTPException(401, detail=f"sign-in refused: {exc}") from exc
    if principal.role == SERVICE_ROLE:
        return principal.user_id or "Manager", SERVICE_ROLE
    claims = jwt.decode(token, options={"verify_signature": False})  # verified just above
    lisa_role = str(claims.get("lisa_role") or "")
    if lisa_role in OPERATOR_ROLES:
        return str(claims.get("name") or principal.user_id or "Operator"), lisa_role
    raise HTTPException(
        403, detail="sign-in refused: the console needs the service role or an operator account"
    )


async def _account(request: Request, email: str, password: str) -> tuple[str, str]:
    """(name, role) of a team-chat operator account; 401 for a wrong email or password, 403 for a member."""
    from api.team_chat.accounts import TeamError

    client = request.client.host if request.client else None
    try:
        signed_in = await app_state(request).team_chat.accounts.login_password(email, password, client)
    except TeamError as exc:
        raise HTTPException(exc.status_code, detail=f"sign-in refused: {exc.detail}") from exc
    user = signed_in.user
    if user.role not in OPERATOR_ROLES:
        raise HTTPException(403, detail="sign-in refused: this account is not an operator")
    return user.display_name, user.role


async def _body(request: Request, model: type[BodyModel]) -> BodyModel:
    """The JSON body as ``model``, read after the caller was checked (a stranger gets 401, not 422)."""
    try:
        raw = json_input.loads(await request.body() or b"{}")
        return model.model_validate(raw)
    except json_input.BadJson as exc:
        raise RequestValidationError(exc.detail()) from exc
    except ValidationError as exc:
        raise RequestValidationError(
            [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        ) from exc


@pages.post(
    "/api/session",
    summary="Sign in: exchange a token (or an operator's password) for a session cookie",
    # no bearer token needed: the credentials come in the body (a 401 here is about them)
    openapi_extra={**json_body(SignInIn, required=False), "security": []},
)
async def sign_in(request: Request) -> JSONResponse:
    client = request.client.host if request.client else "unknown"
    wait = await limiter_of(request).take(f"console-sign-in:{client}")
    if wait:
        raise HTTPException(429, detail="too many sign-in attempts; retry later")
    if not app_state(request).settings.auth_enabled:
        return await _open(request, ANONYMOUS_OPERATOR, "anonymous")
    if request.headers.get("authorization"):  # the token in the header instead of the body
        operator = await bearer_operator(request)
        return await _open(request, operator.name, operator.role)
    body = await _body(request, SignInIn)
    if body.token:
        name, role = await _role_of(request, body.token.strip())
    elif body.email:
        name, role = await _account(request, body.email.strip(), body.password or "")
    else:
        raise HTTPException(401, detail="sign-in refused: give a token, or email and password")
    return await _open(request, name, role)


@pages.delete("/api/session", summary="Sign out (ends the session everywhere)")
async def sign_out(request: Request, _operator: Writer) -> JSONResponse:
    await services(request).sessions.revoke(request.cookies.get(COOKIE))
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


# --- live ----------------------------------------------------------------------------------------------
def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, default=str, separators=(',', ':'))}\n\n"


@pages.get("/api/events", summary="The live stream (server-sent events)", include_in_schema=False)
async def events(request: Request, operator: Reader, service: Service) -> StreamingResponse:
    bus = services(request).bus
    sessions = services(request).sessions
    token = request.cookies.get(COOKIE)

    async def stream() -> AsyncIterator[str]:
        queue = bus.subscribe()
        try:
            yield "retry: 2000\n\n"
            yield _sse({"kind": "counters", "counters": await service.counters()})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    if await sessions.lookup(token) is None:  # signed out (maybe in another tab)
                        yield _sse({"kind": "signed_out"})
                        return
                    yield ": keep-alive\n\n"
                    continue
                if event.get("kind") == "bye":
                    return
                yield _sse(event)
        finally:
            bus.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@pages.get(
    "/api/counters", summary="Calls in progress, chats active, requests waiting/calling, bookings today"
)
async def counters(_operator: Reader, service: Service) -> dict[str, int]:
    return await service.counters()


# --- calls -----------------------------------------------------------------------------------------------
@pages.get("/api/calls", summary="Recent calls, newest first (numbers masked)")
async def calls(
    _operator: Reader, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    return {"calls": await service.call_list(limit)}


@pages.get("/api/calls/{call_sid}", summary="One call: live transcript while it runs, then the record")
async def call(call_sid: str, _operator: Reader, service: Service) -> dict[str, Any]:
    try:
        return await service.call_detail(call_sid)
    except ActionError as exc:
        raise _fail(exc) from exc


@pages.get("/api/calls/{call_sid}/recording", summary="The call's stereo recording (LISA_RECORDING_DIR)")
async def recording(call_sid: str, _operator: Reader, service: Service) -> FileResponse:
    try:
        path = await service.recording_of(call_sid)
    except ActionError as exc:
        raise _fail(exc) from exc
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-store"})


@pages.get(
    "/api/calls/{call_sid}/timeline.svg",
    summary="The call's per-turn latency chart (SVG drawn with matplotlib)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "one stacked bar per turn"}},
)
async def latency_timeline(call_sid: str, _operator: Reader, service: Service) -> Response:
    try:
        svg = await service.latency_svg(call_sid)
    except ActionError as exc:
        raise _fail(exc) from exc
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store", **SVG_CSP})


@pages.post("/api/calls/{call_sid}/{action}", summary="hang-up | transfer (to the business's number)")
async def call_action(
    call_sid: str, action: Literal["hang-up", "transfer"], _operator: Writer, service: Service
) -> dict[str, Any]:
    try:
        if action == "hang-up":
            return await service.hang_up(call_sid)
        return await service.transfer(call_sid)
    except ActionError as exc:
        raise _fail(exc) from exc


@pages.post("/api/demo-call", summary="Place the demo's outbound call (loopback carrier only)")
async def demo_call(_operator: Writer, service: Service) -> dict[str, Any]:
    try:
        return await service.demo_call()
    except ActionError as exc:
        raise _fail(exc) from exc


# --- requests ----------------------------------------------------------------------------------------------
@pages.get("/api/requests", summary="Outbound requests, newest first; filter by status and day")
async def requests(
    _operator: Reader,
    service: Service,
    status: Annotated[RequestStatus | None, Query()] = None,
    day: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    try:
        return {"requests": await service.request_list(status or None, day, limit)}
    except ActionError as exc:
        raise _fail(exc) from exc


@pages.get("/api/requests/{request_id}", summary="One request: events, call attempts, summary, next call")
async def request_detail(request_id: str, _operator: Reader, service: Service) -> dict[str, Any]:
    try:
        return await service.request_detail(request_id)
    except ActionError as exc:
        raise _fail(exc) from exc


@pages.post("/api/requests/{request_id}/{action}", summary="cancel | call-now | retry")
async def request_action(
    request_id: str, action: Literal["cancel", "call-now", "retry"], _operator: Writer, service: Service
) -> dict[str, Any]:
    try:
        if action == "cancel":
            return await service.cancel_request(request_id)
        if action == "call-now":
            return await service.call_now(request_id)
        return await service.retry(request_id)
    except ActionError as exc:
        raise _fail(exc) from exc


# --- chats ---------------------------------------------------------------------------------------------
def _chat(request: Request) -> Any:
    return services(request).chat


class ChatSendIn(BaseModel):
    content: str = Field(min_length=1, max_length=20_000)


@pages.get("/api/chats", summary="Chats, newest activity first")
async def chats(
    request: Request,
    _operator: Reader,
    status: Annotated[str | None, Query(pattern="^(active|ended)$")] = None,
) -> dict[str, Any]:
    from api.chat.manager_routes import chat_list

    return (await chat_list(_chat(request), status)).model_dump()


@pages.get("/api/chats/{chat_id}/messages", summary="A chat's messages (seed 004 shape)")
async def chat_messages(chat_id: str, request: Request, _operator: Reader) -> dict[str, Any]:
    from api.chat.models import MessageOut
    from api.chat.service import ChatError

    service = _chat(request)
    try:
        session = await service.get(chat_id)
        messages = await service.history(chat_id)
    except ChatError as exc:
        raise HTTPException(exc.status_code, detail=exc.detail) from exc
    return {
        "chat_id": chat_id,
        "status": "active" if session.active else "ended",
        "taken_over_by": session.taken_over_by,
        "messages": [MessageOut.of(m).model_dump() for m in messages],
    }


async def _chat_act(
    request: Request, chat_id: str, operator: Operator, action: str, content: str = ""
) -> Any:
    from api.chat.service import ChatError

    service = _chat(request)
    name = "Manager" if operator.role in ("anonymous", SERVICE_ROLE) else operator.name
    try:
        if action == "send":
            turn = await service.manager_send(chat_id, content, name)
            return {"chat_id": chat_id, "sent": True, "taken_over_by": turn.session.taken_over_by}
        if action == "takeover":
            session = await service.takeover(chat_id, name)
        else:
            session = await service.release(chat_id)
    except ChatError as exc:
        raise HTTPException(exc.status_code if exc.status_code != 400 else 422, detail=exc.detail) from exc
    return {"chat_id": chat_id, "taken_over_by": session.taken_over_by}


@pages.post(
    "/api/chats/{chat_id}/send",
    summary="Write into a chat as the manager (takes it over)",
    openapi_extra=json_body(ChatSendIn),
)
async def chat_send(chat_id: str, request: Request, operator: Writer) -> Any:
    body = await _body(request, ChatSendIn)
    return await _chat_act(request, chat_id, operator, "send", body.content)


@pages.post("/api/chats/{chat_id}/{action}", summary="takeover | release")
async def chat_action(
    chat_id: str, action: Literal["takeover", "release"], request: Request, operator: Writer
) -> Any:
    return await _chat_act(request, chat_id, operator, action)


@pages.get("/api/groups", summary="The team chat's groups (read-only), when the team chat is installed")
async def groups(request: Request, _operator: Reader) -> dict[str, Any]:
    listed = await app_state(request).team_chat.store.groups()
    return {
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "members": len(g.participant_ids),
                "last_activity": g.last_activity.isoformat(),
                "last_message": g.last_message.content if g.last_message else None,
            }
            for g in listed
        ],
        "available": True,
    }


# --- bookings --------------------------------------------------------------------------------------------
@pages.get("/api/bookings", summary="What Lisa booked: one day or a week from ``day`` (business timezone)")
async def bookings(
    _operator: Reader,
    service: Service,
    day: date | None = None,
    days: Annotated[int, Query(ge=1, le=31)] = 1,
) -> dict[str, Any]:
    first = day or service.today()
    return {"day": first.isoformat(), "days": days, "bookings": await service.bookings(first, days)}


# what create_app includes: the console, and the request stream it serves for the requests area
router = APIRouter()
router.include_router(pages)
router.include_router(request_stream_routes.router)
