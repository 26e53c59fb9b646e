"""Learner-facing text as data: one catalog per language, in learngpt/assets/course/<lang>/.

Every `*.yaml` file in a language's folder is read and merged into one flat mapping whose keys
are the nested keys joined by dots (`check.passed`, `steps.7.title`, `mistakes.4.mask_inverted`);
a value is a string (with `{name}` placeholders for `str.format`) or a list of strings (hints).
Files split the catalog by owner, never by language: a key lives in one file, in both languages.

The workspace's tests speak the workspace's language at run time: `lang_here()` reads it from
LEARNGPT_LANG (which `course check` sets), or else from the workspace pytest runs in.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import yaml

from learngpt.resources import asset

LANGS = ("ko", "en")
DEFAULT_LANG = "ko"  # the course is Korean


def _flatten(tree: dict, prefix: str = "") -> dict[str, str | list[str]]:
    flat: dict[str, str | list[str]] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


@lru_cache(maxsize=len(LANGS))
def catalog(lang: str) -> dict[str, str | list[str]]:
    """Every key of `lang`'s catalog, flattened; a key found in two files is an error."""
    if lang not in LANGS:
        raise ValueError(f"no catalog for language {lang!r}; there are: {', '.join(LANGS)}")
    merged: dict[str, str | list[str]] = {}
    folder = asset("course", lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        for key, value in _flatten(yaml.safe_load(entry.read_text(encoding="utf-8")) or {}).items():
            if key in merged:
                raise ValueError(f"catalog key {key!r} appears twice in {folder}")
            merged[key] = value
    return merged


def text(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The catalog's text for `key` in `lang`, its placeholders filled from `fields`."""
    value = catalog(lang)[key]
    if isinstance(value, list):
        raise TypeError(f"catalog key {key!r} is a list; use texts()")
    return value.format(**fields) if fields else value


def texts(key: str, lang: str = DEFAULT_LANG) -> list[str]:
    """A list-valued key (e.g. a step's hints)."""
    value = catalog(lang)[key]
    return list(value) if isinstance(value, list) else [value]


def lang_here(start: Path | None = None) -> str:
    """The language the workspace's tests speak: LEARNGPT_LANG, else the workspace's own."""
    env = os.environ.get("LEARNGPT_LANG")
    if env in LANGS:
        return env
    for folder in [start or Path.cwd(), *(start or Path.cwd()).parents]:
        state = folder / ".learngpt" / "workspace.json"
        if state.is_file():
            try:
                lang = json.loads(state.read_text(encoding="utf-8")).get("lang")
            except (OSError, json.JSONDecodeError):
                break
            return lang if lang in LANGS else DEFAULT_LANG
    return DEFAULT_LANG


def say(key: str, **fields: object) -> str:
    """`text` in the language of the workspace the tests run in (for assertion messages)."""
    return text(key, lang_here(), **fields)
