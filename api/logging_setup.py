"""Logging: plain lines, phone numbers masked wherever they appear."""

from __future__ import annotations

import logging
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


class MaskingFilter(logging.Filter):
    """Masks phone numbers in every log record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
