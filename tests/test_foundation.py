"""The shared foundation: clock, sentence chunking, storage migrations, phone masking, μ-law codec."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from prerequisites import missing

from agent.clock import Clock
from agent.sentences import sentence_chunks, split_sentences
from api.logging_setup import MaskingFilter, mask_phone, mask_text
from api.storage import Database
from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16


def test_clock_starts_at_the_given_instant_and_runs_on():
    clock = Clock("2026-11-23T09:15:00+01:00")
    first = clock.now()
    assert first.isoformat().startswith("2026-11-23T09:15:00")
    assert first.tzinfo is not None and clock.timezone == "Europe/Berlin"
    assert clock.now() >= first


def test_clock_converts_other_offsets_to_the_business_timezone():
    assert Clock("2026-07-01T08:00:00+00:00").now().hour == 10  # CEST


def test_naive_start_is_taken_as_local_time():
    assert Clock("2026-11-23T09:00:00").now().utcoffset().total_seconds() == 3600


@pytest.mark.parametrize(
    ("text", "sentences", "rest"),
    [
        ("Hello, this is Lisa. How can I help? ", ["Hello, this is Lisa.", "How can I help?"], ""),
        (
            "Ihr Termin ist am Mittwoch, 25. November um 15 Uhr. Passt das?",
            ["Ihr Termin ist am Mittwoch, 25. November um 15 Uhr."],
            "Passt das?",
        ),
        ("Dr. Miller sees you at 10:30. Bye! ", ["Dr. Miller sees you at 10:30.", "Bye!"], ""),
        ("z.B. morgen. Gut", ["z.B. morgen."], "Gut"),
    ],
)
def test_split_sentences(text, sentences, rest):
    got, tail = split_sentences(text)
    assert got == sentences
    assert tail == rest


async def test_sentence_chunks_yield_first_sentence_before_the_stream_ends():
    release = asyncio.Event()

    async def pieces():
        yield "Hello, this "
        yield "is Lisa. How "
        await release.wait()
        yield "can I help?"

    chunks = sentence_chunks(pieces())
    assert await anext(chunks) == "Hello, this is Lisa."
    release.set()
    assert [c async for c in chunks] == ["How can I help?"]


async def _roundtrip(url: str) -> None:
    db = await Database.connect(url)
    try:
        assert await db.ping()
        assert await db.migrate() == []  # idempotent
        versions = [
            r["version"] for r in await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        ]
        assert versions[0] == "0001_init" and versions == sorted(versions)
        await db.execute("INSERT INTO app_meta (key, value) VALUES (:k, :v)", {"k": "x", "v": "1"})
        assert await db.fetchone("SELECT value FROM app_meta WHERE key = :k", {"k": "x"}) == {"value": "1"}
    finally:
        await db.close()


async def test_sqlite_migrations(tmp_path):
    await _roundtrip(f"sqlite:///{tmp_path}/lisa.db")
    # a second connection to the same file sees the data: it survives a restart
    db = await Database.connect(f"sqlite:///{tmp_path}/lisa.db")
    assert await db.fetchone("SELECT value FROM app_meta WHERE key = 'x'") == {"value": "1"}
    await db.close()


@pytest.mark.postgres
async def test_postgres_migrations():
    import asyncpg

    base = os.environ.get("DATABASE_URL_TEST", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        admin = await asyncpg.connect(base, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        missing(f"PostgreSQL not reachable at DATABASE_URL_TEST: {exc}")
    name = f"lisa_foundation_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await _roundtrip(base.rsplit("/", 1)[0] + f"/{name}")
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def test_mask_phone_keeps_only_the_edges():
    assert mask_phone("+49 30 7654321") == "+49******321"
    assert "7654" not in mask_text("calling +49 30 7654321 now")


def test_log_records_are_masked(caplog):
    logger = logging.getLogger("mask-test")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="mask-test"):
        logger.info("dialing %s", "+49 30 1234567")
    assert "1234567" not in caplog.text and "+49" in caplog.text


def test_pipecat_loguru_output_goes_through_our_masked_logging(capsys):
    from loguru import logger as loguru_logger

    from api.logging_setup import flush_logs, setup_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        loguru_logger.debug("frame processor linked")  # pipecat's per-frame chatter: dropped
        loguru_logger.warning("Deepgram call from +49 151 2345678 failed")
        loguru_logger.error("<client> exception while closing the websocket: ")  # a benign race: demoted
        flush_logs()
        err = capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        loguru_logger.remove()
        loguru_logger.add(sys.stderr)
    assert "WARNING" in err and "Deepgram call from" in err and "2345678" not in err
    assert "frame processor linked" not in err and "closing the websocket" not in err


def test_log_lines_keep_the_standard_time_and_their_masking():
    import io

    from api.logging_setup import BackgroundWriter, LineFormatter, flush_logs, setup_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    access = logging.getLogger("uvicorn.access")
    # uvicorn runs of other tests in this process may have configured its loggers (handlers of their own, no
    # propagation to the root): the record goes straight to the handler setup_logging made
    kept = (access.handlers[:], access.level, access.propagate, access.disabled)
    out = io.StringIO()
    try:
        setup_logging("INFO")  # the access logger scrubs, and so does the root handler
        handler = root.handlers[0]
        assert isinstance(handler, BackgroundWriter) and isinstance(handler.target, logging.StreamHandler)
        handler.target.setStream(out)
        access.handlers[:], access.propagate, access.disabled = [handler], False, False
        access.setLevel(logging.INFO)
        access.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", "/calls?to=%2B4915112345678", "1.1", 200)
        flush_logs()
        line = out.getvalue().strip()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        access.filters.clear()
        access.handlers[:], _, access.propagate, access.disabled = kept
        access.setLevel(kept[1])
    assert line.endswith('INFO uvicorn.access: 1.2.3.4:5 - "GET /calls?to=%2B491*******678 HTTP/1.1" 200'), (
        line
    )
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    for created in (record.created, 1_700_000_000.0, 1_700_000_000.999):  # the cached second changes
        record.created, record.msecs = created, (created % 1) * 1000
        assert LineFormatter().formatTime(record) == logging.Formatter().formatTime(record)
    formatter = LineFormatter()
    for created in (1_700_000_000.25, 1_700_000_000.75, 1_700_000_001.5):
        record.created, record.msecs = created, (created % 1) * 1000
        assert formatter.formatTime(record) == logging.Formatter().formatTime(record)


class _HeldStream(io.StringIO):
    """A log reader that reads nothing until let go (a stalled pipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def write(self, text: str) -> int:
        self.go.wait(10)
        return super().write(text)


def test_a_stalled_log_reader_never_holds_up_the_logging_code_and_drops_are_reported(monkeypatch):
    from api.logging_setup import BackgroundWriter, LineFormatter

    monkeypatch.setattr(BackgroundWriter, "LIMIT", 5)
    stream = _HeldStream()
    target = logging.StreamHandler(stream)
    target.setFormatter(LineFormatter())
    writer = BackgroundWriter(target)
    logger = logging.getLogger("lisa.test.stalled")
    logger.handlers[:], logger.propagate = [writer], False
    try:
        began = time.monotonic()
        for n in range(20):
            logger.warning("line %d of many", n)
        held_s = time.monotonic() - began  # the reader has not read a byte yet
        assert not stream.getvalue()
        stream.go.set()
        writer.flush()
        lines = stream.getvalue().splitlines()
    finally:
        logger.handlers[:] = []
        writer.close()
    assert held_s < 1.0, held_s
    written = [line for line in lines if "of many" in line]
    assert written[0].endswith("WARNING lisa.test.stalled: line 0 of many"), written
    assert 5 <= len(written) <= 6 and writer.dropped == 20 - len(written), (len(written), writer.dropped)
    report = f"WARNING api.logging_setup: {writer.dropped} log records dropped: the log's reader fell behind"
    assert [line for line in lines if line.endswith(report)] and len(lines) == len(written) + 1, lines


def test_a_record_keeps_its_traceback_and_other_handlers_see_it_unchanged():
    from api.logging_setup import BackgroundWriter, LineFormatter

    out = io.StringIO()
    target = logging.StreamHandler(out)
    target.setFormatter(LineFormatter())
    writer = BackgroundWriter(target)
    seen: list[logging.LogRecord] = []
    other = logging.Handler()
    other.emit = seen.append  # type: ignore[method-assign]
    logger = logging.getLogger("lisa.test.traceback")
    logger.handlers[:], logger.propagate = [writer, other], False
    try:
        try:
            raise ValueError("broken")
        except ValueError:
            logger.exception("turn %s failed", "t-1")
        writer.flush()
    finally:
        logger.handlers[:] = []
        writer.close()
    text = out.getvalue()
    assert "ERROR lisa.test.traceback: turn t-1 failed" in text and "ValueError: broken" in text, text
    assert seen[0].exc_info is not None and seen[0].args == ("t-1",)


def test_ulaw_roundtrip_is_close_and_matches_g711_decoding():
    t = np.arange(8000) / 8000
    pcm = (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)
    ulaw = pcm16_to_ulaw(pcm.tobytes())
    assert len(ulaw) == len(pcm)
    back = np.frombuffer(ulaw_to_pcm16(ulaw), dtype=np.int16).astype(np.float64)
    assert np.corrcoef(back, pcm)[0, 1] > 0.999
    assert ulaw_to_pcm16(b"\xff\x7f\x00\x80") == np.array([0, 0, -32124, 32124], dtype=np.int16).tobytes()


def test_resample_keeps_duration():
    pcm = np.zeros(22050, dtype=np.int16).tobytes()
    assert len(resample_pcm16(pcm, 22050, 8000)) == 16000


def test_empty_values_copied_from_env_example_mean_defaults(monkeypatch):
    """`cp .env.example .env` leaves many settings empty: they must fall back to their defaults."""
    from agent.settings import AgentSettings
    from api.requests.settings import RequestSettings
    from api.settings import ApiSettings
    from pipelines.settings import VoiceSettings
    from telephony.settings import TwilioSettings

    for line in (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#") and not value:
            monkeypatch.setenv(name, "")
    agent = AgentSettings()
    assert agent.lisa_clock is None and agent.openai_base_url is None and agent.lisa_business_profile is None
    Clock(agent.lisa_clock, agent.lisa_timezone).now()
    for settings in (ApiSettings, RequestSettings, VoiceSettings, TwilioSettings):
        settings()


def test_masking_leaves_ids_addresses_and_dates_alone():
    sid, uuid_ = "CA0123456789abcdef0123456789abcdef", "550e8400-e29b-41d4-a716-446655440000"
    for kept in (sid, "CA12345678901234567890123456789012", uuid_, "127.0.0.1:8000", "2026-11-23 09:00:00"):
        assert mask_text(f"call {kept} ended") == f"call {kept} ended", kept
    masked = mask_text(f"call {sid} from +49 30 7654321 (request {uuid_}), to=%2B4930765432100")
    assert sid in masked and uuid_ in masked and "7654321" not in masked and "765432100" not in masked


def test_log_lines_lose_query_tokens_and_keys(caplog):
    logger = logging.getLogger("uvicorn.access")
    logger.addFilter(MaskingFilter())
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
    try:
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            # uvicorn's access formatter reads these five arguments: they must stay arguments
            logger.info(
                '%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", f"/ws?chat_id=1&token={jwt_like}", "1.1", 101
            )
            logger.info("GET /manager?access_token=abc&key=k-1&monkey=banana Bearer %s", jwt_like)
    finally:
        logger.filters.clear()
    first, second = caplog.records
    assert isinstance(first.args, tuple) and len(first.args) == 5
    assert first.getMessage() == '1.2.3.4:5 - "GET /ws?chat_id=1&token=[redacted] HTTP/1.1" 101'
    assert (
        second.getMessage()
        == "GET /manager?access_token=[redacted]&key=[redacted]&monkey=banana Bearer [redacted]"
    )


def test_a_clients_invalid_utf8_frame_is_one_warning_line_not_an_error_with_traceback() -> None:
    from api.logging_setup import RefusedSocketFilter

    try:
        b"\xff".decode()
    except UnicodeDecodeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "uvicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Invalid UTF-8 sequence received from client.",
        (),
        exc_info,
    )
    assert RefusedSocketFilter().filter(record)
    assert (record.levelno, record.levelname, record.exc_info) == (logging.WARNING, "WARNING", None)
    other = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI app", (), None)
    RefusedSocketFilter().filter(other)
    assert other.levelno == logging.ERROR  # our own errors stay errors


def test_a_log_writer_whose_stream_was_closed_flushes_and_closes_quietly():
    from api.logging_setup import BackgroundWriter

    stream = io.StringIO()
    writer = BackgroundWriter(logging.StreamHandler(stream))
    stream.close()  # pytest's captured stderr of an earlier test; a reader gone at exit
    writer.flush()
    writer.close()
