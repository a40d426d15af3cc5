"""What a phone call's pipeline needs from the app, typed: :class:`CallDeps`, built by the app for each call
(``api/calls/stream_routes.py``) so that the pipeline never reaches into the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from agent.conversation import BookingRequest
from agent.engine import Engine
from pipelines.call_hooks import CallHooks, CallRecords
from pipelines.settings import VoiceSettings
from telephony.carrier import Carrier

# ``end_live_call(call_sid, reason)``: True when the call runs here and was asked to end politely
EndLiveCall = Callable[[str, str], bool]
# the booking request an outbound call is about (Lisa's brief), None when unknown
RequestLookup = Callable[[str], Awaitable[BookingRequest | None]]


@dataclass(frozen=True)
class CallDeps:
    engine: Engine
    default_language: str  # Lisa's language when the call names none (or an unknown one)
    voice_settings: VoiceSettings
    call_records: CallRecords  # where the call's record goes
    carrier: Carrier | None  # hangs up and transfers; None: the call ends on the stream alone
    hooks: Sequence[CallHooks]  # told as the call starts, changes and ends (read at each event)
    request_lookup: RequestLookup | None = None
