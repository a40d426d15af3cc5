"""What a caller says is personal data: the log has it at DEBUG only, never at INFO or above (issue 11,
"Logs and spoofing"). A real call on the embedded default, every log record of the process captured."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from call_support import app_stream
from doubles.app_calls import call_record
from doubles.party_voice import exchange, speech

from api.state import Overrides
from pipelines.settings import VoiceSettings

pytestmark = [pytest.mark.voice, pytest.mark.timeout(120)]

LINES = ("Hi, I would like to book an appointment.", "Wednesday at three in the afternoon.")


async def test_callers_words_are_logged_at_debug_only(
    app_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = Overrides()
    overrides.voice_settings = VoiceSettings(_env_file=None)
    server = await app_server(overrides=overrides)
    for line in LINES:
        await speech(line)
    caplog.set_level(logging.DEBUG)
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(15)
        await call.wait_lisa_done(20, new_utterance=False, settle=1.0)
        for line in LINES:
            await exchange(call, line)
        sid = call.call_sid
    record = await call_record(server, sid)
    heard = [line["text"].strip() for line in record["transcript"] if line["speaker"] == "party"]
    assert len(heard) == len(LINES) and all(heard), heard
    said = [r for r in caplog.records if any(text in r.getMessage() for text in heard)]
    assert any(r.levelno == logging.DEBUG for r in said), "the caller's words were not logged at DEBUG"
    loud = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in said if r.levelno >= logging.INFO]
    assert not loud, loud
