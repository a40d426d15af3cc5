"""Recording directory unusable (LISA_RECORDING_DIR): the call goes on without a recording, with a warning,
and its record is written all the same. Real calls over the media WebSocket (cloud stack on local protocol
servers), real file-system errors: a directory that cannot be created and a disk that is full (/dev/full)."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from pathlib import Path

import pytest
from call_support import app_stream
from doubles.app_calls import call_record
from doubles.party_voice import say_on_the_line
from fault_support import CloudVoice

from api.state import Overrides

pytestmark = pytest.mark.timeout(60)


async def talk(server, call_sid: str) -> None:
    """Lisa greets, the caller says something, Lisa answers: the call goes on; then the caller hangs up."""
    async with app_stream(server, call_sid=call_sid) as call:
        await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(15, new_utterance=False, settle=0.3)
        said_ms = await say_on_the_line(call, "When are you open?", silence_ms=800)
        await call.wait_lisa_speaking(15, after_ms=said_ms)  # her answer
        await call.wait_lisa_done(15, new_utterance=False, settle=0.3)
        await call.stop()
        assert len(call.utterances) >= 2


def unusable_dirs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (LISA_RECORDING_DIR, what the warning names)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cases = {"cannot be created": (blocker / "recordings", "not recorded")}
    if os.geteuid() != 0:  # root writes into read-only directories
        ro = tmp_path / "read-only"
        ro.mkdir(mode=0o500)
        cases["read-only"] = (ro, "not recorded")
    return cases


# root writes into read-only directories: that case runs only for other users
CASES = ["cannot be created", "disk full"] + (["read-only"] if os.geteuid() != 0 else [])


@pytest.mark.parametrize("case", CASES)
async def test_call_goes_on_without_a_recording(app_server, tmp_path, caplog, case):
    call_sid = "CA" + uuid.uuid4().hex
    if case == "disk full":  # the directory is fine; the recording's own file is on a full disk
        directory = tmp_path / "recordings"
        directory.mkdir()
        (directory / f"{call_sid}.wav").symlink_to("/dev/full")
        expected = "recording not written"
    else:
        directory, expected = unusable_dirs(tmp_path)[case]
    voice = CloudVoice("When are you open?")
    async with voice.running():
        overrides = Overrides(voice_settings=voice.settings(lisa_recording_dir=str(directory)))
        server = await app_server(overrides=overrides)
        with caplog.at_level(logging.WARNING):
            await talk(server, call_sid)
            record = await call_record(server, call_sid)
    assert record["recording"] is None
    assert record["ended_by"] == "party"
    said = " ".join(line["text"] for line in record["transcript"] if line["speaker"] == "lisa")
    assert "Lisa" in said and "open" in said.lower()  # greeted, then answered the caller's question
    assert [t["text"] for t in record["transcript"] if t["speaker"] == "party"] == ["When are you open?"]
    warnings = [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and call_sid in r.getMessage()
    ]
    assert any(expected in w for w in warnings), warnings
    assert not any(r.levelno >= logging.ERROR for r in caplog.records if "record" in r.getMessage()), (
        caplog.text
    )
    if case == "disk full":
        assert (directory / f"{call_sid}.wav").is_symlink()  # nothing else was left in its place


async def test_the_next_call_is_recorded_once_the_directory_works(app_server, tmp_path):
    """Checked per call, not once at start-up: fixing the directory needs no restart."""
    blocker = tmp_path / "recordings"
    blocker.write_text("in the way")
    voice = CloudVoice("When are you open?", "When are you open?")
    async with voice.running():
        overrides = Overrides(voice_settings=voice.settings(lisa_recording_dir=str(blocker)))
        server = await app_server(overrides=overrides)
        first, second = "CA" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex
        await talk(server, first)
        assert (await call_record(server, first))["recording"] is None
        blocker.unlink()
        await talk(server, second)
        record = await call_record(server, second)
    assert record["recording"] == str(blocker / f"{second}.wav")
    assert await asyncio.to_thread(os.path.getsize, record["recording"]) > 8000  # both sides, seconds
