"""Secrets out of log lines: query tokens and keys (``?token=…``, ``access_token``, ``key``, …), bearer
tokens and anything shaped like a JWT."""

from __future__ import annotations

import re

SECRET_PARAMS = ("token", "access_token", "refresh_token", "id_token", "key", "api_key", "apikey", "password")
_PARAM = re.compile(
    r"(?P<name>(?:^|(?<=[?&;\s\"']))(?:" + "|".join(SECRET_PARAMS) + r")=)(?P<value>[^&\s\"';]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<scheme>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``/ws?chat_id=1&token=eyJ…`` -> ``/ws?chat_id=1&token=[redacted]``; bearer tokens and JWTs likewise."""
    if "=" in text:
        text = _PARAM.sub(lambda m: m.group("name") + REDACTED, text)
    if "earer" in text:
        text = _BEARER.sub(lambda m: m.group("scheme") + REDACTED, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    return text
