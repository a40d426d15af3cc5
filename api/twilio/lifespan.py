"""Start-up of the telephony area: settings, the carrier in ``state.services["carrier"]``, status listeners."""

from __future__ import annotations

import logging
from typing import Any

from api.settings import ApiSettings
from telephony import status as call_status
from telephony.carrier import Carrier
from telephony.loopback import LoopbackCarrier
from telephony.settings import TwilioSettings
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


def build_carrier(settings: TwilioSettings, api: ApiSettings, services: dict[str, Any]) -> Carrier:
    """The carrier; both issue each call's stream token from ``services["stream_tokens"]``."""
    if settings.use_twilio:
        from telephony.twilio_carrier import TwilioCarrier

        return TwilioCarrier(settings, api.public_url or "", tokens=services["stream_tokens"])
    return LoopbackCarrier(
        lambda: loopback_media_url(api),
        services,
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


async def start_telephony(state: Any) -> None:
    """STARTUP hook: read ``TwilioSettings`` (refusing an open door), the stream token and status stores,
    the carrier, the status listener list."""
    settings: TwilioSettings = state.services.get("twilio_settings") or TwilioSettings()
    state.services["twilio_settings"] = settings
    check_open_door(settings, state.settings)
    call_status.listeners(state.services)
    state.services["stream_tokens"] = StreamTokens(state.db, settings.lisa_stream_token_ttl_s)
    state.services["applied_statuses"] = AppliedStatuses(state.db)
    if not settings.twilio_validate_signature:
        log.warning(
            "TWILIO_VALIDATE_SIGNATURE=false: Twilio webhooks are NOT signature-checked (local development only)"
        )
    elif not settings.twilio_auth_token:
        log.info("TWILIO_AUTH_TOKEN not set: Twilio webhooks will be refused (403)")
    carrier = build_carrier(settings, state.settings, state.services)
    state.services["carrier"] = carrier
    log.info("telephony: %s carrier", carrier.name)


async def stop_telephony(state: Any) -> None:
    carrier = state.services.get("carrier")
    if carrier is not None:
        await carrier.close()


def register() -> None:
    """Add the hooks to the app (first, so every other area finds the carrier at its own start-up)."""
    from api.app import SHUTDOWN, STARTUP

    if start_telephony not in STARTUP:
        STARTUP.insert(0, start_telephony)
    if stop_telephony not in SHUTDOWN:
        SHUTDOWN.insert(0, stop_telephony)  # shutdown runs in reverse: the carrier closes last
