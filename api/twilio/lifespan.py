"""The telephony area's lifespan: Twilio settings, stream tokens, the call status bus and the carrier
(:class:`api.state.Telephony`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.settings import ApiSettings
from api.state import Core, Overrides, Telephony
from simulation.far_end import SimulatedFarEnd
from telephony.carrier import Carrier
from telephony.loopback import LoopbackCarrier
from telephony.settings import TwilioSettings
from telephony.status import StatusBus
from telephony.stream_tokens import AppliedStatuses, StreamTokens
from telephony.twiml import MEDIA_PATH, media_stream_url

log = logging.getLogger(__name__)


def loopback_media_url(settings: ApiSettings) -> str:
    """Our own media WebSocket: ``PUBLIC_URL`` if set, else ``ws://HOST:PORT/twilio/media``."""
    if settings.public_url:
        return media_stream_url(settings.public_url)
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{settings.port}{MEDIA_PATH}"


def build_carrier(
    settings: TwilioSettings, api: ApiSettings, tokens: StreamTokens, statuses: StatusBus
) -> Carrier:
    """The carrier; both issue each call's stream token from ``tokens`` (the loopback carrier reports its
    calls' statuses to ``statuses``; Twilio's come back through ``POST /twilio/status``)."""
    if settings.use_twilio:
        from telephony.twilio_carrier import TwilioCarrier

        return TwilioCarrier(settings, api.public_url or "", tokens=tokens)
    return LoopbackCarrier(
        lambda: loopback_media_url(api),
        far_end=SimulatedFarEnd(),
        tokens=tokens,
        statuses=statuses,
        ring_s=settings.loopback_ring_s,
        from_number=settings.twilio_from_number or "+15005550006",
        auth_token=settings.twilio_auth_token if settings.twilio_validate_signature else None,
    )


class UnsafeTelephonyError(RuntimeError):
    """Real calls (``LISA_TELEPHONY=twilio``) with the API or the webhooks open to anyone."""


def check_open_door(settings: TwilioSettings, api: ApiSettings) -> None:
    """Refuse to start real telephony while ``AUTH_ENABLED`` or ``TWILIO_VALIDATE_SIGNATURE`` is off (anyone
    could place calls, or play Twilio), unless ``LISA_ALLOW_UNAUTHENTICATED_TWILIO=true`` (logged loudly)."""
    if not settings.use_twilio:
        return
    open_doors = [
        name
        for name, is_open in (
            ("AUTH_ENABLED=false", not api.auth_enabled),
            ("TWILIO_VALIDATE_SIGNATURE=false", not settings.twilio_validate_signature),
        )
        if is_open
    ]
    if not open_doors:
        return
    if not settings.lisa_allow_unauthenticated_twilio:
        raise UnsafeTelephonyError(
            f"LISA_TELEPHONY=twilio with {' and '.join(open_doors)}: anyone could place real calls or pose as "
            "Twilio. Turn auth on, or set LISA_ALLOW_UNAUTHENTICATED_TWILIO=true to run like this anyway."
        )
    log.warning(
        "!!! LISA_ALLOW_UNAUTHENTICATED_TWILIO=true: real Twilio calls with %s -- anyone who reaches this "
        "server can place calls that cost money and reach real people !!!",
        " and ".join(open_doors),
    )


@asynccontextmanager
async def telephony_lifespan(core: Core, overrides: Overrides) -> AsyncIterator[Telephony]:
    """Read ``TwilioSettings`` (refusing an open door), the stream token and applied-status stores, the
    status bus, the carrier; the carrier closes when the app stops."""
    settings = overrides.twilio_settings or TwilioSettings()
    check_open_door(settings, core.settings)
    tokens = StreamTokens(core.db, settings.lisa_stream_token_ttl_s)
    statuses = StatusBus()
    if not settings.twilio_validate_signature:
        log.warning(
            "TWILIO_VALIDATE_SIGNATURE=false: Twilio webhooks are NOT signature-checked (local development only)"
        )
    elif not settings.twilio_auth_token:
        log.info("TWILIO_AUTH_TOKEN not set: Twilio webhooks will be refused (403)")
    carrier = overrides.carrier or build_carrier(settings, core.settings, tokens, statuses)
    log.info("telephony: %s carrier", carrier.name)
    try:
        yield Telephony(settings, tokens, AppliedStatuses(core.db), statuses, carrier)
    finally:
        await carrier.close()
