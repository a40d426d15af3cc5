"""`lisa chat` as a user runs it: a real subprocess reading one message per line from a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LISA = ROOT / ".venv" / "bin" / "lisa"
CLOCK = "2026-11-23T09:00:00+01:00"


def lisa_chat(tmp_path: Path, lines: list[str], *args: str, env: dict[str, str] | None = None):
    command = [str(LISA)] if LISA.exists() else [sys.executable, "-m", "api.cli.main"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LISA_", "OPENAI_"))}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [*command, "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # no stray .env
        env=clean | (env or {}),
    )


def test_german_booking_prints_lisa_and_the_outcome_as_json(tmp_path):
    lines = [
        "Hallo, ich möchte einen Termin vereinbaren.",
        "",  # blank lines are skipped
        "Am Mittwoch um 15 Uhr, wenn das geht.",
        "Mein Name ist Erika Musterfrau.",
        "Ja, passt. Danke, tschüss!",
        "this line comes after the goodbye and is not read",
    ]
    done = lisa_chat(tmp_path, lines, "--lang", "de", "--clock", CLOCK, "--json")
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    assert out[0] == "Lisa: Hallo, hier ist Lisa von Parkside Physiotherapy. Wie kann ich Ihnen helfen?"
    assert len([line for line in out if line.startswith("Lisa: ")]) == 5
    assert any("Erika Musterfrau" in line for line in out[:-1])
    assert json.loads(out[-1]) == {
        "status": "booked",
        "appointment": "2026-11-25T15:00",
        "summary": "Termin gebucht für Erika Musterfrau am Mittwoch, 25.11., 15:00 Uhr (Physiotherapie-Termin).",
    }


def test_english_booking_typed_as_a_person_types_then_a_human(tmp_path):
    lines = ["hi! can i get an appointment tomorrow at 4pm?", "john smith", "can I talk to a real person"]
    done = lisa_chat(tmp_path, lines, "--lang", "en", "--clock", CLOCK, "--json")
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    assert any("Thank you, John Smith" in line and "November 24 at 4 pm" in line for line in out)
    assert "(handed over to a colleague of the business)" in out
    outcome = json.loads(out[-1])
    assert outcome["appointment"] == "2026-11-24T16:00" and "Transferred" in outcome["summary"]


def test_language_from_settings_and_inbound_mode(tmp_path):
    done = lisa_chat(
        tmp_path, ["Wann haben Sie am Samstag geöffnet?", "Danke, das war's"], "--mode", "inbound", "--json",
        env={"LISA_LANGUAGE": "de", "LISA_CLOCK": CLOCK},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    assert "Am Samstag haben wir geschlossen" in out[1]
    assert json.loads(out[-1])["status"] == "answered"


def test_leaving_without_a_word_is_abandoned_and_without_json_no_json(tmp_path):
    done = lisa_chat(tmp_path, [], "--clock", CLOCK, "--json")
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "abandoned"
    plain = lisa_chat(tmp_path, ["bye"], "--clock", CLOCK)
    assert plain.returncode == 0 and all(
        line.startswith("Lisa: ") for line in plain.stdout.strip().splitlines()
    )


@pytest.mark.parametrize("clock", ["garbage", "2026-13-45"])
def test_bad_clock_is_a_clear_error(tmp_path, clock):
    done = lisa_chat(tmp_path, ["hello"], "--clock", clock)
    assert done.returncode == 2
    assert "--clock" in done.stderr and "Traceback" not in done.stderr


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    import select
    import time

    out, end = b"", time.monotonic() + timeout
    while time.monotonic() < end and marker not in out:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_interactive_terminal_prompts_and_answers(tmp_path):
    """In a real (pseudo-)terminal Lisa prompts "You: " and answers each line until the goodbye."""
    master, slave = os.openpty()
    command = [str(LISA)] if LISA.exists() else [sys.executable, "-m", "api.cli.main"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISA_", "OPENAI_"))} | {
        "PYTHONPATH": str(ROOT)
    }
    proc = subprocess.Popen(
        [*command, "chat", "--clock", CLOCK, "--json"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env=env,
    )
    os.close(slave)
    try:
        assert b"You: " in _read_until(master, b"You: ")
        os.write(master, b"when are you open?\n")
        assert b"Monday to Friday from 8 am to 6 pm" in _read_until(master, b"You: ")
        os.write(master, b"bye\n")
        tail = _read_until(master, b"}")
        assert b"goodbye" in tail and b'"status": "answered"' in tail
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_llm_brain_setting_is_used_and_the_rule_brain_carries_on_when_it_is_down(tmp_path):
    env = {
        "LISA_BRAIN": "llm",
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",  # nothing listens there
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT_S": "2",
    }
    done = lisa_chat(
        tmp_path,
        ["appointment on friday at 11, my name is Ann Lee", "bye"],
        "--clock",
        CLOCK,
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip().splitlines()
    assert out[0].startswith("Lisa: Sorry, one moment.")  # the LLM brain was tried first
    assert json.loads(out[-1])["appointment"] == "2026-11-27T11:00"
    assert (
        "brain llm unavailable" in done.stderr and "sk-test-not-a-real-key" not in done.stderr + done.stdout
    )
