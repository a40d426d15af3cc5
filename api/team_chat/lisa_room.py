"""Lisa asked into a direct or group chat (``POST /ai/ask``, ``GET /ai/suggestions``): she speaks only when
asked, answers from the chat's recent messages and the business profile in the language of the question,
flags talk of meeting or calling (``metadata.suggestMeet``) and, asked to set one up, creates the meeting
(``metadata.meetUrl``). Her answer is a message of the chat (``type: "ai"``) every member receives."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from agent import room
from agent.conversation import Message
from agent.engine import Engine
from api.chat.store import ChatMessage
from api.team_chat.accounts import TeamError
from api.team_chat.meetings import Meetings
from api.team_chat.service import TeamChatService
from api.team_chat.store import LISA_USER_ID, User, now_utc

log = logging.getLogger(__name__)

CONTEXT_MESSAGES = 20


class LisaInTheRoom:
    """Lisa's turns in team chats."""

    def __init__(self, chats: TeamChatService, engine: Engine, meetings: Meetings) -> None:
        self.chats = chats
        self.engine = engine
        self.meetings = meetings

    def _lines(self, messages: list[ChatMessage]) -> list[room.Line]:
        return [
            room.Line(m.user_id or m.sender, m.user_name or "", m.content, by_lisa=m.sender == "lisa")
            for m in messages
            if m.sender != "system"
        ]

    async def ask(self, chat_id: str, user: User, question: str) -> ChatMessage:
        chat = await self.chats.member_chat(chat_id, user)
        recent = await self.chats.store.messages(chat_id, CONTEXT_MESSAGES)
        language = room.language_of(question)
        metadata: dict[str, Any] = {}
        if room.wants_meeting_created(question):
            metadata["suggestMeet"] = True
            try:
                meeting = await self.meetings.create(user, chat.name or "Meeting")
                metadata["meetUrl"] = meeting.url
                content = room.say(language, "meet_created", url=meeting.url)
            except TeamError as exc:
                log.warning("Lisa could not create a meeting: %s", exc.detail)
                content = room.say(language, "meet_failed")
        else:
            talk = " ".join([question, *(line.text for line in self._lines(recent)[-5:] if not line.by_lisa)])
            if room.about_meeting(question) or room.about_meeting(talk):
                metadata["suggestMeet"] = True
            content = await self._answer(question, recent, language, metadata.get("suggestMeet", False))
        return await self.chats.post_lisa(chat_id, content, metadata)

    async def _answer(self, question: str, recent: list[ChatMessage], language: str, meeting: bool) -> str:
        """The engine's answer: on the rule brain a fresh chat turn (en/de) — or the meeting offer when the talk
        is of meeting; on the LLM brain the recent messages come along as context, in any language."""
        deterministic = getattr(self.engine.brain, "deterministic", False)
        if deterministic and (meeting or language not in ("en", "de")):
            return room.say(
                language, "suggest_meet" if meeting else "unsure", business=self.engine.business.name
            )
        conversation = self.engine.new_conversation("chat", language if language in ("en", "de") else "en")
        if not deterministic:
            for m in recent[-CONTEXT_MESSAGES:]:
                if m.sender == "system":
                    continue
                role = "assistant" if m.sender == "lisa" else "user"
                text = m.content if m.sender == "lisa" else f"{m.user_name or 'someone'}: {m.content}"
                conversation.history.append(Message(role, text, m.created_at, {}))
        try:
            answer = await self.engine.reply(conversation, question)
        except Exception:  # Lisa's brain failing must not fail the room
            log.exception("Lisa's answer in a team chat failed")
            answer = ""
        if not answer.strip():
            answer = room.say(language, "unsure", business=self.engine.business.name)
        if meeting and deterministic is False:
            answer = f"{answer} {room.say(language, 'suggest_meet')}"
        return answer

    async def suggestions(self, chat_id: str, user: User) -> list[ChatMessage]:
        await self.chats.member_chat(chat_id, user)
        recent = await self.chats.store.messages(chat_id, CONTEXT_MESSAGES)
        moment = now_utc()
        return [
            ChatMessage(
                session_id=chat_id,
                sender="lisa",
                content=text,
                created_at=moment,
                user_id=LISA_USER_ID,
                user_name="Lisa",
                id=str(uuid.uuid4()),
            )
            for text in room.suggestions(self._lines(recent), user.id)
        ]
