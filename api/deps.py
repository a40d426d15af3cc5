"""The FastAPI dependencies of the routes: the app's state and each area's services, as ``Annotated`` aliases
(``async def route(chat: ChatDep) -> ...``). The one place that reads ``app.state``.

They are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per request
for what is an attribute read. Each reads the state itself rather than through ``StateDep``: FastAPI's
dependency solving costs ~10 µs a level, on every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from api.chat.service import ChatService
from api.requests.processor import RequestProcessor
from api.settings import ApiSettings
from api.state import AppState, Calls, Requests, Telephony, app_state
from api.team_chat.lifespan import TeamChatServices


async def _state(conn: HTTPConnection) -> AppState:
    return app_state(conn)


StateDep = Annotated[AppState, Depends(_state)]


async def _settings(conn: HTTPConnection) -> ApiSettings:
    return app_state(conn).settings


async def _telephony(conn: HTTPConnection) -> Telephony:
    return app_state(conn).telephony


async def _calls(conn: HTTPConnection) -> Calls:
    return app_state(conn).calls


async def _requests(conn: HTTPConnection) -> Requests:
    return app_state(conn).requests


async def _processor(conn: HTTPConnection) -> RequestProcessor:
    return app_state(conn).requests.processor


async def _chat(conn: HTTPConnection) -> ChatService:
    return app_state(conn).chat


async def _team_chat(conn: HTTPConnection) -> TeamChatServices:
    return app_state(conn).team_chat


SettingsDep = Annotated[ApiSettings, Depends(_settings)]
TelephonyDep = Annotated[Telephony, Depends(_telephony)]
CallsDep = Annotated[Calls, Depends(_calls)]
RequestsDep = Annotated[Requests, Depends(_requests)]
ProcessorDep = Annotated[RequestProcessor, Depends(_processor)]
ChatDep = Annotated[ChatService, Depends(_chat)]
TeamChatDep = Annotated[TeamChatServices, Depends(_team_chat)]
