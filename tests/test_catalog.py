"""The learner-facing catalogs: the same keys and placeholders in every language."""

from __future__ import annotations

import argparse
import re
import string
from pathlib import Path

from learngpt.commands import build_parser
from learngpt.exercises import catalog, syllabus
from learngpt.exercises.particles import NAMES
from learngpt.resources import asset


def _placeholders(value: str | list[str]) -> set[str]:
    """The fields a text is filled with (a Korean particle's `{은}` is not one)."""
    parts = value if isinstance(value, list) else [value]
    names = {name for part in parts for _, name, _, _ in string.Formatter().parse(part) if name}
    return names - set(NAMES)


def _parts(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


FALLBACKS = ("은(는)", "는(은)", "을(를)", "를(을)", "이(가)", "가(이)", "와(과)", "과(와)")
FALLBACKS += ("(으)로",)
# a value followed by a particle written out (`{file}을`, `{step}`가`): it must be `{file}{을}`;
# the copula (`{x}이어야`, `{x}입니다`) does not change after a vowel, and is left as it is
WRITTEN_OUT = re.compile(r"\{[^{}]+\}[`'\")\]]*(은|는|이|가|을|를|와|과|으로|로)(?![가-힣])")


def test_every_language_has_the_same_keys_and_placeholders():
    ko, en = catalog.catalog("ko"), catalog.catalog("en")
    assert set(ko) == set(en), set(ko) ^ set(en)
    for key in ko:
        assert type(ko[key]) is type(en[key]), key
        assert _placeholders(ko[key]) == _placeholders(en[key]), key


def test_no_particle_is_left_to_the_reader():
    """Never "은(는)": every particle after a value is chosen (`{은}`), in every catalog text and
    every file of Korean text the course ships; English has no particle placeholders."""
    for lang in catalog.LANGS:
        for key, value in catalog.catalog(lang).items():
            for part in _parts(value):
                assert not any(f in part for f in FALLBACKS), (lang, key, part)
                if lang == "ko":
                    assert not WRITTEN_OUT.search(part), (key, part)
                else:
                    assert not catalog.PARTICLE.search(part), (key, part)
    shipped = [*asset("course", "ko").rglob("*.md"), *asset("course", "ko").rglob("*.yaml")]
    assert len(shipped) > 10
    for path in shipped:
        content = path.read_text(encoding="utf-8")
        assert not any(f in content for f in FALLBACKS), path


def test_text_fills_placeholders_and_lang_here_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNGPT_LANG", "en")
    assert catalog.lang_here(tmp_path) == "en"
    monkeypatch.delenv("LEARNGPT_LANG")
    assert catalog.lang_here(tmp_path) == catalog.DEFAULT_LANG
    assert catalog.say("check.no_test_ran") == catalog.text("check.no_test_ran", "ko")


def test_lang_here_survives_a_damaged_workspace_json(monkeypatch, tmp_path):
    """A learner running pytest by hand in a workspace whose workspace.json is damaged gets the
    tests' messages in the course's language (`course check` names the damage)."""
    monkeypatch.delenv("LEARNGPT_LANG", raising=False)
    state = tmp_path / ".learngpt" / "workspace.json"
    state.parent.mkdir()
    for data in (b"[]", b'"en"', b"\xff", b"{", b'{"lang": 3}', b"null"):
        state.write_bytes(data)
        assert catalog.lang_here(tmp_path / "tests") == catalog.DEFAULT_LANG, data
    state.write_bytes(b'{"lang": "en"}')
    assert catalog.lang_here(tmp_path / "tests") == "en"


# Keys a program builds from a name rather than spells out, and where each name comes from.
def _computed_families() -> dict[str, set[str]]:
    from learngpt.exercises.probes import MISTAKES
    from learngpt.experiments import make_experiments

    parts = ("title", "teaches", "hints", "questions")  # syllabus.Step.title() etc.
    parts_of_help = ("summary", "description")
    test_6 = (asset("course", "tests", "test_6.py")).read_text(encoding="utf-8")
    return {
        "steps.": {f"{step.number}.{part}" for step in syllabus.STEPS for part in parts},
        "todos.": {todo.id for todo in syllabus.TODOS},  # syllabus.Todo.instruction()
        "status.": {"done", "failing", "waiting", "not started", "unchecked"},  # status_word()
        "claims.": set(make_experiments()),  # testkit.claim_holds()
        "numbers.": set(re.findall(r'record\(\s*"([\w-]+)"', _sources())),  # testkit.record()
        # explain.with_mistake(); tests/test_mistakes.py checks each is named on its mutation
        "mistakes.": {m.key for m in MISTAKES},
        "tests.6.props.": set(re.findall(r'^    "(\w+)": \w+,$', test_6, re.MULTILINE)),
        # commands/course.py: each action's help.NAME.summary and help.NAME.description
        "help.": {f"{name}.{part}" for name in _course_actions() for part in parts_of_help},
    }


def _course_actions() -> list[str]:
    """The names of the course's actions (start, check, ...), from its parser."""
    parser = build_parser(["course"])
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (actions,) = [a for a in commands.choices["course"]._actions if a.dest == "action"]
    return list(actions.choices)


def _sources() -> str:
    """Every file that may use a key: the package's Python (the workspace's test files among
    them) and the playground's page and script (web.yaml's keys)."""
    package = Path(catalog.__file__).resolve().parent.parent
    files = [*package.rglob("*.py"), *(package / "assets" / "web").glob("*.[hj][ts]*")]
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(files))


def test_every_key_is_used():
    sources = _sources()
    families = _computed_families()
    unused = []
    for key in catalog.catalog("en"):
        if f'"{key}"' in sources or f"'{key}'" in sources:
            continue
        prefix = next((p for p in families if key.startswith(p)), None)
        if prefix is None or key[len(prefix) :] not in families[prefix]:
            unused.append(key)
    assert unused == []
    # and each family names real keys, not guesses
    keys = catalog.catalog("ko")
    for prefix, names in families.items():
        assert sum(prefix + name in keys for name in names) >= 4, prefix
