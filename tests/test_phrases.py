"""Lisa's phrase files (``prompts/<lang>/phrases.yaml``): the same keys and placeholders in every language,
every phrase the code asks for exists and none is unused, and the loader's answers for a phrase, a missing one
and a malformed file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent import phrases
from agent.conversation import Language
from agent.phrases import PhraseError, phrase, phrase_table, placeholders


def test_every_language_of_lisa_has_a_phrase_file() -> None:
    assert set(phrases.languages()) == {str(lang) for lang in Language}


def test_every_language_has_the_same_keys_as_english() -> None:
    english = set(phrase_table("en"))
    assert len(english) > 100
    for lang in phrases.languages():
        keys = set(phrase_table(lang))
        assert keys == english, f"{lang}: missing {sorted(english - keys)}, extra {sorted(keys - english)}"


def test_every_phrase_has_the_same_placeholders_in_every_language() -> None:
    english = phrase_table("en")
    for lang in phrases.languages():
        table = phrase_table(lang)
        differ = {
            key: (sorted(placeholders(english[key])), sorted(placeholders(table[key])))
            for key in english
            if placeholders(english[key]) != placeholders(table[key])
        }
        assert not differ, f"{lang}: placeholders differ from English: {differ}"


def test_no_phrase_is_empty_and_none_differs_between_languages_by_accident() -> None:
    for lang in phrases.languages():
        assert all(text.strip() for text in phrase_table(lang).values()), lang
    same = {k for k, v in phrase_table("de").items() if v == phrase_table("en")[k]}
    assert same <= {"outbound.spell"}  # "{name}: {letters}." reads the same in both


def test_a_phrase_is_filled_and_an_unknown_language_speaks_english() -> None:
    assert phrase("de", "inbound.greeting", business="Parkside") == (
        "Hallo, hier ist Lisa von Parkside. Wie kann ich Ihnen helfen?"
    )
    assert phrase(Language.EN, "call.reprompt") == "Are you still there?"
    assert phrase("fr", "call.reprompt") == phrase("en", "call.reprompt")


def test_a_missing_phrase_or_field_names_what_is_missing() -> None:
    with pytest.raises(PhraseError, match=r"'inbound\.nope'.*en/phrases\.yaml"):
        phrase("en", "inbound.nope")
    with pytest.raises(KeyError, match="business"):
        phrase("en", "inbound.greeting")


def test_the_files_are_read_once() -> None:
    assert phrase_table("de") is phrase_table(Language.DE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list\n", "expected sections"),
        ("inbound: hello\n", "section 'inbound'"),
        ("inbound:\n  greeting: {business}\n", r"inbound\.greeting must be a name and a quoted text"),
        ("inbound:\n  no: 'a YAML 1.1 boolean key'\n", r"inbound\.False must be a name"),
    ],
)
def test_a_malformed_phrase_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "phrases.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(phrases, "PROMPTS_DIR", tmp_path)
    phrases._load.cache_clear()
    try:
        with pytest.raises(PhraseError, match=message):
            phrases._load("xx")
    finally:
        phrases._load.cache_clear()


ROOT = Path(__file__).resolve().parents[1]
# helpers that prefix a section to the name they are given: (module, function or method name) -> section
SECTION_HELPERS = {
    ("agent/rule_brain.py", "self.t"): "inbound",
    ("agent/rule_brain.py", "say"): "inbound",
    ("agent/rule_outbound.py", "self.t"): "outbound",
    ("agent/call_situations.py", "_t"): "phone",
}


def _code() -> dict[str, ast.Module]:
    files = [p for area in ("agent", "pipelines", "api") for p in sorted((ROOT / area).rglob("*.py"))]
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in files}


def _names(node: ast.expr) -> list[str]:
    """The literal names an argument can be ("a", or "a" if x else "b"); none for anything computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _names(node.body) + _names(node.orelse)
    return []


def test_every_phrase_the_code_asks_for_exists() -> None:
    table = phrase_table("en")
    asked: set[str] = set()
    for path, tree in _code().items():
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func = call.func
            name = getattr(func, "id", "")
            if isinstance(func, ast.Attribute):
                name = f"self.{func.attr}" if getattr(func.value, "id", "") == "self" else func.attr
            if name == "phrase" and len(call.args) >= 2:
                asked.update(_names(call.args[1]))
            section = SECTION_HELPERS.get((path, name))
            if section and call.args:
                first = call.args[1] if name == "say" and len(call.args) > 1 else call.args[0]
                asked.update(f"{section}.{key}" for key in _names(first))
    assert len(asked) > 100
    assert sorted(asked - set(table)) == []


def test_no_phrase_is_left_unused() -> None:
    literals = {
        n.value
        for tree in _code().values()
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    unused = [
        key for key in phrase_table("en") if key not in literals and key.split(".", 1)[1] not in literals
    ]
    assert unused == []
