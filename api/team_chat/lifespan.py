"""The team chat area's lifespan: :func:`team_chat_lifespan` builds the area's services and yields them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from api.auth import register_local_secret, unregister_local_secret
from api.chat.hub import ChatHub
from api.chat.service import ChatService
from api.state import Core
from api.team_chat.accounts import AccountService, Attempts
from api.team_chat.google import GoogleClient, TokenVault
from api.team_chat.lisa_room import LisaInTheRoom
from api.team_chat.meetings import Meetings
from api.team_chat.passwords import Passwords
from api.team_chat.service import TeamChatService
from api.team_chat.settings import TeamChatSettings
from api.team_chat.sms import OutboxSender, SmsSender, TwilioSmsSender
from api.team_chat.store import TeamStore
from api.team_chat.tokens import TokenIssuer

log = logging.getLogger(__name__)


@dataclass
class TeamChatServices:
    settings: TeamChatSettings
    store: TeamStore
    accounts: AccountService
    chats: TeamChatService
    meetings: Meetings
    lisa: LisaInTheRoom
    hub: ChatHub  # the chat area's hub: team messages reach sockets (and other workers) through it


def sms_sender(settings: TeamChatSettings, store: TeamStore) -> SmsSender:
    """Twilio Messages when configured (or forced), else the local outbox."""
    from telephony.settings import TwilioSettings

    twilio = TwilioSettings()
    sender = settings.team_sms_from or twilio.twilio_from_number
    configured = bool(twilio.twilio_account_sid and twilio.twilio_auth_token and sender)
    if settings.team_sms_provider == "twilio" or (settings.team_sms_provider == "auto" and configured):
        if not configured:
            raise RuntimeError(
                "TEAM_SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TEAM_SMS_FROM"
            )
        return TwilioSmsSender(
            twilio.twilio_account_sid or "",
            twilio.twilio_auth_token or "",
            sender or "",
            twilio.twilio_api_base_url,
            twilio.twilio_timeout_s,
        )
    if settings.team_sms_provider not in ("auto", "outbox"):
        raise RuntimeError(
            f"TEAM_SMS_PROVIDER must be auto, twilio or outbox (not {settings.team_sms_provider!r})"
        )
    return OutboxSender(store)


@contextlib.asynccontextmanager
async def team_chat_lifespan(
    core: Core, chat: ChatService, settings: TeamChatSettings | None = None
) -> AsyncIterator[TeamChatServices]:
    """The team chat's services on the app's database; its messages go out through the chat hub (and its
    relay across workers). Our access tokens are accepted by api/auth.py while it runs."""
    settings = settings or TeamChatSettings()
    store = TeamStore(core.db)
    secret = settings.team_jwt_secret or await store.secret("jwt")
    issuer = TokenIssuer(
        store,
        secret,
        core.settings.jwt_audience,
        settings.team_access_token_ttl_s,
        settings.team_refresh_token_ttl_s,
    )
    vault = TokenVault(settings.team_token_encryption_key) if settings.team_token_encryption_key else None
    google = GoogleClient(
        settings.google_tokeninfo_url,
        settings.google_calendar_url,
        settings.google_client_id,
        settings.google_timeout_s,
    )
    accounts = AccountService(
        store,
        settings,
        issuer,
        Passwords(
            settings.team_argon2_time_cost, settings.team_argon2_memory_kib, settings.team_argon2_parallelism
        ),
        sms_sender(settings, store),
        google,
        vault,
        Attempts(core.db, settings),
        await store.secret("phone-codes"),
    )
    chats = TeamChatService(store, chat.hub, settings, accounts.attempts)
    meetings = Meetings(accounts, google, settings.jitsi_base_url)
    services = TeamChatServices(
        settings=settings,
        store=store,
        accounts=accounts,
        chats=chats,
        meetings=meetings,
        lisa=LisaInTheRoom(chats, core.engine, meetings),
        hub=chat.hub,
    )
    register_local_secret(secret)
    try:
        yield services
    finally:
        unregister_local_secret(secret)
