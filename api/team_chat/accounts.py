"""Team chat accounts: register and sign in by email + password or phone + one-time SMS code, refresh and
log out, the Google token for meetings. Attempts are rate-limited per account and per client (in the database
on PostgreSQL, so every worker counts together); failures never tell whether an account exists."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.edge.rate_limit import DatabaseRateLimiter, RateLimiter
from api.storage import Database
from api.team_chat.google import GoogleClient, GoogleError, TokenVault
from api.team_chat.passwords import Passwords
from api.team_chat.settings import TeamChatSettings
from api.team_chat.sms import SmsError, SmsSender
from api.team_chat.store import Duplicate, TeamStore, User, now_utc
from api.team_chat.tokens import RefreshRefused, TokenIssuer, TokenPair
from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)


class TeamError(Exception):
    """A request the team chat refuses; ``status_code`` is the HTTP answer, ``detail`` safe to show."""

    def __init__(self, status_code: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers


def limiter(db: Database, per_minute: int) -> RateLimiter | DatabaseRateLimiter:
    """In the database on PostgreSQL (shared by all workers and instances), else in memory."""
    return DatabaseRateLimiter(db, per_minute) if db.dialect == "postgresql" else RateLimiter(per_minute)


class Attempts:
    """Budgets of sign-in, code and join attempts: per account (or code) and per client address."""

    def __init__(self, db: Database, settings: TeamChatSettings) -> None:
        self.per_account = limiter(db, settings.team_login_attempts_per_minute)
        self.per_client = limiter(db, settings.team_client_attempts_per_minute)
        self.joins = limiter(db, settings.team_join_attempts_per_minute)

    async def take(self, what: str, account: str | None, client: str | None) -> None:
        """Count one attempt; TeamError(429) with Retry-After when a budget is spent."""
        waits = [await self.per_client.take(f"team:{what}:ip:{client or 'unknown'}")]
        if account is not None:
            budget = self.joins if what == "join" else self.per_account
            waits.append(await budget.take(f"team:{what}:acct:{account}"))
        wait = max(waits)
        if wait:
            raise TeamError(
                429, f"too many {what} attempts; retry later", {"Retry-After": str(max(1, math.ceil(wait)))}
            )


@dataclass
class SignedIn:
    user: User
    tokens: TokenPair


class AccountService:
    """Everything about who a team chat user is."""

    def __init__(
        self,
        store: TeamStore,
        settings: TeamChatSettings,
        issuer: TokenIssuer,
        passwords: Passwords,
        sms: SmsSender,
        google: GoogleClient,
        vault: TokenVault | None,
        attempts: Attempts,
        code_secret: str,
    ) -> None:
        self.store = store
        self.settings = settings
        self.issuer = issuer
        self.passwords = passwords
        self.sms = sms
        self.google = google
        self.vault = vault
        self.attempts = attempts
        self._code_secret = code_secret.encode()

    # --- email + password ---------------------------------------------------------------------------------
    async def register(
        self, email: str, password: str, name: str | None, phone: str | None, client: str | None
    ) -> SignedIn:
        await self.attempts.take("register", None, client)
        password_hash = await self.passwords.hash(password)
        try:
            user = await self.store.create_user(email, phone, name, password_hash)
        except Duplicate as exc:
            raise TeamError(
                409, "an account with this email or phone already exists; sign in instead"
            ) from exc
        log.info("team chat account %s registered", user.id)
        return SignedIn(user, await self.issuer.issue(user))

    async def login_password(self, email: str, password: str, client: str | None) -> SignedIn:
        await self.attempts.take("login", email, client)
        user = await self.store.user_by_email(email)
        # the same work and the same answer for an unknown email and a wrong password
        ok = await self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok:
            raise TeamError(401, "wrong email or password")
        if user.password_hash and self.passwords.needs_rehash(user.password_hash):
            await self.store.set_password_hash(user.id, await self.passwords.hash(password))
        return SignedIn(user, await self.issuer.issue(user))

    # --- phone + one-time code ------------------------------------------------------------------------------
    def _code_hash(self, phone: str, code: str) -> str:
        return hmac.new(self._code_secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def send_code(self, phone: str, client: str | None) -> int:
        """Text a new 6-digit code to ``phone`` (replacing an older one); its lifetime in seconds."""
        await self.attempts.take("code", phone, client)
        code = f"{secrets.randbelow(1_000_000):06d}"
        ttl = self.settings.team_code_ttl_s
        await self.store.put_code(phone, self._code_hash(phone, code), now_utc() + timedelta(seconds=ttl))
        try:
            await self.sms.send(phone, f"Your Lisa sign-in code: {code} (valid {ttl // 60} minutes)")
        except SmsError as exc:
            await self.store.drop_code(phone)
            raise TeamError(502, exc.args[0]) from exc
        return ttl

    async def login_code(self, phone: str, code: str, client: str | None) -> SignedIn:
        """Sign in with a code; the first sign-in of a number makes its account."""
        await self.attempts.take("login", phone, client)
        wrong = TeamError(401, "wrong or expired code; ask for a new one")
        row = await self.store.code(phone)
        if row is None:
            raise wrong
        if (
            datetime.fromisoformat(row["expires_at"]) <= now_utc()
            or row["attempts"] >= self.settings.team_code_max_attempts
        ):
            await self.store.drop_code(phone)
            raise wrong
        if not hmac.compare_digest(row["code_hash"], self._code_hash(phone, code)):
            await self.store.count_code_attempt(phone)
            raise wrong
        await self.store.drop_code(phone)
        user = await self.store.user_by_phone(phone)
        if user is None:
            try:
                user = await self.store.create_user(None, phone, None, None)
                log.info("team chat account %s made for %s", user.id, mask_phone(phone))
            except Duplicate:  # made at the same moment by a parallel sign-in
                user = await self.store.user_by_phone(phone)
                assert user is not None
        return SignedIn(user, await self.issuer.issue(user))

    # --- tokens -----------------------------------------------------------------------------------------
    async def refresh(self, refresh_token: str) -> TokenPair:
        try:
            _user, pair = await self.issuer.rotate(refresh_token)
        except RefreshRefused as exc:
            raise TeamError(401, str(exc)) from exc
        return pair

    async def logout(self, refresh_token: str) -> None:
        await self.issuer.revoke(refresh_token)  # unknown tokens too: logging out twice is harmless

    async def account(self, user_id: str) -> User:
        """The caller's account; a verified external (Supabase) user gets one on first use."""
        user = await self.store.user(user_id)
        if user is None:
            try:
                user = await self.store.create_user(None, None, None, None, user_id=user_id)
            except Duplicate:
                user = await self.store.user(user_id)
        assert user is not None
        return user

    # --- Google -----------------------------------------------------------------------------------------
    async def keep_google_token(self, user: User, token: str) -> None:
        if self.vault is None:
            raise TeamError(409, "this server keeps no Google tokens: TEAM_TOKEN_ENCRYPTION_KEY is not set")
        try:
            info = await self.google.token_info(token)
        except GoogleError as exc:
            raise TeamError(exc.status_code, exc.detail) from exc
        expires = now_utc() + timedelta(seconds=info.expires_in) if info.expires_in else None
        await self.store.put_google_token(user.id, self.vault.seal(token), info.email, info.scope, expires)

    async def google_token(self, user_id: str) -> str | None:
        """The user's Google token when one is kept, readable and not expired."""
        if self.vault is None:
            return None
        row = await self.store.google_token(user_id)
        if row is None:
            return None
        if row["expires_at"] and datetime.fromisoformat(row["expires_at"]) <= now_utc():
            return None
        return self.vault.open(row["token_encrypted"])
