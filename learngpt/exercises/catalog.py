"""Learner-facing text as data: one catalog per language, in learngpt/assets/course/<lang>/.

Every `*.yaml` file in a language's folder is read and merged into one flat mapping whose keys
are the nested keys joined by dots (`check.passed`, `steps.7.title`, `mistakes.4.mask_inverted`);
a value is a string (with `{name}` placeholders for `str.format`) or a list of strings (hints).
Files split the catalog by owner, never by language: a key lives in one file, in both languages.

A Korean particle that depends on a placeholder's value is written as a placeholder of its own,
`{은}`, `{이}`, `{을}`, `{과}` or `{으로}` (or their other forms, `{는}` ...), right after what it
follows: `"{file}{을} 불러올 수 없습니다"` gives "mygpt/head_v2.py를 불러올 수 없습니다".
`text` picks the form from how the text before it ends (learngpt.exercises.particles), so no
text ever says "은(는)". Particles are not fields: tests/test_catalog.py compares the other
placeholders across languages, and checks that no Korean placeholder is followed by a particle
written out.

The workspace's tests speak the workspace's language at run time: `lang_here()` reads it from
LEARNGPT_LANG (which `course check` sets), or else from the workspace pytest runs in.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

from learngpt.exercises.particles import NAMES, particle
from learngpt.resources import asset

# libyaml's safe loader where PyYAML has it: reading a catalog is then 10x faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LANGS = ("ko", "en")
# a particle placeholder, `{은}` (not `{{은}}`, which is the text "{은}")
PARTICLE = re.compile(r"(?<!\{)\{(" + "|".join(NAMES) + r")\}(?!\})")
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
        tree = yaml.load(entry.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
        for key, value in _flatten(tree).items():
            if key in merged:
                raise ValueError(f"catalog key {key!r} appears twice in {folder}")
            merged[key] = value
    return merged


def text(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The catalog's text for `key` in `lang`, its placeholders filled from `fields`."""
    value = catalog(lang)[key]
    if isinstance(value, list):
        raise TypeError(f"catalog key {key!r} is a list; use texts()")
    return fill(value, fields)


def fill(template: str, fields: dict[str, object]) -> str:
    """`template` with its placeholders filled from `fields` (left as they are when there are no
    fields) and each particle placeholder as the form that follows the text before it."""
    pieces = PARTICLE.split(template)  # text, particle, text, ... (str.split keeps the groups)
    out = ""
    for i, piece in enumerate(pieces):
        if i % 2:
            out += particle(out, piece)
        else:
            out += piece.format(**fields) if fields else piece
    return out


def texts(key: str, lang: str = DEFAULT_LANG) -> list[str]:
    """A list-valued key (e.g. a step's hints)."""
    value = catalog(lang)[key]
    return list(value) if isinstance(value, list) else [value]


def lang_here(start: Path | None = None) -> str:
    """The language the workspace's tests speak: LEARNGPT_LANG, else the workspace's own (the
    course's when its workspace.json is damaged: a learner running pytest by hand gets the tests'
    messages, and `course check` names the damage)."""
    env = os.environ.get("LEARNGPT_LANG")
    if env in LANGS:
        return env
    for folder in [start or Path.cwd(), *(start or Path.cwd()).parents]:
        state = folder / ".learngpt" / "workspace.json"
        if state.is_file():
            try:
                saved = json.loads(state.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
                break
            lang = saved.get("lang") if isinstance(saved, dict) else None
            return lang if lang in LANGS else DEFAULT_LANG
    return DEFAULT_LANG


def say(key: str, **fields: object) -> str:
    """`text` in the language of the workspace the tests run in (for assertion messages)."""
    return text(key, lang_here(), **fields)
