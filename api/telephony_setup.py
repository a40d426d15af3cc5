"""Start-up of the telephony area: settings, the carrier in ``state.services["carrier"]``, status listeners."""

from __future__ import annotations

import logging
from typing import Any

from api.settings import ApiSettings
from telephony import status as call_status
from telephony.carrier import Carrier
from telephony.loopback import LoopbackCarrier
from telephony.settings import TwilioSettings
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
    if settings.use_twilio:
        from telephony.twilio_carrier import TwilioCarrier

        return TwilioCarrier(settings, api.public_url or "")
    return LoopbackCarrier(
        lambda: loopback_media_url(api),
        services,
        ring_s=settings.loopback_ring_s,
        from_number=settings.twilio_from_number or "+15005550006",
    )


async def start_telephony(state: Any) -> None:
    """STARTUP hook: read ``TwilioSettings``, build the carrier, prepare the status listener list."""
    settings: TwilioSettings = state.services.get("twilio_settings") or TwilioSettings()
    state.services["twilio_settings"] = settings
    call_status.listeners(state.services)
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
