"""The interface every brain implements (rule brain, LLM brain)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agent.clock import Clock
from agent.conversation import Conversation

if TYPE_CHECKING:
    from agent.business import BusinessProfile
    from agent.tools import Toolbox


@dataclass
class TurnContext:
    """What a brain may use while producing one reply."""

    clock: Clock
    business: BusinessProfile
    tools: Toolbox


class BrainUnavailable(Exception):
    """The brain could not produce a reply (e.g. the LLM endpoint kept failing after its retries)."""


class Brain(Protocol):
    name: str

    def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        """Stream Lisa's reply as text pieces (any size; the engine cuts them into sentences).

        ``user_text`` is None for Lisa's opening line. The brain changes the conversation only through
        ``ctx.tools``; it never writes ``conv.outcome`` itself. It raises :class:`BrainUnavailable` when it
        cannot answer, so the engine can hand the turn to the fallback brain.
        """
        ...
