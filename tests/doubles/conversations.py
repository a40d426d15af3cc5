"""Text conversations with the engine, line by line: the other side's lines in, Lisa's replies out."""

from __future__ import annotations

from typing import Any

from agent.business import load_business
from agent.calendar import InMemoryCalendar
from agent.conversation import BookingRequest, Status
from agent.engine import Engine
from agent.rule_brain import RuleBrain


def rule_engine(clock: Any, calendar: Any = None) -> Engine:
    """The rule brain's engine on the sample business, with ``clock`` and ``calendar`` (a new in-memory one
    unless given)."""
    return Engine(
        RuleBrain(), load_business(), clock, calendar if calendar is not None else InMemoryCalendar()
    )


class Talk:
    """One conversation: ``await talk("...")`` returns Lisa's reply (all replies are kept in ``said``)."""

    def __init__(
        self, engine: Engine, mode: str = "chat", lang: str = "en", request: BookingRequest | None = None
    ) -> None:
        self.engine = engine
        self.conv = engine.new_conversation(mode, lang, request=request)
        self.said: list[str] = []

    async def open(self) -> str:
        """Lisa's opening (empty on an outbound call: she waits for the callee)."""
        return await self.engine.reply(self.conv, None)

    async def __call__(self, text: str, words: list[tuple[str, float]] | None = None) -> str:
        reply = " ".join([s async for s in self.engine.respond(self.conv, text, words)])
        self.said.append(reply)
        return reply

    @property
    def status(self) -> Status:
        return self.conv.outcome.status

    @property
    def outcome(self) -> dict[str, Any]:
        return self.conv.outcome.as_dict()


async def talk(engine: Engine, mode: str = "chat", lang: str = "en") -> Talk:
    """A conversation that Lisa has opened."""
    t = Talk(engine, mode, lang)
    await t.open()
    return t
