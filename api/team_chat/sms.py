"""SMS senders for one-time sign-in codes: Twilio's Messages REST API in production, and the embedded default,
a local outbox (table ``team_sms_outbox``) a developer reads with ``python -m api.team_chat.outbox`` — never a
real phone. Phone numbers are masked in logs; codes never reach a log."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from api.team_chat.store import TeamStore
from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"


class SmsError(Exception):
    """The text could not be sent; the message is safe to show."""


class SmsSender(Protocol):
    name: str

    async def send(self, phone: str, body: str) -> None: ...


class OutboxSender:
    """The embedded default: texts land in the database's outbox, for the developer to read."""

    name = "outbox"

    def __init__(self, store: TeamStore) -> None:
        self.store = store

    async def send(self, phone: str, body: str) -> None:
        await self.store.to_outbox(phone, body)
        log.info(
            "SMS to %s kept in the local outbox (read it: python -m api.team_chat.outbox)", mask_phone(phone)
        )


class TwilioSmsSender:
    """Twilio Messages: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (To, From, Body; basic auth)."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.base_url = (base_url or TWILIO_API).rstrip("/")
        self.timeout_s = timeout_s

    async def send(self, phone: str, body: str) -> None:
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(
                    url,
                    data={"To": phone, "From": self.from_number, "Body": body},
                    auth=(self.account_sid, self.auth_token),
                )
        except httpx.HTTPError as exc:
            log.warning("SMS to %s failed: %s", mask_phone(phone), type(exc).__name__)
            raise SmsError("the text message could not be sent; try again later") from exc
        if response.status_code >= 300:
            code = _twilio_code(response)
            log.warning(
                "SMS to %s refused by Twilio: HTTP %d, code %s", mask_phone(phone), response.status_code, code
            )
            raise SmsError("the text message could not be sent to this number")
        log.info("SMS to %s sent through Twilio", mask_phone(phone))


def _twilio_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code"))
    except ValueError:
        return "?"
