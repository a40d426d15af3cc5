"""Lisa's phrase files (``prompts/<lang>/phrases.yaml``): the same keys and placeholders in every language,
and the loader's answers for a phrase, a missing one and a malformed file."""

from __future__ import annotations

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
