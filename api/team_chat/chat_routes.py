"""Seed 004's chats and groups: ``GET /chats``, ``POST /chats`` (a direct chat), ``GET|POST
/chats/{chatId}/messages``, ``POST /groups``, ``POST /groups/join``. Members only: an unknown chat is 404,
another's 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.deps import TeamChatDep
from api.edge.openapi_docs import responses
from api.team_chat.caller import Account, client_of
from api.team_chat.models import (
    ID_PATTERN,
    ChatCreatedOut,
    ChatsOut,
    DirectChatIn,
    GroupIn,
    GroupOut,
    JoinIn,
    MessagesOut,
    OneMessageOut,
    PostMessageIn,
    TeamChatOut,
    TeamMessageOut,
)
from api.team_chat.service import MAX_PAGE
from api.team_chat.store import TeamChat, User

router = APIRouter(tags=["team chat: chats and groups (seed 004)"])
ChatId = Annotated[str, Path(pattern=ID_PATTERN, description="the chat's id")]
MEMBERS_ONLY = {403: "you are not a member of this chat", 404: "no chat with this id"}


async def _out(team: TeamChatDep, chat: TeamChat, user: User) -> TeamChatOut:
    names = await team.chats.display_names([chat], user)
    return TeamChatOut.of(chat, names[chat.id])


@router.get(
    "/chats",
    response_model=ChatsOut,
    summary="The caller's chats, newest activity first",
    responses=responses(401),
)
async def list_chats(user: Account, team: TeamChatDep) -> ChatsOut:
    chats = await team.chats.chats_of(user)
    names = await team.chats.display_names(chats, user)
    return ChatsOut(chats=[TeamChatOut.of(c, names[c.id]) for c in chats])


@router.post(
    "/chats",
    response_model=ChatCreatedOut,
    summary="Open the direct chat with another user (the same chat every time, for either of the two)",
    responses=responses(401, 422, described={404: "no user with this id"}),
)
async def open_direct(body: DirectChatIn, user: Account, team: TeamChatDep) -> ChatCreatedOut:
    chat = await team.chats.direct(user, body.participantId)
    return ChatCreatedOut(chat=await _out(team, chat, user))


@router.get(
    "/chats/{chat_id}/messages",
    response_model=MessagesOut,
    summary="Messages of a chat, oldest first: the last `limit`, or the `limit` before message `before`",
    responses=responses(401, 422, described=MEMBERS_ONLY),
)
async def list_messages(
    chat_id: ChatId,
    user: Account,
    team: TeamChatDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="how many (at most 500)")] = 100,
    before: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="a message id: the page before it (paging back)")
    ] = None,
) -> MessagesOut:
    page, has_more = await team.chats.messages(chat_id, user, limit, before)
    return MessagesOut(messages=[TeamMessageOut.of(m) for m in page], hasMore=has_more)


@router.post(
    "/chats/{chat_id}/messages",
    response_model=OneMessageOut,
    summary="Post a message; every connected member gets it on /ws/chat/{chatId}",
    responses=responses(401, 422, 429, described=MEMBERS_ONLY),
)
async def post_message(
    chat_id: ChatId, body: PostMessageIn, user: Account, team: TeamChatDep
) -> OneMessageOut:
    message = await team.chats.post(chat_id, user, body.content)
    return OneMessageOut(message=TeamMessageOut.of(message))


@router.post(
    "/groups",
    response_model=GroupOut,
    summary="Create a group with the caller and the given users; it gets an invite code",
    responses=responses(401, 422),
)
async def create_group(body: GroupIn, user: Account, team: TeamChatDep) -> GroupOut:
    chat = await team.chats.create_group(user, body.name, body.participantIds)
    return GroupOut(group=TeamChatOut.of(chat))


@router.post(
    "/groups/join",
    response_model=GroupOut,
    summary="Join a group by its invite code (joining again is harmless)",
    responses=responses(
        401, 422, 429, described={404: "no group with this invite code", 409: "the group is full"}
    ),
)
async def join_group(body: JoinIn, request: Request, user: Account, team: TeamChatDep) -> GroupOut:
    chat = await team.chats.join(user, body.inviteCode, client_of(request))
    return GroupOut(group=TeamChatOut.of(chat))
