"""Run every benchmark one after another (`make bench`); each writes its own ``bench/results/<name>.json``.

    .venv/bin/python -m bench.run_all [NAME ...]

Benchmarks run alone, in separate processes, so that they do not disturb each other's figures. The
combined results go to ``bench/results/all.json`` with the machine they were measured on.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BENCHMARKS = ["when", "rule_brain", "llm_brain", "media_stream", "chat_bench", "api_bench", "requests", "voice_bench",
              "cloud_bench", "cloud_bench_2_workers", "replay", "fuzz_api"]  # fmt: skip
# a benchmark run with arguments: name → (module, arguments, result file)
VARIANTS = {"cloud_bench_2_workers": ("cloud_bench", ["--workers", "2"], "cloud_2_workers")}


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    combined: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": {},
    }
    failed = []
    for name in names:
        print(f"== bench.{name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        module, args, result = VARIANTS.get(name, (name, [], name.removesuffix("_bench")))
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{module}", *args], stdout=subprocess.DEVNULL, check=False
        )
        result_file = RESULTS / f"{result}.json"
        if done.returncode != 0 or not result_file.exists():
            failed.append(name)
            continue
        combined["results"][name] = {
            "seconds": round(time.monotonic() - started, 1),
            "figures": json.loads(result_file.read_text(encoding="utf-8")),
        }
    (RESULTS / "all.json").write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
