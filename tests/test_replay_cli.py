"""`lisa replay` end to end: exit codes, the JSON report, report files, and `--server` mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli.main import main
from api.replay.runner import replay_all
from api.replay.scenario import load_scenario

OURS = Path(__file__).parent / "scenarios"


def _chat(tmp_path: Path, name: str, expect: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"""
name: {name}
kind: chat
language: en
clock: "2026-11-23T09:00:00+01:00"
party:
  - say: "Hi, are you open on Saturday?"
  - say: "Thanks, bye!"
expect:
{expect}
""",
        encoding="utf-8",
    )
    return path


def test_passing_scenario_exits_0_and_writes_the_reports(tmp_path: Path, capsys) -> None:
    good = _chat(tmp_path, "chat-hours", "  status: answered\n  lisa_says: [Saturday]\n  ended_by: lisa")
    out = tmp_path / "report.json"
    code = main(["replay", str(good), "--json", str(out), "--report-dir", str(tmp_path / "reports")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "PASS  chat-hours [chat] status=answered" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    entry = data["scenarios"][0]
    assert entry["passed"] is True and entry["failures"] == []
    assert entry["outcome"]["status"] == "answered"
    assert [t["speaker"] for t in entry["transcript"]] == ["lisa", "party", "lisa", "party", "lisa"]
    assert "Saturday" in " ".join(t["text"] for t in entry["transcript"] if t["speaker"] == "lisa")
    assert (tmp_path / "reports" / "chat-hours" / "transcript.txt").is_file()


def test_failing_scenario_exits_1_and_lists_what_was_seen(tmp_path: Path, capsys) -> None:
    good = _chat(tmp_path, "chat-ok", "  status: answered")
    bad = _chat(tmp_path, "chat-wrong", "  status: booked\n  lisa_says: [Sunday brunch]")
    out = tmp_path / "report.json"
    code = main(["replay", str(good), str(bad), "--json", str(out), "--concurrency", "2"])
    printed = capsys.readouterr().out
    assert code == 1
    assert "FAIL  chat-wrong" in printed and "PASS  chat-ok" in printed
    assert "status: expected 'booked', got 'answered'" in printed
    assert "lisa_says: Lisa never said 'Sunday brunch' (she said: " in printed
    assert "Hello, this is Lisa" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["passed"] for s in data["scenarios"]] == [True, False]
    assert len(data["scenarios"][1]["failures"]) == 2


def test_invalid_files_exit_2_without_replaying(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: inbound\nparty: [{say: hi, hangup: true}]\n", encoding="utf-8")
    assert main(["replay", str(bad), str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: party[0]: a party turn needs exactly one of" in err
    assert "missing.yaml: cannot read" in err


async def test_server_mode_replays_against_a_running_app(app_server, tmp_path: Path) -> None:
    server = await app_server(agent={"lisa_clock": "2026-11-23T09:00:00+01:00"})
    chat = load_scenario(_chat(tmp_path, "remote-chat", "  status: answered\n  lisa_says: [Saturday]"))
    outbound = load_scenario(OURS / "outbound_booked_physio.yaml")
    chat_result, outbound_result = await replay_all([chat, outbound], server=server.url)
    assert chat_result.passed, chat_result.failures
    assert not outbound_result.passed
    assert "outbound scenarios need the in-process runner" in outbound_result.failures[0]


@pytest.mark.voice
async def test_server_mode_inbound_call_over_the_media_websocket(app_server, monkeypatch) -> None:
    # the runner rings the server's /twilio/voice as Twilio does, signed with the server's auth token
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "replay-server-token-not-a-secret")
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURE", "true")
    server = await app_server(agent={"lisa_clock": "2026-11-23T10:00:00+01:00"})
    scenario = load_scenario(OURS / "inbound_dtmf_zero.yaml")
    (result,) = await replay_all([scenario], server=server.url)
    assert result.passed, result.failures
    assert result.ids["call_sid"].startswith("CA")
    assert result.transcript[0]["speaker"] == "lisa"
    assert any(t["text"] == "[DTMF 0]" for t in result.transcript)
    assert all(isinstance(t["start_ms"], int) and isinstance(t["end_ms"], int) for t in result.transcript)
