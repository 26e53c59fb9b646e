"""The named mistakes (learngpt/exercises/diagnose.py) on the mutations of tests/mistake_catalog.py.

For every mutation of the answer key: the test named in the catalog fails on it (with an
assertion or an error in the learner's own code, never a crash of the checker's helpers), and
the diagnosis names exactly that mistake. On correct code (the answer key and the deliberately
different solutions of tests/course_alternatives) no mistake is named. All of it in this
process: the workspace's `mygpt` package is imported afresh for each mutation.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from learngpt.config import load_config
from learngpt.exercises import catalog, diagnose, report
from learngpt.exercises.syllabus import STEPS
from learngpt.exercises.workspace import start
from learngpt.resources import course_config_path, shakespeare_path
from tests.mistake_catalog import MUTATIONS, Mutation

ALTERNATIVES = Path(__file__).parent / "course_alternatives"


@pytest.fixture(scope="module")
def answer_key(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("answers")
    start(workspace, solutions=True, lang="en")
    return workspace


def _forget_mygpt() -> None:
    for name in [n for n in sys.modules if n == "mygpt" or n.startswith("mygpt.")]:
        del sys.modules[name]


@contextmanager
def learner_package(workspace: Path) -> Iterator[object]:
    """The workspace's `mygpt`, freshly imported (and forgotten afterwards)."""
    _forget_mygpt()
    sys.path.insert(0, str(workspace))
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # an edit within the same second must not meet a stale .pyc
    importlib.invalidate_caches()
    try:
        yield importlib.import_module("mygpt")
    finally:
        sys.dont_write_bytecode = dont_write
        sys.path.remove(str(workspace))
        _forget_mygpt()


@contextmanager
def mutated(workspace: Path, mutation: Mutation) -> Iterator[None]:
    path = workspace / "mygpt" / mutation.file
    original = path.read_text(encoding="utf-8")
    text = original
    for old, new in mutation.edits:
        assert text.count(old) == 1, f"{mutation.key}: {old!r} is not once in {mutation.file}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


FIXTURES = {
    "course_config": lambda: load_config(course_config_path()),
    "shakespeare": lambda: shakespeare_path().read_text(encoding="utf-8"),
}


def run_course_test(workspace: Path, step: int, name: str, args: dict) -> BaseException | None:
    """Call one test function of the workspace's tests/test_<step>.py; what it raised, if any."""
    path = workspace / "tests" / f"test_{step}.py"
    spec = importlib.util.spec_from_file_location(f"course_test_{step}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test = getattr(module, name)
    kwargs = {p: FIXTURES[p]() for p in inspect.signature(test).parameters if p in FIXTURES}
    try:
        test(**kwargs, **args)
    except Exception as exc:
        return exc
    return None


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.key for m in MUTATIONS])
def test_each_mistake_fails_its_step_and_is_named(answer_key, mutation):
    with mutated(answer_key, mutation), learner_package(answer_key) as mygpt:
        failure = run_course_test(answer_key, mutation.step, mutation.test, mutation.args)
        named = diagnose.diagnose(mutation.step, mygpt)
    assert failure is not None, f"{mutation.test} passes with the mistake {mutation.key}"
    # The checker's helpers never crash on a learner's values: a failure is a claim that does
    # not hold, or an error raised inside the learner's own code.
    assert isinstance(failure, AssertionError) or report.learner_frames(failure.__traceback__), (
        repr(failure)
    )
    assert named == mutation.key
    for lang in catalog.LANGS:
        assert catalog.text(f"mistakes.{named}", lang)


def test_the_catalog_has_at_least_two_mistakes_a_step_and_every_probe_a_mutation():
    keys = [m.key for m in MUTATIONS]
    assert len(keys) == len(set(keys)) >= 25
    assert sorted(keys) == sorted(m.key for m in diagnose.MISTAKES)
    for step in STEPS:
        assert sum(m.step == step.number for m in diagnose.MISTAKES) >= 2, step.number
    messages = {key for key in catalog.catalog("en") if key.startswith("mistakes.")}
    assert messages == {f"mistakes.{key}" for key in keys}


@pytest.mark.parametrize("alternatives", [False, True], ids=["answer key", "alternatives"])
def test_no_mistake_is_named_on_correct_code(answer_key, tmp_path, alternatives):
    workspace = answer_key
    if alternatives:
        workspace = tmp_path / "different"
        shutil.copytree(answer_key, workspace)
        for alternative in ALTERNATIVES.glob("*.py"):
            shutil.copy(alternative, workspace / "mygpt" / alternative.name)
    with learner_package(workspace) as mygpt:
        named = {step.number: diagnose.diagnose(step.number, mygpt) for step in STEPS}
    assert named == {step.number: None for step in STEPS}


def test_a_probe_that_meets_broken_code_simply_does_not_match():
    class Broken:
        def __getattr__(self, name):
            raise RuntimeError("every class is broken")

    class Endless:
        class HeadVer1:
            def __call__(self, x):
                while True:
                    pass

    assert all(diagnose.diagnose(step.number, Broken()) is None for step in STEPS)
    sum_probe = diagnose.get_mistake("2-1.sum_instead_of_mean").probe
    assert not diagnose._matches(sum_probe, Endless())  # each probe has a time limit
