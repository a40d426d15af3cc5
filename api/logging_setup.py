"""Logging: plain lines; secrets redacted and phone numbers masked wherever they appear (uvicorn's access log
and pipecat's loguru output included)."""

from __future__ import annotations

import atexit
import contextlib
import copy
import logging
import re
import threading
import time
from collections import deque
from typing import Any

from api.log_redaction import redact
from telephony.phone_numbers import mask_phone, mask_text

__all__ = [
    "BackgroundWriter",
    "MaskingFilter",
    "flush_logs",
    "mask_phone",
    "mask_text",
    "route_pipecat_logs",
    "scrub",
    "setup_logging",
]

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


class BackgroundWriter(logging.Handler):
    """Hands each record to a thread of its own that formats and writes it (the logging cookbook's "Dealing
    with handlers that block"): the event loop never waits on its log's reader. A pipe read slowly (a
    container's log driver, a terminal) otherwise stalls every call and request behind one access line.

    The thread is woken by the first record after a quiet spell and then writes what gathered within
    ``BATCH_S`` in one write: a busy server pays one wake-up and one write per batch, not per line (a wake-up
    per record cost more than the write it saved). At most ``LIMIT`` records wait; beyond that, while the
    reader is stalled, records are dropped and counted, and the count is written once the thread catches up.
    :func:`flush_logs` waits until everything is written; it also runs at exit."""

    LIMIT = 20_000  # records waiting, ~10 MB at most
    BATCH_S = 0.02

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self.target = target
        self.dropped = 0
        self._pending: deque[logging.LogRecord] = deque()
        self._queued = self._written = 0
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._write, name="log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:  # called under the handler's lock
        if len(self._pending) >= self.LIMIT:
            self.dropped += 1
            return
        try:
            # a copy (other handlers may take the record after this one), its message made here from the
            # arguments as they are now, a traceback as text
            copied = copy.copy(record)
            copied.msg, copied.args = record.getMessage(), None
            if record.exc_info and not record.exc_text:
                copied.exc_text = logging.Formatter().formatException(record.exc_info)
            copied.exc_info = None
        except Exception:
            self.handleError(record)
            return
        self._pending.append(copied)
        self._queued += 1
        if not self._wake.is_set():
            self._wake.set()

    def _write(self) -> None:
        reported = 0
        while not self._closing:
            self._wake.wait()
            time.sleep(self.BATCH_S)  # let a batch gather
            self._wake.clear()  # before draining: a record added from here on wakes the next round
            taken: list[logging.LogRecord] = []
            while self._pending:
                taken.append(self._pending.popleft())
            report = []
            if self.dropped > reported:
                report, reported = [_dropped_record(self.dropped - reported)], self.dropped
            try:
                self._write_out(taken + report)
            finally:
                self._written += len(taken)

    def _write_out(self, records: list[logging.LogRecord]) -> None:
        target = self.target
        lines = []
        for record in records:
            try:
                lines.append(target.format(record) + "\n")
            except Exception:
                target.handleError(record)
        stream = getattr(target, "stream", None)
        try:
            if stream is None:  # a handler that is no stream handler: one record at a time
                for record in records:
                    target.handle(record)
            elif lines:
                with target.lock or contextlib.nullcontext():
                    stream.write("".join(lines))
                    stream.flush()
        except Exception:
            if records:
                target.handleError(records[-1])
        finally:
            self._written += sum(
                1 for r in records if r.name != __name__ or not r.msg.endswith("fell behind")
            )

    def flush(self, timeout_s: float = 5.0) -> None:
        """Wait until every record handed over so far is written (at most ``timeout_s``: a reader that is
        gone must not hold up the exit)."""
        due = self._queued
        deadline = time.monotonic() + timeout_s
        while self._written < due and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.002)
        with contextlib.suppress(ValueError, OSError):  # the stream was closed under us (at exit, in tests)
            self.target.flush()

    def close(self) -> None:
        self.flush(timeout_s=1.0)
        self._closing = True
        self._wake.set()
        self._thread.join(timeout=1.0)
        with contextlib.suppress(ValueError, OSError):
            self.target.close()
        super().close()


def _dropped_record(count: int) -> logging.LogRecord:
    return logging.LogRecord(
        __name__,
        logging.WARNING,
        __file__,
        0,
        f"{count} log records dropped: the log's reader fell behind",
        None,
        None,
    )


def flush_logs() -> None:
    """Write every log record logged so far (the root's background writer, see :class:`BackgroundWriter`)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def setup_logging(level: str = "INFO") -> None:
    # what LineFormatter does not print is not gathered for every record (the logging HOWTO's "Optimization"):
    # the caller's frame, thread and process. With the cached time and one scrub per record, an access line
    # costs 12 µs instead of 20 (one per request: a tenth of a static page's whole cost)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    stream = logging.StreamHandler()
    stream.setFormatter(LineFormatter())
    writer = BackgroundWriter(stream)
    writer.addFilter(MaskingFilter())  # scrubbed before it is queued: no secret waits in memory
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, BackgroundWriter):
            old.close()
    root.handlers[:] = [writer]
    root.setLevel(level.upper())
    scrub_uvicorn_logs()
    route_pipecat_logs(level)


atexit.register(flush_logs)


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
