"""Direct and group chats between team chat users: who is in which chat, messages with paging, and fan-out of
every new message to the connected members through the chat hub (across workers by its relay)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from api.chat.hub import ChatHub
from api.chat.store import ChatMessage
from api.team_chat.accounts import Attempts, TeamError
from api.team_chat.models import INVITE_ALPHABET, INVITE_LENGTH
from api.team_chat.settings import TeamChatSettings
from api.team_chat.store import LISA_USER_ID, Duplicate, TeamChat, TeamStore, User, now_utc

log = logging.getLogger(__name__)

LISA_NAME = "Lisa"
MAX_PAGE = 500


def new_invite_code() -> str:
    """8 characters of 31 unambiguous ones: about 8.5e11 codes, against rate-limited guessing."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def direct_key(a: str, b: str) -> str:
    return "|".join(sorted((a, b)))


class TeamChatService:
    """Chats, groups and messages of the team chat."""

    def __init__(
        self, store: TeamStore, hub: ChatHub, settings: TeamChatSettings, attempts: Attempts
    ) -> None:
        self.store = store
        self.hub = hub
        self.settings = settings
        self.attempts = attempts

    # --- who may see what ------------------------------------------------------------------------------------
    async def member_chat(self, chat_id: str, user: User) -> TeamChat:
        """The chat, when ``user`` is in it: 404 for an unknown chat, 403 for one of others."""
        chat = await self.store.chat(chat_id)
        if chat is None:
            raise TeamError(404, "no chat with this id")
        if user.id not in chat.participant_ids:
            raise TeamError(403, "you are not a member of this chat")
        return chat

    async def display_names(self, chats: list[TeamChat], viewer: User) -> dict[str, str]:
        """What each chat is called for ``viewer``: a group its name, a direct chat the other person's."""
        others = {
            c.id: next((p for p in c.participant_ids if p != viewer.id), viewer.id)
            for c in chats
            if c.kind == "direct"
        }
        users = await self.store.users(list(others.values()))
        names: dict[str, str] = {}
        for chat in chats:
            other = users.get(others.get(chat.id, ""))
            names[chat.id] = other.display_name if other else chat.name
        return names

    # --- chats and groups -------------------------------------------------------------------------------
    async def chats_of(self, user: User) -> list[TeamChat]:
        return await self.store.chats_of(user.id)

    async def direct(self, user: User, other_id: str) -> TeamChat:
        """The direct chat of two users, made on first use (the same chat for either of them asking)."""
        if other_id == user.id:
            raise TeamError(422, "participantId: a direct chat needs another user")
        other = await self.store.user(other_id)
        if other is None or other_id == LISA_USER_ID:
            raise TeamError(404, "participantId: no user with this id")
        key = direct_key(user.id, other_id)
        found = await self.store.chat_by_direct_key(key)
        if found is not None:
            return found
        try:
            return await self.store.create_chat("direct", "", user.id, [other_id], direct_key=key)
        except Duplicate:  # both asked at the same moment
            found = await self.store.chat_by_direct_key(key)
            assert found is not None
            return found

    async def create_group(self, user: User, name: str, participant_ids: list[str]) -> TeamChat:
        members = [p for p in participant_ids if p != user.id]
        if len(members) + 1 > self.settings.team_max_group_members:
            raise TeamError(
                422, f"participantIds: a group has at most {self.settings.team_max_group_members} members"
            )
        known = await self.store.users(members)
        unknown = [p for p in members if p not in known]
        if unknown:
            raise TeamError(422, f"participantIds: no users with the ids {', '.join(unknown[:5])}")
        for _ in range(5):
            try:
                chat = await self.store.create_chat(
                    "group", name, user.id, members, invite_code=new_invite_code()
                )
                break
            except Duplicate:  # an invite code taken already: draw again
                continue
        else:
            raise TeamError(503, "no free invite code could be drawn; try again")
        await self.system_note(chat, f"{user.display_name} created the group “{name}”.")
        return chat

    async def join(self, user: User, invite_code: str, client: str | None) -> TeamChat:
        """Join a group by its invite code; joining again is harmless (no second note)."""
        await self.attempts.take("join", invite_code, client)
        await self.attempts.take("join", f"user:{user.id}", None)
        chat = await self.store.chat_by_invite(invite_code)
        if chat is None:
            raise TeamError(404, "inviteCode: no group with this invite code")
        if (
            len(chat.participant_ids) >= self.settings.team_max_group_members
            and user.id not in chat.participant_ids
        ):
            raise TeamError(409, "this group is full")
        if await self.store.add_member(chat.id, user.id):
            chat.participant_ids.append(user.id)
            await self.system_note(chat, f"{user.display_name} joined the group.")
        return chat

    # --- messages -----------------------------------------------------------------------------------------
    async def messages(
        self, chat_id: str, user: User, limit: int, before: str | None
    ) -> tuple[list[ChatMessage], bool]:
        """A page of messages, oldest first, and whether older ones exist."""
        await self.member_chat(chat_id, user)
        before_seq = None
        if before is not None:
            anchor = await self.store.message(chat_id, before)
            if anchor is None:
                raise TeamError(422, "before: no message with this id in this chat")
            before_seq = anchor.seq
        page = await self.store.messages(chat_id, limit + 1, before_seq)
        has_more = len(page) > limit
        return page[-limit:] if has_more else page, has_more

    async def post(self, chat_id: str, user: User, content: str, member: bool = False) -> ChatMessage:
        """A member's message: stored, then sent to every connected member. ``member``: the caller's membership
        was checked already (a socket checks it once, when it opens; members are never removed)."""
        if len(content) > self.settings.team_max_message_chars:
            raise TeamError(422, f"content: at most {self.settings.team_max_message_chars} characters")
        if not content.strip():
            raise TeamError(422, "content: a message needs some text")
        if not member:
            await self.member_chat(chat_id, user)
        message = ChatMessage(
            session_id=chat_id,
            sender="user",
            content=content,
            created_at=now_utc(),
            user_id=user.id,
            user_name=user.display_name,
        )
        return await self.publish(message)

    async def post_lisa(
        self, chat_id: str, content: str, metadata: dict[str, Any] | None = None
    ) -> ChatMessage:
        message = ChatMessage(
            session_id=chat_id,
            sender="lisa",
            content=content,
            created_at=now_utc(),
            user_id=LISA_USER_ID,
            user_name=LISA_NAME,
            metadata=metadata or {},
        )
        return await self.publish(message)

    async def system_note(self, chat: TeamChat, content: str) -> ChatMessage:
        message = ChatMessage(
            session_id=chat.id,
            sender="system",
            content=content,
            created_at=now_utc(),
            user_id="system",
            user_name="",
        )
        return await self.publish(message)

    async def publish(self, message: ChatMessage) -> ChatMessage:
        stored = await self.store.add_message(message)
        self.hub.to_chat(message.session_id, stored.as_wire())
        return stored
