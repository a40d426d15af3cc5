"""Logging: plain lines, phone numbers masked wherever they appear."""

from __future__ import annotations

import logging

from telephony.phone_numbers import mask_phone, mask_text

__all__ = ["MaskingFilter", "mask_phone", "mask_text", "setup_logging"]


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
