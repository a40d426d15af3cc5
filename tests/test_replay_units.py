"""Replay harness pieces: the scenario loader, the expectation checker, channel impairments and reports."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from prerequisites import require_shared_scenarios, shared_scenarios

from api.replay.expectations import check
from api.replay.report import class_summary, report_json, stereo_wav, write_json, write_scenario_files
from api.replay.result import ScenarioResult
from api.replay.scenario import Expect, ScenarioError, load_scenario, load_scenarios, parse_scenario
from simulation.impairments import Channel, Impairer, speech_rms

OURS = Path(__file__).parent / "scenarios"

# ------------------------------------------------------------------------------------------ loader


def test_every_scenario_file_loads() -> None:
    files = sorted(OURS.glob("*.yaml")) + shared_scenarios()
    scenarios = load_scenarios(files)
    assert len(scenarios) == len(files) >= 20
    names = {s.name for s in scenarios}
    assert len(names) == len(scenarios)
    require_shared_scenarios()  # ours loaded; without ../shared/scenarios: a skip (locally), a failure (CI=true)


def test_all_fields_of_scenarios_md_are_read(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "q.wav").write_bytes(b"RIFF")
    path = tmp_path / "full.yaml"
    path.write_text(
        """
name: outbound-dentist-simple
kind: outbound
language: en
clock: "2026-11-23T09:15:00+01:00"
timezone: Europe/Berlin
request:
  request_id: 3f0c7c1e-8a52-4a3e-9d1b-0d6a2f1c9b11
  user_id: 9b2d4c8e-1f3a-4b5c-8d7e-6f5a4b3c2d1e
  title: Book a dental cleaning
  description: I need an appointment for a dental cleaning
  callback_number: "+49 30 1234567"
  number_to_call: "+49 30 7654321"
  preferred_time: next week, Monday 10-12
  user_profile: {username: Max Mustermann, city: Berlin, country: Germany}
party:
  - say: "Good morning, Miller dental practice, how can I help you?"
  - audio: recordings/q.wav
  - silence_ms: 6000
  - say: "Sorry, I have to go."
    barge_in_after_ms: 800
  - dtmf: "0"
  - hangup: true
channel: {snr_db: 25, drop_rate: 0.02, jitter_ms: 40}
expect:
  status: booked
  appointment: "2026-11-30T10:30"
  events_include: [request_received, call_started, booking_confirmed, call_completed]
  lisa_says: ["Max Mustermann"]
  lisa_never_says: ["as an AI"]
  summary_contains: ["10:30"]
  max_turn_latency_ms: 1500
  ended_by: lisa
our_own_field: kept
""",
        encoding="utf-8",
    )
    s = load_scenario(path)
    assert s.kind == "outbound" and s.first_speaker == "party"
    assert [t.action for t in s.party] == ["say", "audio", "silence_ms", "say", "dtmf", "hangup"]
    assert s.party[3].barge_in_after_ms == 800
    assert s.channel is not None and s.channel.channel() == Channel(snr_db=25, drop_rate=0.02, jitter_ms=40)
    assert s.expect.max_turn_latency_ms == 1500 and s.expect.ended_by == "lisa"
    assert s.request and s.request["user_profile"]["username"] == "Max Mustermann"
    assert s.model_extra == {"our_own_field": "kept"}
    assert s.base_dir == tmp_path.resolve()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["a list"], "a scenario is a YAML mapping"),
        ({"kind": "chat", "party": [{"say": "hi"}]}, "name: Field required"),
        ({"name": "x", "kind": "video"}, "kind: Input should be 'outbound', 'inbound' or 'chat'"),
        ({"name": "x", "kind": "chat", "language": "fr", "party": [{"say": "hi"}]}, "language:"),
        ({"name": "x", "kind": "inbound", "party": [{"say": "a", "hangup": True}]}, "party[0]: a party turn"),
        ({"name": "x", "kind": "inbound", "party": [{"shout": "a"}]}, "party[0]: a party turn needs exactly"),
        ({"name": "x", "kind": "inbound", "clock": "tomorrow"}, "clock: must be an ISO datetime"),
        ({"name": "x", "kind": "inbound", "timezone": "Mars/Olympus"}, "timezone: unknown timezone"),
        ({"name": "x", "kind": "outbound"}, "needs a 'request'"),
        (
            {"name": "x", "kind": "outbound", "request": {"request_id": "r"}},
            "request: missing number_to_call",
        ),
        ({"name": "x", "kind": "chat", "party": [{"silence_ms": 10}]}, "at least one 'say'"),
        ({"name": "x", "kind": "inbound", "expect": {"appointment": "30.11.2026"}}, "expect.appointment"),
        ({"name": "x", "kind": "inbound", "expect": {"ended_by": "carrier"}}, "expect.ended_by"),
        ({"name": "x", "kind": "inbound", "channel": {"drop_rate": 1.5}}, "channel.drop_rate"),
    ],
)
def test_invalid_scenarios_get_a_clear_error(data: object, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, "bad.yaml")
    assert str(err.value).startswith("bad.yaml: ")
    assert message in str(err.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    missing_audio = tmp_path / "audio.yaml"
    missing_audio.write_text("name: a\nkind: inbound\nparty: [{audio: nope.wav}]\n", encoding="utf-8")
    dup1, dup2 = tmp_path / "d1.yaml", tmp_path / "d2.yaml"
    for p in (dup1, dup2):
        p.write_text("name: same\nkind: chat\nparty: [{say: hi}]\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match=r"party\[0\]\.audio: file not found"):
        load_scenario(missing_audio)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.yaml")
    with pytest.raises(ScenarioError) as err:
        load_scenarios([broken, dup1, dup2])
    text = str(err.value)
    assert "broken.yaml" in text and "name 'same' is also used by" in text


# ------------------------------------------------------------------------------------------ checker


def _result(**values: object) -> ScenarioResult:
    result = ScenarioResult("s", "inbound")
    for key, value in values.items():
        setattr(result, key, value)
    return result


def test_checker_passes_when_everything_holds() -> None:
    expect = Expect(
        status="booked",
        appointment="2026-11-30T10:30",
        events_include=["booking_confirmed"],
        lisa_says=["max mustermann"],
        lisa_never_says=["as an AI"],
        summary_contains=["10:30"],
        max_turn_latency_ms=1500,
        ended_by="lisa",
    )
    result = _result(
        outcome={"status": "booked", "appointment": "2026-11-30T10:30", "summary": "Booked Monday 10:30"},
        events=["request_received", "booking_confirmed"],
        transcript=[
            {"speaker": "party", "text": "as an AI", "start_ms": 0, "end_ms": 1},
            {"speaker": "lisa", "text": "The name is Max Mustermann.", "start_ms": 2, "end_ms": 3},
        ],
        turn_latency_ms=[700, 1500],
        ended_by="lisa",
    )
    assert check(expect, result) == []


def test_checker_lists_each_unmet_expectation_with_what_was_seen() -> None:
    expect = Expect(
        status="booked",
        appointment="2026-11-30T10:30",
        events_include=["booking_confirmed", "call_completed"],
        lisa_says=["Max Mustermann"],
        lisa_never_says=["as an AI"],
        summary_contains=["10:30"],
        max_turn_latency_ms=1500,
        ended_by="lisa",
        lisa_interrupted=True,
    )
    result = _result(
        outcome={"status": "failed", "appointment": None, "summary": "No slot"},
        events=["call_completed"],
        transcript=[{"speaker": "lisa", "text": "As an AI I cannot help.", "start_ms": 0, "end_ms": 1}],
        turn_latency_ms=[900, 1800, 2100],
        ended_by="party",
    )
    failures = check(expect, result)
    assert failures == [
        "status: expected 'booked', got 'failed'",
        "appointment: expected '2026-11-30T10:30', got None",
        "events_include: no 'booking_confirmed' event (events: call_completed)",
        "lisa_says: Lisa never said 'Max Mustermann' (she said: 'As an AI I cannot help.')",
        "lisa_never_says: Lisa said 'as an AI' (she said: 'As an AI I cannot help.')",
        "summary_contains: summary lacks '10:30' (summary: 'No slot')",
        "max_turn_latency_ms: 2 turn(s) over 1500 ms (turn 2: 1800 ms, turn 3: 2100 ms)",
        "lisa_interrupted: expected True, saw no clear",
        "ended_by: expected 'lisa', got 'party'",
    ]
    # without enforcing speed only the measurement itself is required; chats have no audio keys
    assert not any("latency" in f for f in check(expect, result, latency=False))
    assert "max_turn_latency_ms: no turn latency measured (limit 1500 ms)" in check(
        expect, _result(turn_latency_ms=[]), latency=False
    )
    assert not any("latency" in f or "interrupted" in f for f in check(expect, result, voice=False))


# ------------------------------------------------------------------------------------------ impairments


def test_drop_rate_is_seeded_and_close_to_the_rate() -> None:
    a = Impairer(Channel(drop_rate=0.1, seed=42))
    b = Impairer(Channel(drop_rate=0.1, seed=42))
    drops_a = [a.drop() for _ in range(5000)]
    assert drops_a == [b.drop() for _ in range(5000)]
    assert 0.08 < sum(drops_a) / 5000 < 0.12
    assert not any(Impairer(Channel()).drop() for _ in range(100))


def test_noise_has_the_requested_snr() -> None:
    rng = np.random.default_rng(1)
    speech = (np.sin(np.arange(8000) / 5) * 6000 + rng.normal(0, 10, 8000)).astype(np.int16).tobytes()
    imp = Impairer(Channel(snr_db=20, seed=1))
    imp.set_speech_level(speech_rms(speech))
    noisy = np.frombuffer(imp.add_line_noise(speech), dtype=np.int16).astype(np.float64)
    clean = np.frombuffer(speech, dtype=np.int16).astype(np.float64)
    snr = 20 * np.log10(np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean((noisy - clean) ** 2)))
    assert 19 < snr < 21
    # silence on the line gets the same hiss (the level of the party's speech minus 20 dB)
    hiss = np.frombuffer(imp.add_line_noise(bytes(16000)), dtype=np.int16).astype(np.float64)
    assert abs(np.sqrt(np.mean(hiss**2)) - imp.noise_sigma()) < 0.1 * imp.noise_sigma()
    assert Impairer(Channel()).add_line_noise(speech) == speech


def test_jitter_is_late_by_at_most_jitter_ms_and_keeps_order() -> None:
    imp = Impairer(Channel(jitter_ms=40, seed=9))
    nominal = [i * 0.02 for i in range(2000)]
    due = [imp.delivery_time(t) for t in nominal]
    late = np.array(due) - np.array(nominal)
    assert (late >= 0).all() and (late <= 0.040 + 1e-9).all()
    assert all(b >= a for a, b in zip(due, due[1:], strict=False))
    gaps = np.diff(due)
    assert (gaps < 0.005).sum() > 100  # bursts
    assert Impairer(Channel()).delivery_time(1.5) == 1.5


def test_channel_rejects_impossible_values() -> None:
    with pytest.raises(ValueError):
        Channel(drop_rate=1.0)
    with pytest.raises(ValueError):
        Channel(jitter_ms=-1)


# ------------------------------------------------------------------------------------------ reports


def _voice_result() -> ScenarioResult:
    tone = (np.sin(np.arange(800) / 3) * 8000).astype(np.int16).tobytes()  # 100 ms at 8 kHz
    return _result(
        passed=True,
        outcome={"status": "answered", "appointment": None, "summary": "Questions answered."},
        transcript=[
            {"speaker": "lisa", "text": "Hello, this is Lisa.", "start_ms": 0, "end_ms": 100},
            {"speaker": "party", "text": "Bye.", "start_ms": 500, "end_ms": 600},
        ],
        turn_latency_ms=[640],
        duration_ms=1000,
        party_audio=[(500.0, tone)],
        lisa_audio=[(0.0, tone), (900.0, tone)],
        server_turns=[
            {
                "user_end_ms": 600,
                "stt_final_ms": 800,
                "llm_first_ms": 810,
                "tts_first_ms": 1000,
                "first_audio_out_ms": 1010,
                "latency_ms": 410,
            },
        ],  # fmt: skip
        party_turn_ends_ms=[600.0],
        lisa_first_audio_ms=[1240.0],
    )


def test_stereo_wav_puts_the_party_left_and_lisa_right_in_time() -> None:
    with wave.open(io.BytesIO(stereo_wav(_voice_result())), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)

    def active(channel: int) -> list[int]:
        blocks = frames[: len(frames) // 400 * 400, channel].reshape(-1, 400).astype(float)
        return [i for i, b in enumerate(np.abs(blocks).mean(axis=1)) if b > 1000]  # 50 ms blocks

    assert active(0) == [10, 11]  # party: 500-600 ms
    assert active(1) == [0, 1, 18, 19]  # Lisa: 0-100 ms and 900-1000 ms


def test_report_json_has_the_shape_of_scenarios_md(tmp_path: Path) -> None:
    result = _voice_result()
    path = write_json(tmp_path / "out" / "report.json", [result])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == report_json([result])
    entry = data["scenarios"][0]
    for key in ("name", "passed", "failures", "outcome", "transcript", "turn_latency_ms", "duration_ms"):
        assert key in entry
    assert set(entry["outcome"]) == {"status", "appointment", "summary"}
    assert entry["transcript"][0] == {
        "speaker": "lisa",
        "text": "Hello, this is Lisa.",
        "start_ms": 0,
        "end_ms": 100,
    }


def test_report_dir_has_wav_transcript_and_timeline(tmp_path: Path) -> None:
    written = {p.name for p in write_scenario_files(tmp_path, _voice_result())}
    assert written == {"call.wav", "transcript.txt", "result.json", "timeline.png"}
    folder = tmp_path / "s"
    assert "lisa: Hello, this is Lisa." in (folder / "transcript.txt").read_text(encoding="utf-8")
    png = (folder / "timeline.png").read_bytes()
    # a real PNG of a sensible size, drawn by matplotlib
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(png) < 500_000
    with Image.open(folder / "timeline.png") as image:
        assert image.format == "PNG" and image.size[0] == 900 and 150 < image.size[1] < 600
        # the STT segment of turn 1 is drawn in its colour, and so is the first audio the party heard
        colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=100000)}
        assert (91, 141, 239) in colours and (120, 120, 120) in colours
    chat = ScenarioResult("c", "chat", passed=True)
    assert {p.name for p in write_scenario_files(tmp_path, chat)} == {"transcript.txt", "result.json"}


# ------------------------------------------------------------------------------------------ runner helpers


def test_outcomes_and_events_are_read_from_each_api_shape() -> None:
    from api.replay.runner import _event_types, _outcome

    session = {
        "status": "ended",
        "outcome": {"status": "booked", "appointment": "2026-11-25T15:00", "summary": "x"},
    }
    assert _outcome(session) == {"status": "booked", "appointment": "2026-11-25T15:00", "summary": "x"}
    request = {
        "status": "booked",
        "appointment": "2026-11-30T10:30:00+01:00",
        "summary": "Booked",
        "events": [
            {"type": "request_received", "message": "m"},
            {"type": "booking_confirmed", "message": "m"},
        ],
    }
    assert _outcome(request) == {"status": "booked", "appointment": "2026-11-30T10:30", "summary": "Booked"}
    assert _event_types(request) == ["request_received", "booking_confirmed"]
    assert _outcome({}) == {"status": None, "appointment": None, "summary": ""}
    assert _event_types({"events": ["call_started", 3]}) == ["call_started"]


def test_in_process_replays_never_dial_real_numbers(monkeypatch) -> None:
    from api.cli.inprocess_server import loopback_telephony
    from api.replay.local_server import scenario_settings

    monkeypatch.setenv("LISA_TELEPHONY", "twilio")
    monkeypatch.setenv("SUPABASE_URL", "https://example.supabase.co")
    with loopback_telephony():
        from telephony.settings import TwilioSettings

        assert TwilioSettings().lisa_telephony == "loopback"
    assert TwilioSettings().lisa_telephony == "twilio"
    scenario = parse_scenario(
        {"name": "x", "kind": "inbound", "clock": "2026-11-23T09:00:00+01:00", "language": "en"}
    )
    api, agent = scenario_settings(scenario, 8123, "sqlite:///x.db")
    assert (api.port, api.supabase_url, api.auth_enabled, api.public_url) == (8123, None, False, None)
    assert (agent.lisa_clock, agent.lisa_language) == ("2026-11-23T09:00:00+01:00", "en")


def test_class_summary_counts_each_scenario_under_every_class_it_names(tmp_path: Path) -> None:
    chat = {"kind": "chat", "party": [{"say": "hi"}]}
    scenarios = [
        parse_scenario({**chat, "name": "a", "classes": ["loops", "several_offers"]}),
        parse_scenario({**chat, "name": "b", "classes": "loops"}),
        parse_scenario({**chat, "name": "c"}),
    ]
    results = [ScenarioResult("a", "chat", passed=True), ScenarioResult("b", "chat", passed=False)]
    summary = class_summary(scenarios, results)
    assert summary == {
        "loops": {"passed": 1, "total": 2, "failed": ["b"]},
        "several_offers": {"passed": 1, "total": 1, "failed": []},
    }
    data = json.loads(write_json(tmp_path / "r.json", results, summary).read_text(encoding="utf-8"))
    assert data["by_class"] == summary


def test_scenarios_md_fields_for_menus_and_voicemail_are_accepted() -> None:
    scenario = parse_scenario(
        {
            "name": "ivr",
            "kind": "outbound",
            "request": {"request_id": "r1", "number_to_call": "+49 30 1234567"},
            "answered_by": "machine_end_beep",
            "party": [{"say": "For appointments press 1.", "expect_dtmf": "1"}, {"hangup": True}],
            "expect": {"dtmf_sent": ["1"], "status": "waiting_for_callback"},
        }
    )
    assert scenario.party[0].say == "For appointments press 1."
