"""Seed 004's AI and meeting endpoints: ``POST /ai/ask``, ``GET /ai/suggestions``, ``POST /google/meet/create``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import TeamChatDep
from api.edge.openapi_docs import responses
from api.team_chat.caller import Account
from api.team_chat.models import (
    ID_PATTERN,
    AskIn,
    MeetIn,
    MeetOut,
    OneMessageOut,
    SuggestionsOut,
    TeamMessageOut,
)

router = APIRouter(tags=["team chat: Lisa and meetings (seed 004)"])
MEMBERS_ONLY = {403: "you are not a member of this chat", 404: "no chat with this id"}


@router.post(
    "/ai/ask",
    response_model=OneMessageOut,
    summary="Ask Lisa in a chat: her answer (type ai) is posted there for every member",
    responses=responses(401, 422, described=MEMBERS_ONLY),
)
async def ask(body: AskIn, user: Account, team: TeamChatDep) -> OneMessageOut:
    message = await team.lisa.ask(body.chatId, user, body.question)
    return OneMessageOut(message=TeamMessageOut.of(message))


@router.get(
    "/ai/suggestions",
    response_model=SuggestionsOut,
    summary="1–3 short suggestions for what to write or do next in a chat (not posted)",
    responses=responses(401, 422, described=MEMBERS_ONLY),
)
async def suggestions(
    chat_id: Annotated[str, Query(alias="chatId", pattern=ID_PATTERN, description="the chat")],
    user: Account,
    team: TeamChatDep,
) -> SuggestionsOut:
    found = await team.lisa.suggestions(chat_id, user)
    return SuggestionsOut(suggestions=[TeamMessageOut.of(m) for m in found])


@router.post(
    "/google/meet/create",
    response_model=MeetOut,
    summary="Create a meeting: Google Meet with the caller's Google token, else a Jitsi Meet room",
    responses=responses(
        401,
        422,
        described={502: "Google could not be reached or created no conference", **MEMBERS_ONLY},
    ),
)
async def create_meet(user: Account, team: TeamChatDep, body: MeetIn | None = None) -> MeetOut:
    body = body or MeetIn()
    if body.chatId is not None:
        chat = await team.chats.member_chat(body.chatId, user)
        title = body.title or chat.name or "Meeting"
    else:
        title = body.title or "Meeting"
    meeting = await team.meetings.create(user, title)
    if body.chatId is not None:
        await team.chats.post_lisa(body.chatId, meeting.url, {"meetUrl": meeting.url})
    return MeetOut(meetUrl=meeting.url, provider=meeting.provider)
