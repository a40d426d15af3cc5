"""FAQ matching on paraphrased questions, before (keywords only) and after (paraphrase index + keywords).

Runs every question of ``tests/data/faq_paraphrases.yaml`` (en + de, FAQ paraphrases and questions that
must get no FAQ answer) through ``BusinessProfile.faq_entry`` of ``prompts/business.yaml``:

- ``keywords``: the profile with its ``examples`` removed, i.e. keyword matching as before;
- ``paraphrase``: the profile as it is (sentence-encoder match on the examples, keywords as fallback).

Accuracy = share of all questions with the right outcome (the right entry, or none for a non-FAQ);
recall = share of FAQ questions answered with the right entry; wrong_entry = FAQ questions answered with
another entry; false_positive_rate = share of non-FAQ questions that got an FAQ answer. Latency per
question after a warm-up; load = encoder load + embedding the examples (once per process).

    .venv/bin/python -m bench.faq_matching

JSON to stdout and ``bench/results/faq_matching.json``.
"""

from __future__ import annotations

import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from agent.business import BusinessProfile, load_business
from bench.common import RESULTS_DIR, latency_ms, write_result

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "faq_paraphrases.yaml"
RESULTS = RESULTS_DIR / "faq_matching.json"


def load_questions(path: Path = DATA) -> list[dict[str, Any]]:
    """The labelled questions: ``{"text", "lang", "faq"}`` with ``faq`` an entry key or None."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]


def evaluate(profile: BusinessProfile, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy figures and per-question latency of ``profile.faq_entry`` on ``questions``."""
    start = time.perf_counter()
    profile.warm_up()
    load_s = time.perf_counter() - start
    profile.faq_entry("warm up")
    got, seconds = [], []
    for q in questions:
        start = time.perf_counter()
        entry = profile.faq_entry(q["text"])
        seconds.append(time.perf_counter() - start)
        got.append(entry.key if entry is not None else None)
    pos = [i for i, q in enumerate(questions) if q["faq"]]
    neg = [i for i, q in enumerate(questions) if not q["faq"]]
    right = [got[i] == q["faq"] for i, q in enumerate(questions)]
    misses = [
        {"text": q["text"], "expected": q["faq"], "got": got[i]}
        for i, q in enumerate(questions)
        if not right[i]
    ]
    return {
        "questions": len(questions),
        "faq_questions": len(pos),
        "non_faq_questions": len(neg),
        "accuracy": round(sum(right) / len(questions), 3),
        "recall": round(sum(right[i] for i in pos) / len(pos), 3),
        "wrong_entry": round(sum(got[i] is not None and not right[i] for i in pos) / len(pos), 3),
        "false_positive_rate": round(sum(got[i] is not None for i in neg) / len(neg), 3),
        "by_language": {
            lang: round(
                sum(right[i] for i, q in enumerate(questions) if q["lang"] == lang)
                / sum(1 for q in questions if q["lang"] == lang),
                3,
            )
            for lang in ("en", "de")
        },
        "load_s": round(load_s, 3),
        "latency": latency_ms(seconds),
        "misses": misses,
    }


def main() -> None:
    questions = load_questions()
    after = load_business()
    before = load_business()
    before.faq = [replace(entry, examples={}) for entry in before.faq]
    result = {
        "data": str(DATA.relative_to(ROOT)),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "keywords": evaluate(before, questions),
        "paraphrase": evaluate(after, questions),
    }
    write_result(RESULTS, result, pretty=True)


if __name__ == "__main__":
    main()
