"""What every turn of the rule brain (inbound and outbound) starts from: the conversation, the turn's tools,
the language, the rule state in ``conv.state["rule"]`` and the business's local now; and dates and times
said in the conversation's language, relative to that now."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from agent.brain import TurnContext
from agent.conversation import Conversation
from agent.when import say_datetime, say_day


def capital(text: str) -> str:
    """``text`` with its first letter upper-cased (the rest untouched)."""
    return text[:1].upper() + text[1:]


class RuleTurn:
    """One turn of the rule brain in a conversation."""

    def __init__(self, conv: Conversation, ctx: TurnContext) -> None:
        self.conv = conv
        self.ctx = ctx
        self.tools = ctx.tools
        self.lang = str(conv.language)
        self.st: dict[str, Any] = conv.state.setdefault("rule", {})
        self.now = ctx.business.local(ctx.clock.now())

    def spoken(self, moment: datetime) -> str:
        """A date and time as Lisa says it ("Monday, November 30 at 10:30"; the year only when not now's)."""
        return say_datetime(moment, self.lang, self.now)

    def spoken_day(self, day: date) -> str:
        """A day as Lisa says it ("Monday, November 30")."""
        return say_day(day, self.lang, self.now)
