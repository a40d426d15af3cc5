"""Lisa's fixed phrases, one plain file per language (``prompts/<lang>/phrases.yaml``), each loaded once.

A phrase is named ``"<section>.<name>"`` (``"inbound.greeting"``, ``"call.reprompt"``) and filled with
``str.format`` fields: ``phrase("de", "inbound.greeting", business="Parkside")``. A language without a file
of its own speaks English. Only what Lisa says lives there; what she understands stays in the code.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
FILE_NAME = "phrases.yaml"
DEFAULT_LANGUAGE = "en"


class PhraseError(LookupError):
    """A phrase file is malformed or a phrase is missing (the message names the file and the key)."""


def phrase_file(lang: str) -> Path:
    """The phrase file of ``lang`` (it may not exist)."""
    return PROMPTS_DIR / lang / FILE_NAME


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages with a phrase file, sorted (looked up once)."""
    return tuple(sorted(p.parent.name for p in PROMPTS_DIR.glob(f"*/{FILE_NAME}")))


def _language(lang: object) -> str:
    code = str(lang)
    return code if code in languages() else DEFAULT_LANGUAGE


@lru_cache(maxsize=8)
def _load(lang: str) -> Mapping[str, str]:
    path = phrase_file(lang)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PhraseError(f"{path}: expected sections of phrases, got {type(data).__name__}")
    table: dict[str, str] = {}
    for section, entries in data.items():
        if not isinstance(section, str) or not isinstance(entries, dict):
            raise PhraseError(f"{path}: section {section!r} must be a name with phrases under it")
        for name, text in entries.items():
            if not isinstance(name, str) or not isinstance(text, str):
                raise PhraseError(f"{path}: {section}.{name} must be a name and a quoted text")
            table[f"{section}.{name}"] = text
    return MappingProxyType(table)


def phrase_table(lang: object) -> Mapping[str, str]:
    """Every phrase of ``lang`` (English when it has no file), by ``"<section>.<name>"``, unfilled."""
    return _load(_language(lang))


def phrase(lang: object, key: str, **fields: object) -> str:
    """The phrase ``key`` in ``lang`` with its ``{placeholders}`` filled from ``fields``."""
    code = _language(lang)
    try:
        text = _load(code)[key]
    except KeyError:
        raise PhraseError(f"no phrase {key!r} in {phrase_file(code)}") from None
    return text.format(**fields)


def placeholders(text: str) -> frozenset[str]:
    """The names of the ``{placeholders}`` in a phrase."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field)
