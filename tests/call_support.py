"""Helpers for the phone-call tests: a media stream into the app, and the call statuses the app reports
(the party's voice: ``doubles.party_voice``)."""

from __future__ import annotations

from typing import Any

from telephony.status import StatusBus

CallStatus = tuple[str, str, dict[str, Any]]  # (call_sid, status, info)


def record_call_statuses(bus: StatusBus, statuses: list[CallStatus] | None = None) -> list[CallStatus]:
    """Add a listener to ``bus`` (e.g. ``server.state.telephony.statuses``) that records every call status
    reported from now on into ``statuses`` (a new list unless given); returns that list."""
    recorded: list[CallStatus] = [] if statuses is None else statuses

    async def listener(call_sid: str, status: str, info: dict[str, Any]) -> None:
        recorded.append((call_sid, status, info))

    bus.add(listener)
    return recorded


def app_stream(server: Any, custom_parameters: dict[str, str] | None = None, **connect: Any) -> Any:
    """``async with app_stream(server) as call``: a media stream to the app's ``/twilio/media`` for a call as
    the app's loopback carrier places it (``LoopbackCarrier.connect_stream``: the stream token issued by the
    app's own store, the upgrade signed when the app has a ``TWILIO_AUTH_TOKEN``); the app refuses streams
    without one. ``connect``: further ``MediaStreamClient.connect`` options (numbers, call sid…)."""
    from simulation.far_end import SimulatedFarEnd
    from telephony.loopback import LoopbackCarrier

    telephony = server.state.telephony
    settings = telephony.settings
    auth_token = settings.twilio_auth_token if settings.twilio_validate_signature else None
    carrier = LoopbackCarrier(
        f"{server.ws_url}/twilio/media",
        far_end=SimulatedFarEnd(),
        tokens=telephony.stream_tokens,
        statuses=telephony.statuses,
        auth_token=auth_token,
    )
    return carrier.connect_stream(custom_parameters, **connect)
