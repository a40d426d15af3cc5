"""Phone numbers in logs and records: masked so calls can be told apart but not dialled."""

from __future__ import annotations

import re

# a phone number stands on its own: not glued to letters, digits or a hyphen (call SIDs ``CA`` + 32 hex, UUIDs
# and other ids stay readable), except after a URL-encoded plus (``%2B49…``)
_PHONE = re.compile(r"(?:(?<=%2[bB])|(?<![\w-]))\+?\d[\d\s\-/().]{6,}\d(?![\w-])")


def mask_phone(number: str | None) -> str:
    """``+49 30 7654321`` -> ``+49******321``: enough to tell calls apart, not enough to dial."""
    if not number:
        return ""
    digits = re.sub(r"[^\d+]", "", number)
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


# digits that look like a phone number but are not one: IPv4 addresses, dates and times
_NOT_A_NUMBER = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}(?::\d{2})*)?")


def mask_text(text: str) -> str:
    """Every phone number in ``text`` masked (ids such as call SIDs and UUIDs, addresses and dates left alone)."""
    return _PHONE.sub(
        lambda m: m.group(0) if _NOT_A_NUMBER.fullmatch(m.group(0)) else mask_phone(m.group(0)), text
    )
