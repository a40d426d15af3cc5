"""Benchmark: word error rate of the embedded STT on phone audio, without and with the call's context prompt.

Every ``say`` line of the voice replay scenarios (``tests/scenarios/*.yaml`` and ``../shared/scenarios``) is
spoken in the party's voice (Piper, ``PARTY_STYLE``), put on the line as a call carries it (8 kHz, the
channel impairments of :mod:`simulation.impairments` per 20 ms frame, dropped frames absent, μ-law), brought to
16 kHz as the pipeline does, and transcribed by ``local_models.recognise_short`` three ways: ``plain`` (no
context), ``always`` (the context the call would give as Whisper's prompt, ``pipelines.stt_context``: the
request's user and purpose, the callee's name once it has answered, the inbound business and its services)
and ``gated`` (what calls use: the context only when the plain transcript is unsure and the context's
transcript gains a name). Besides the scenario lines, ``name_readback`` lines have the business repeat the
outbound user's name ("So that's for Nina Vogel, right?"), what biasing is for. Conditions: clean, 25 dB and
15 dB SNR, 2 % frame drop (impaired ones with ``--seeds`` noise seeds). Reports WER overall and on names, days
and times (jiwer on normalised text: numbers as words, "p.m." as "pm"), the word confidences on name words
heard right and wrong, and decode time per utterance each way. Prints one JSON object and writes it to
``bench/results/stt_wer.json``.

    .venv/bin/python -m bench.stt_wer [--seeds 1] [--limit N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.common import RESULTS_DIR, latency_ms, shared_scenarios, write_result

RESULTS = RESULTS_DIR / "stt_wer.json"
REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "tests" / "scenarios"
CONDITIONS: dict[str, dict[str, float]] = {
    "clean": {},
    "snr_25db": {"snr_db": 25},
    "snr_15db": {"snr_db": 15},
    "drop_2pct": {"drop_rate": 0.02},
}
DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "tomorrow"}
TIME_WORDS = {
    "am", "pm", "half", "quarter", "past", "to", "noon", "midday", "oclock", "morning", "afternoon", "evening",
}  # fmt: skip
NUMBERS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}
READBACK = ["So that's for {user}, right?", "Okay, {user}, we'll see you then."]
WAYS = ("plain", "always", "gated")
NOT_NAMES = DAYS | {"i", "mr", "mrs", "ms", "dr", "lisa", "okay", "ok"}


@dataclass
class Line:
    scenario: str
    text: str
    context_prompt: str
    names: set[str]  # normalised words that belong to names (the caller's, the user's, the business's)
    kind: str = "scenario"  # or "name_readback"


def _number(n: int) -> str:
    if n < 20:
        return NUMBERS[n]
    return TENS.get(n // 10, str(n)) + ("" if n % 10 == 0 else " " + NUMBERS[n % 10])


def normalise(text: str) -> str:
    """Lower case, numbers and clock times as words, "p.m." as "pm", no punctuation."""
    text = text.lower().replace("o'clock", "oclock")
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)
    text = re.sub(r"\b(\d{1,2})[:.](\d{2})\b", lambda m: f"{m[1]} {int(m[2]) or ''}", text)
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    text = re.sub(r"\b([1-9]|1[0-2])([0-5]\d)\b", lambda m: f"{m[1]} {int(m[2]) or ''}", text)  # "930"
    text = re.sub(r"\b\d{1,2}\b", lambda m: _number(int(m[0])), text)
    text = re.sub(r"[^\w\s']|'(?!\w)|(?<!\w)'", " ", text)
    return " ".join(text.replace("-", " ").split())


def _names_in(text: str, known: list[str]) -> set[str]:
    """Words of ``text`` that belong to names: the known ones, and capitalised words not opening a sentence."""
    names = {w for name in known for w in normalise(name).split()}
    for sentence in re.split(r"(?<=[.?!,])\s+", text.strip()):
        for word in sentence.split()[1:]:
            if word[:1].isupper() and normalise(word) not in NOT_NAMES:
                names.update(normalise(word).split())
    return names


def load_lines(limit: int | None = None) -> list[Line]:
    from agent.business import load_business
    from agent.conversation import BookingRequest, Conversation, Language, Mode
    from agent.rule_nlu import callee_name
    from pipelines.stt_context import speech_context

    business = load_business()
    lines: list[Line] = []
    readback_users: set[str] = set()
    files = sorted(SCENARIOS.glob("*.yaml")) + shared_scenarios()
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        if not isinstance(data, dict) or data.get("kind") not in {"inbound", "outbound"}:
            continue
        says = [t["say"] for t in data.get("party") or [] if isinstance(t, dict) and t.get("say")]
        if data["kind"] == "outbound" and isinstance(data.get("request"), dict):
            fields = BookingRequest.__dataclass_fields__
            request = BookingRequest(**{k: v for k, v in data["request"].items() if k in fields})
            conv = Conversation(Mode.OUTBOUND, Language.EN, request=request)
        else:
            conv = Conversation(Mode.INBOUND, Language.EN)
        for i, say in enumerate(says):
            context = speech_context(conv, business)
            known = [t for t in context.terms if t[:1].isupper()]  # people and businesses, not services
            lines.append(Line(str(data.get("name") or path.stem), say, context.prompt, _names_in(say, known)))
            if i == 0 and conv.mode is Mode.OUTBOUND:
                callee = callee_name(say)  # what the brain keeps from the greeting (slots["callee"])
                if callee:
                    conv.slots["callee"] = callee
        user = conv.request.user_name if conv.request else ""
        if user and user not in readback_users:
            readback_users.add(user)
            context = speech_context(conv, business)
            for template in READBACK:
                said = template.format(user=user)
                lines.append(
                    Line(str(data.get("name")), said, context.prompt, _names_in(said, [user]), "readback")
                )
    lines = lines[:limit] if limit else lines
    return lines


def _line_audio(pcm_8k: bytes, condition: dict[str, float], seed: int) -> np.ndarray:
    """The party's 8 kHz line through the channel and μ-law, then to 16 kHz float as the pipeline takes it."""
    from pipelines.audio import pcm16_to_float
    from simulation.impairments import Channel, Impairer, speech_rms
    from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16

    impairer = Impairer(
        Channel(snr_db=condition.get("snr_db"), drop_rate=condition.get("drop_rate", 0.0), seed=seed)
    )
    impairer.set_speech_level(speech_rms(pcm_8k))
    frame = 160 * 2
    padded = pcm_8k + b"\0" * (-len(pcm_8k) % frame)
    kept = []
    for at in range(0, len(padded), frame):
        chunk = impairer.add_line_noise(padded[at : at + frame])
        if not impairer.drop():
            kept.append(ulaw_to_pcm16(pcm16_to_ulaw(chunk)))
    return pcm16_to_float(resample_pcm16(b"".join(kept), 8000, 16000))


def _score(pairs: list[tuple[str, str, set[str]]]) -> dict[str, Any]:
    """WER overall and per word class: errors on reference words of the class / those words."""
    import jiwer

    if not pairs:
        return {}
    refs = [normalise(r) for r, _, _ in pairs]
    hyps = [normalise(h) for _, h, _ in pairs]
    out = jiwer.process_words(refs, hyps)
    classes = {"names": [0, 0], "days": [0, 0], "times": [0, 0]}
    for (_, _, names), ref, chunks in zip(pairs, out.references, out.alignments, strict=True):
        for chunk in chunks:
            for i in range(chunk.ref_start_idx, chunk.ref_end_idx):
                word = ref[i]
                kinds = [
                    k
                    for k, hit in (
                        ("names", word in names),
                        ("days", word in DAYS),
                        ("times", word in TIME_WORDS or word in NUMBERS or word in TENS.values()),
                    )
                    if hit
                ]
                for kind in kinds:
                    classes[kind][1] += 1
                    classes[kind][0] += chunk.type != "equal"
    return {
        "wer": round(out.wer, 4),
        "words": sum(len(r) for r in out.references),
        **{f"{k}_wer": round(e / n, 4) if n else None for k, (e, n) in classes.items()},
        **{f"{k}_words": n for k, (_, n) in classes.items()},
    }


def _confidences(samples: list[tuple[bool, float]]) -> dict[str, Any]:
    def stats(values: list[float]) -> dict[str, Any]:
        if not values:
            return {"n": 0}
        q = np.quantile(values, [0.1, 0.5, 0.9])
        return {
            "n": len(values),
            "p10": round(float(q[0]), 3),
            "median": round(float(q[1]), 3),
            "p90": round(float(q[2]), 3),
            "below_0_6": round(sum(v < 0.6 for v in values) / len(values), 3),
        }

    return {
        "right": stats([p for ok, p in samples if ok]),
        "wrong": stats([p for ok, p in samples if not ok]),
    }


def _name_confidences(
    truth: str, names: set[str], words: tuple[tuple[str, float], ...]
) -> list[tuple[bool, float]]:
    """For each recognised word in a name position: (heard as said, its confidence). A hypothesis word counts
    as a name word when it is one, or when the aligner puts it against a reference name word."""
    import jiwer

    ref = normalise(truth)
    hyp_words = [(normalise(w), p) for w, p in words]
    hyp_words = [(w, p) for w, p in hyp_words if w]
    hyp = " ".join(w for w, _ in hyp_words)
    if not ref or not hyp:
        return []
    out = jiwer.process_words(ref, hyp)
    ref_words = out.references[0]
    # map hypothesis tokens back to recognised words (a word may normalise to several tokens: "2" -> "two")
    owner = [i for i, (w, _) in enumerate(hyp_words) for _ in w.split()]
    samples: list[tuple[bool, float]] = []
    for chunk in out.alignments[0]:
        if chunk.type == "delete":
            continue
        refs = ref_words[chunk.ref_start_idx : chunk.ref_end_idx]
        if not any(r in names for r in refs):
            continue
        seen = {owner[j] for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx) if j < len(owner)}
        samples += [(chunk.type == "equal", hyp_words[i][1]) for i in sorted(seen)]
    return samples


def run(seeds: int, limit: int | None) -> dict[str, Any]:
    from pipelines import local_models
    from simulation.scripted_party import _synthesize_8k

    lines = load_lines(limit)
    local_models.recognise_short(np.zeros(16000, dtype=np.float32))  # load and warm up
    local_models.recognise_short(np.zeros(16000, dtype=np.float32), lines[0].context_prompt, always=True)
    speech = {line.text: _synthesize_8k(line.text) for line in lines}
    kinds = ("scenario", "readback")
    result: dict[str, Any] = {
        "benchmark": "stt_wer",
        "model": "faster-whisper tiny.en (int8, CTranslate2, short window, greedy)",
        "scenario_lines": sum(line.kind == "scenario" for line in lines),
        "name_readback_lines": sum(line.kind == "readback" for line in lines),
        "scenarios": len({line.scenario for line in lines}),
        "seeds_per_impaired_condition": seeds,
        "context_tokens_median": statistics.median(
            local_models.context_token_count(line.context_prompt) for line in lines
        ),
        "conditions": {},
    }
    took: dict[str, list[float]] = {way: [] for way in WAYS}
    worse: list[dict[str, str]] = []
    for name, condition in CONDITIONS.items():
        pairs = {(k, w): [] for k in kinds for w in WAYS}
        names_conf: dict[str, list[tuple[bool, float]]] = {way: [] for way in WAYS}
        second_decodes = [0, 0]  # gated: utterances decoded again with the context, utterances
        for seed in range(seeds if condition else 1):
            for n, line in enumerate(lines):
                audio = _line_audio(speech[line.text], condition, seed * 1000 + n)
                heard: dict[str, str] = {}
                for way in WAYS:
                    context = "" if way == "plain" else line.context_prompt
                    started = time.perf_counter()
                    recognised = local_models.recognise_short(audio, context, always=way == "always")
                    took[way].append(time.perf_counter() - started)
                    heard[way] = recognised.text
                    if way == "plain":
                        second_decodes[0] += local_models.wants_context(recognised.words)
                        second_decodes[1] += 1
                    pairs[(line.kind, way)].append((line.text, recognised.text, line.names))
                    names_conf[way] += _name_confidences(line.text, line.names, recognised.words)
                errors = {way: _score([(line.text, heard[way], line.names)])["wer"] for way in WAYS}
                if errors["gated"] > errors["plain"] and len(worse) < 12:
                    worse.append({"condition": name, "said": line.text, **heard})
        result["conditions"][name] = {
            **{way: _score(pairs[("scenario", way)]) for way in WAYS},
            "name_readback": {way: _score(pairs[("readback", way)]) for way in WAYS},
            "name_word_confidence": {way: _confidences(names_conf[way]) for way in ("plain", "gated")},
            "gated_second_decode_share": round(second_decodes[0] / max(1, second_decodes[1]), 3),
        }
    result["decode_ms"] = {way: latency_ms(took[way], 1) for way in WAYS}
    result["gated_worse_than_plain"] = worse
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="noise seeds per impaired condition")
    parser.add_argument("--limit", type=int, default=None, help="only the first N lines (a quick look)")
    args = parser.parse_args()
    write_result(RESULTS, run(args.seeds, args.limit), pretty=True)


if __name__ == "__main__":
    main()
