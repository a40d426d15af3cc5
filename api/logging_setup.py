"""Logging: plain lines, phone numbers masked wherever they appear (pipecat's loguru output included)."""

from __future__ import annotations

import logging
from typing import Any

from telephony.phone_numbers import mask_phone, mask_text

__all__ = ["MaskingFilter", "mask_phone", "mask_text", "route_pipecat_logs", "setup_logging"]

# pipecat logs this at ERROR when a caller's socket is already gone as the call closes it: a harmless race
_BENIGN = ("exception while closing the websocket",)


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
    route_pipecat_logs(level)


def route_pipecat_logs(level: str = "INFO") -> None:
    """pipecat logs through loguru, by default everything down to DEBUG straight to stderr. Send its warnings
    and errors (everything at ``LOG_LEVEL=DEBUG``) through the standard logging above instead: one format,
    one level switch, phone numbers masked."""
    try:
        from loguru import logger
    except ImportError:
        return
    logger.remove()
    logger.add(_to_logging, level="DEBUG" if level.upper() == "DEBUG" else "WARNING", format="{message}")


def _to_logging(message: Any) -> None:  # noqa: ANN401 - loguru's Message
    record = message.record
    levelno = record["level"].no
    text = record["message"]
    if levelno >= logging.ERROR and any(b in text for b in _BENIGN):
        levelno = logging.DEBUG
    exc = record["exception"]
    exc_info = (exc.type, exc.value, exc.traceback) if exc is not None and exc.type else None
    logging.getLogger(record["name"] or "pipecat").log(levelno, text, exc_info=exc_info)
