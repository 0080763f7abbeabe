"""The wording catalog: every language says everything, with the same blanks to fill."""

from __future__ import annotations

from string import Formatter

import pytest

from chalicelib.domain.contact import LANGUAGES
from chalicelib.services.email_wording import WORDING


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_every_language_the_service_accepts_has_wording() -> None:
    assert set(WORDING) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_key(language: str) -> None:
    every_key = set().union(*(set(words) for words in WORDING.values()))
    assert set(WORDING[language]) == every_key  # type: ignore[index]


@pytest.mark.parametrize("key", sorted(WORDING["en"]))
def test_each_text_has_the_same_blanks_in_every_language(key: str) -> None:
    blanks = {language: fields(words[key]) for language, words in WORDING.items()}
    assert len(set(map(frozenset, blanks.values()))) == 1, blanks


def test_no_text_is_empty_or_left_untranslated() -> None:
    english, french = WORDING["en"], WORDING["fr"]
    same = {key for key in english if english[key] == french[key]}
    assert same <= {"short_date_pattern"}, same  # a CLDR pattern, not words
    assert all(text.strip() for words in WORDING.values() for text in words.values())
