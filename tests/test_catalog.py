"""The learner-facing catalogs: the same keys and placeholders in every language."""

from __future__ import annotations

import string

from learngpt.exercises import catalog


def _placeholders(value: str | list[str]) -> set[str]:
    parts = value if isinstance(value, list) else [value]
    return {name for part in parts for _, name, _, _ in string.Formatter().parse(part) if name}


def test_every_language_has_the_same_keys_and_placeholders():
    ko, en = catalog.catalog("ko"), catalog.catalog("en")
    assert set(ko) == set(en), set(ko) ^ set(en)
    for key in ko:
        assert type(ko[key]) is type(en[key]), key
        assert _placeholders(ko[key]) == _placeholders(en[key]), key


def test_text_fills_placeholders_and_lang_here_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNGPT_LANG", "en")
    assert catalog.lang_here(tmp_path) == "en"
    monkeypatch.delenv("LEARNGPT_LANG")
    assert catalog.lang_here(tmp_path) == catalog.DEFAULT_LANG
    assert catalog.say("check.no_test_ran") == catalog.text("check.no_test_ran", "ko")
