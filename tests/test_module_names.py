"""No module of the app binds the same top-level name twice: in the big rule modules a second ``_NAME = …``
silently replaces the first for every use below it (two such slips were caught by hand in session 10)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_top_level_name_is_assigned_twice() -> None:
    twice: dict[str, list[str]] = {}
    for path in sorted(
        p for area in ("agent", "api", "pipelines", "telephony") for p in (ROOT / area).rglob("*.py")
    ):
        counts: Counter[str] = Counter()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                counts.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                counts[node.target.id] += 1
        names = sorted(name for name, n in counts.items() if n > 1 and name != "__all__")
        if names:
            twice[str(path.relative_to(ROOT))] = names
    assert twice == {}
