"""What the app keeps for its lifetime, typed: settings, database, engine and what each area's lifespan
started (the telephony area's carrier and status bus, the calls area's records and hooks, the request
processor, the chat service). Built once by ``api.app.create_app``; routes get it (or a part of it) through
the dependencies of ``api/deps.py``. :class:`Overrides` is what a test or the demo hands ``create_app``
instead of what the settings would build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from agent.engine import Engine
from agent.settings import AgentSettings
from api.settings import ApiSettings
from api.storage import Database

if TYPE_CHECKING:
    from api.calls.store import CallStore
    from api.calls.sweeper import CallSweepSettings
    from api.chat.service import ChatService
    from api.console.lifespan import ConsoleServices
    from api.edge.rate_limit import DatabaseRateLimiter, RateLimiter
    from api.requests.outbox import Outbox
    from api.requests.processor import RequestProcessor
    from api.requests.settings import RequestSettings
    from api.team_chat.lifespan import TeamChatServices
    from api.team_chat.settings import TeamChatSettings
    from pipelines.call_deps import EndLiveCall, RequestLookup
    from pipelines.call_hooks import CallHooks, CallRecords
    from pipelines.settings import VoiceSettings
    from telephony.carrier import Carrier
    from telephony.settings import TwilioSettings
    from telephony.status import StatusBus
    from telephony.stream_tokens import AppliedStatuses, StreamTokens


@dataclass(frozen=True)
class Core:
    """What every area starts from: settings, the database and Lisa's engine."""

    settings: ApiSettings
    agent_settings: AgentSettings
    db: Database
    engine: Engine


@dataclass(frozen=True)
class Telephony:
    """The telephony area (``api/twilio/lifespan.py``): Twilio settings, the stream token and applied-status
    stores, the call status bus and the carrier (Twilio's, or the loopback carrier)."""

    settings: TwilioSettings
    stream_tokens: StreamTokens
    applied_statuses: AppliedStatuses
    statuses: StatusBus
    carrier: Carrier


class StreamCount:
    """Media streams open in this process (from the upgrade until the socket is done)."""

    def __init__(self) -> None:
        self.open = 0
        self.refused_over_cap = 0


@dataclass(frozen=True)
class Calls:
    """The calls area (``api/calls/lifespan.py``): voice settings, call records, the calls' hooks, the
    media-stream count, and how to end a live call politely."""

    voice_settings: VoiceSettings
    store: CallStore  # the app's call records in the database (the sweeper renews and closes them)
    records: CallRecords  # where the pipeline writes each call's record (``store``, unless overridden)
    hooks: list[CallHooks]  # told as each call starts, changes and ends (the request processor is one)
    stream_count: StreamCount
    end_live_call: EndLiveCall


@dataclass(frozen=True)
class Requests:
    """The outbound requests area (``api/requests/lifespan.py``)."""

    processor: RequestProcessor
    outbox: Outbox | None  # Supabase is the outcome store: changes go out through it
    lookup: RequestLookup  # the brief of an outbound call (``processor.lookup`` unless overridden)


@dataclass
class AppState:
    settings: ApiSettings
    agent_settings: AgentSettings
    db: Database
    engine: Engine
    telephony: Telephony
    calls: Calls
    requests: Requests
    chat: ChatService
    rate_limiter: RateLimiter | DatabaseRateLimiter
    team_chat: TeamChatServices
    providers: dict[str, str] = field(default_factory=dict)  # an area may name its provider for /health
    console: ConsoleServices | None = None  # the operator console (api/console/)


@dataclass
class Overrides:
    """What the app uses instead of what its settings would build (tests, the demo); set before start-up."""

    twilio_settings: TwilioSettings | None = None
    voice_settings: VoiceSettings | None = None
    request_settings: RequestSettings | None = None
    call_sweep_settings: CallSweepSettings | None = None
    carrier: Carrier | None = None  # closed with the app like its own
    call_records: Callable[[CallRecords], CallRecords] | None = None  # wraps the app's call records
    call_hooks: Sequence[CallHooks] = ()  # told before the app's own (the request processor)
    request_lookup: RequestLookup | None = None
    team_chat_settings: TeamChatSettings | None = None


def app_state(conn: HTTPConnection) -> AppState:
    """The app's state (FastAPI dependency of ``api/deps.py``; works for requests and WebSockets)."""
    state: AppState = conn.app.state.lisa
    return state
