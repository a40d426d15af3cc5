"""Logging: plain lines; secrets redacted and phone numbers masked wherever they appear (uvicorn's access log
and pipecat's loguru output included)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from api.log_redaction import redact
from telephony.phone_numbers import mask_phone, mask_text

__all__ = ["MaskingFilter", "mask_phone", "mask_text", "route_pipecat_logs", "scrub", "setup_logging"]

# pipecat logs this at ERROR when a caller's socket is already gone as the call closes it: a harmless race
_BENIGN = ("exception while closing the websocket",)


def scrub(text: str) -> str:
    """A log line without secrets (query tokens and keys, bearer tokens, JWTs) or dialable phone numbers."""
    return mask_text(redact(text))


class MaskingFilter(logging.Filter):
    """Scrubs every log record's final message (see :func:`scrub`). uvicorn's access formatter reads the
    record's arguments (client, method, path, version, status), so there the arguments are scrubbed one by
    one and stay arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "scrubbed", False):  # by the logger's filter already, now at the handler's
            return True
        record.scrubbed = True
        try:
            message = record.getMessage()
        except Exception:  # a broken log call is logging's to report, not ours
            return True
        masked = scrub(message)
        if masked == message:
            return True
        access = record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5
        access = access and isinstance(record.msg, str)
        if access and isinstance(record.args, tuple) and scrub(record.msg) == record.msg:
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg, record.args = masked, None
        return True


_REFUSED = re.compile(r' - "WebSocket [^"]*" [45]\d\d$')


class RefusedSocketFilter(logging.Filter):
    """uvicorn logs a refused WebSocket handshake (401, 403, 429 …) at INFO like an accepted one: make it a
    WARNING, one line (the refusal is the client's problem, not an error of ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno < logging.WARNING and _REFUSED.search(message):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        elif record.levelno >= logging.ERROR and message.startswith(_CLIENT_FAULTS):
            # a client's bad frame (the socket is closed with 1007): one line, no traceback, so a client
            # cannot flood the log with errors at will
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


_CLIENT_FAULTS = ("Invalid UTF-8 sequence received from client",)


# uvicorn's loggers, scrubbed at the logger itself: also when uvicorn's own handlers write them
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def scrub_uvicorn_logs() -> None:
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, RefusedSocketFilter) for f in error_log.filters):
        error_log.addFilter(RefusedSocketFilter())


class LineFormatter(logging.Formatter):
    """``time level logger: message``; the time's text is made once a second, not once a line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second, self._text = -1, ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._text = second, time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second))
        return f"{self._text},{int(record.msecs):03d}"


def setup_logging(level: str = "INFO") -> None:
    # what LineFormatter does not print is not gathered for every record (the logging HOWTO's "Optimization"):
    # the caller's frame, thread and process. With the cached time and one scrub per record, an access line
    # costs 12 µs instead of 20 (one per request: a tenth of a static page's whole cost)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    scrub_uvicorn_logs()
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


def _to_logging(message: Any) -> None:  # loguru's Message
    record = message.record
    levelno = record["level"].no
    text = record["message"]
    if levelno >= logging.ERROR and any(b in text for b in _BENIGN):
        levelno = logging.DEBUG
    exc = record["exception"]
    exc_info = (exc.type, exc.value, exc.traceback) if exc is not None and exc.type else None
    logging.getLogger(record["name"] or "pipecat").log(levelno, text, exc_info=exc_info)
