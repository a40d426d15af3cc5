"""The FastAPI dependencies of the routes: the app's state and each area's services, as ``Annotated`` aliases
(``async def route(chat: ChatDep) -> ...``). The one place that reads ``app.state``.

They are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per request
for what is an attribute read."""

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


async def _settings(state: StateDep) -> ApiSettings:
    return state.settings


async def _telephony(state: StateDep) -> Telephony:
    return state.telephony


async def _calls(state: StateDep) -> Calls:
    return state.calls


async def _requests(state: StateDep) -> Requests:
    return state.requests


async def _processor(state: StateDep) -> RequestProcessor:
    return state.requests.processor


async def _chat(state: StateDep) -> ChatService:
    return state.chat


async def _team_chat(state: StateDep) -> TeamChatServices:
    return state.team_chat


SettingsDep = Annotated[ApiSettings, Depends(_settings)]
TelephonyDep = Annotated[Telephony, Depends(_telephony)]
CallsDep = Annotated[Calls, Depends(_calls)]
RequestsDep = Annotated[Requests, Depends(_requests)]
ProcessorDep = Annotated[RequestProcessor, Depends(_processor)]
ChatDep = Annotated[ChatService, Depends(_chat)]
TeamChatDep = Annotated[TeamChatServices, Depends(_team_chat)]
