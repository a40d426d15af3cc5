"""Brains that misbehave on purpose, for the engine's safety nets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any


class CrashingBrain:
    """A brain with a bug: raises ``error`` (something other than ``BrainUnavailable``) on a party turn whose text
    contains ``trigger`` (every party turn by default), says ``says`` otherwise."""

    name = "crashing"

    def __init__(
        self, trigger: str = "", says: str = "Hello, this is Lisa.", error: type[Exception] = KeyError
    ) -> None:
        self.trigger = trigger
        self.says = says
        self.error = error

    async def reply(self, conv: Any, user_text: str | None, ctx: Any) -> AsyncIterator[str]:
        if user_text is not None and self.trigger in user_text:
            raise self.error("bug in the brain")
        yield self.says
