"""Phone numbers in logs and records: masked so calls can be told apart but not dialled."""

from __future__ import annotations

import re

_PHONE = re.compile(r"\+?\d[\d\s\-/().]{6,}\d")


def mask_phone(number: str | None) -> str:
    """``+49 30 7654321`` -> ``+49******321``: enough to tell calls apart, not enough to dial."""
    if not number:
        return ""
    digits = re.sub(r"[^\d+]", "", number)
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def mask_text(text: str) -> str:
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
