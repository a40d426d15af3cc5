"""How a phone call tells the rest of the app what happens in it (used by outbound booking requests).

The media-stream route creates a :class:`CallInfo` when Twilio's ``start`` arrives and calls every hook
in its :class:`~pipelines.call_deps.CallDeps` (``hooks``). Hooks must not raise; failures are logged.
The call's record goes to ``CallDeps.call_records`` (a :class:`CallRecords`, e.g. the app's
database-backed ``api.calls.store.CallStore``), so the pipeline never imports the app's storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.conversation import Conversation, ConversationEvent


@dataclass
class CallInfo:
    call_sid: str
    stream_sid: str
    direction: str  # "inbound" | "outbound"
    parameters: dict[str, str] = field(default_factory=dict)  # Twilio <Parameter>s (request_id, ...)

    @property
    def request_id(self) -> str | None:
        return self.parameters.get("request_id") or None


@dataclass
class CallResult:
    conversation: Conversation
    ended_by: str  # "lisa" | "party" | "system"
    reason: str = ""  # e.g. "completed", "max_duration", "idle", "error: ..."
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {speaker, text, start_ms, end_ms}


class CallHooks(Protocol):
    async def on_call_started(self, call: CallInfo, conversation: Conversation) -> None: ...

    async def on_conversation_event(self, call: CallInfo, event: ConversationEvent) -> None: ...

    async def on_call_ended(self, call: CallInfo, result: CallResult) -> None: ...


class CallRecords(Protocol):
    """Where calls are recorded: start, then end with transcript, outcome and per-turn timing."""

    async def started(
        self,
        *,
        call_sid: str,
        stream_sid: str,
        direction: str,
        from_masked: str,
        to_masked: str,
        request_id: str | None,
        conversation_id: str,
        language: str,
    ) -> None: ...

    async def ended(
        self,
        call_sid: str,
        *,
        ended_by: str,
        reason: str,
        outcome: dict[str, Any],
        transcript: list[dict[str, Any]],
        turns: list[dict[str, Any]],
        recording: str | None = None,
    ) -> None: ...
