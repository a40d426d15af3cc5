"""`.env.example` documents every setting: each field of every settings class in the product packages has
its ``NAME=`` line (the house rule; a new setting without one fails here)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "api", "pipelines", "telephony", "simulation")


def settings_modules() -> list[str]:
    """Modules of the product packages that define a class deriving from ``BaseSettings`` (read, not imported)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(
                isinstance(node, ast.ClassDef)
                and any(isinstance(b, ast.Name) and b.id == "BaseSettings" for b in node.bases)
                for node in tree.body
            ):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variable each field of ``cls`` is read from."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    names = set()
    for field, info in cls.model_fields.items():
        alias = info.validation_alias or info.alias
        names.add((alias if isinstance(alias, str) else prefix + field).upper())
    return names


def test_every_setting_has_a_line_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text("utf-8"), re.M))
    modules = settings_modules()
    assert "api.settings" in modules and "api.console.settings" in modules, modules
    missing = {}
    for name in modules:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, BaseSettings) and cls.__module__ == name:
                absent = sorted(env_names(cls) - documented)
                if absent:
                    missing[f"{name}.{cls.__name__}"] = absent
    assert not missing, f"settings without a line in .env.example: {missing}"
