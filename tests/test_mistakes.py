"""The named mistakes (learngpt/exercises/diagnose.py) on the mutations of tests/mistake_catalog.py.

For every mutation of the answer key: the test named in the catalog fails on it (with an
assertion or an error in the learner's own code, never a crash of the checker's helpers), and
the diagnosis of that failure (the probes of the TODOs the test exercises, as `course check`
runs them) names exactly that mistake. Two mistakes of one class made together are both named,
and nothing else. On correct code (the answer key, the deliberately different solutions of
tests/course_alternatives and the styles of tests/course_styles) no mistake is named. All of it
in this process: the workspace's `mygpt` package is imported afresh for each mutation.
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
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from learngpt.config import load_config
from learngpt.exercises import catalog, diagnose, report
from learngpt.exercises.syllabus import STEPS, TODOS, get_todo
from learngpt.exercises.workspace import start
from learngpt.resources import course_config_path, shakespeare_path
from tests.mistake_catalog import ALTERNATIVES, MUTATIONS, PAIRS, UNOBSERVABLE, Mutation, Pair

CORRECT = {  # folders of correct solutions written otherwise, one file per workspace file
    "alternatives": Path(__file__).parent / "course_alternatives",
    "styles": Path(__file__).parent / "course_styles",
}
ALL_TODOS = [t.id for t in TODOS]
BY_KEY = {m.key: m for m in MUTATIONS}


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
def mutated(workspace: Path, file: str, edits, name: str) -> Iterator[None]:
    path = workspace / "mygpt" / file
    original = path.read_text(encoding="utf-8")
    text = original
    for old, new in edits:
        assert text.count(old) == 1, f"{name}: {old!r} is not once in {file}"
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


def run_course_test(
    workspace: Path, step: int, name: str, args: dict
) -> tuple[BaseException | None, list[str]]:
    """Call one test function of the workspace's tests/test_<step>.py: what it raised, if any,
    and the TODOs it exercises (its `todos` marker, as the check reads it)."""
    path = workspace / "tests" / f"test_{step}.py"
    spec = importlib.util.spec_from_file_location(f"course_test_{step}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    test = getattr(module, name)
    marks = [m for m in getattr(test, "pytestmark", []) if m.name == "todos"]
    todos = report.todos_of_marks(marks, args, step)
    kwargs = {p: FIXTURES[p]() for p in inspect.signature(test).parameters if p in FIXTURES}
    try:
        test(**kwargs, **args)
    except Exception as exc:
        return exc, todos
    return None, todos


def failure_and_diagnosis(workspace: Path, mutation: Mutation) -> tuple[BaseException, list[str]]:
    """The failure the mutation's test meets, and the mistakes `course check` names on it."""
    with learner_package(workspace) as mygpt:
        failure, todos = run_course_test(workspace, mutation.step, mutation.test, mutation.args)
        assert failure is not None, f"{mutation.test} passes with the mistake {mutation.key}"
        return failure, diagnose.diagnose(report.explaining(todos, failure), mygpt)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.key for m in MUTATIONS])
def test_each_mistake_fails_its_step_and_is_named(answer_key, mutation):
    with mutated(answer_key, mutation.file, mutation.edits, mutation.key):
        failure, named = failure_and_diagnosis(answer_key, mutation)
    # The checker's helpers never crash on a learner's values: a failure is a claim that does
    # not hold, or an error raised inside the learner's own code.
    assert isinstance(failure, AssertionError) or report.learner_frames(failure.__traceback__), (
        repr(failure)
    )
    assert named == [mutation.key]
    for lang in catalog.LANGS:
        assert catalog.text(f"mistakes.{mutation.key}", lang)


def _class(key: str) -> str:
    return get_todo(key.split(".")[0]).cls


@pytest.mark.parametrize("two", PAIRS, ids=[f"{p.first}+{p.second}" for p in PAIRS])
def test_two_mistakes_in_one_class_are_both_named_and_nothing_else(answer_key, two: Pair):
    first, second = BY_KEY[two.first], BY_KEY[two.second]
    edits = two.edits or (*first.edits, *second.edits)
    with mutated(answer_key, first.file, edits, f"{two.first}+{two.second}"):
        failure, named = failure_and_diagnosis(answer_key, first)
        with learner_package(answer_key) as mygpt:
            anywhere = diagnose.diagnose(ALL_TODOS, mygpt)
    assert set(anywhere) == set(two.keys)  # both, and nothing in any other class either
    assert named and set(named) <= set(two.keys)  # the failure is one of theirs


def test_the_pairs_are_every_two_mistakes_of_a_class_that_can_be_made_together():
    keys = [m.key for m in MUTATIONS]
    paired = {frozenset(p.keys) for p in PAIRS}
    assert len(paired) == len(PAIRS) and not paired & UNOBSERVABLE
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            two = frozenset({a, b})
            apart = _class(a) != _class(b) or any(two <= group for group in ALTERNATIVES)
            if apart or two in UNOBSERVABLE:
                assert two not in paired, two
            else:
                assert two in paired, f"{a} and {b} can be made together: add them to PAIRS"
    assert all(_class(a) == _class(b) for a, b in map(tuple, UNOBSERVABLE))


def test_the_catalog_has_at_least_two_mistakes_a_step_and_every_probe_a_mutation():
    keys = [m.key for m in MUTATIONS]
    assert len(keys) == len(set(keys)) >= 25
    assert sorted(keys) == sorted(m.key for m in diagnose.MISTAKES)
    assert all(m.key.startswith(m.todo + ".") for m in diagnose.MISTAKES)
    for step in STEPS:
        assert sum(m.step == step.number for m in diagnose.MISTAKES) >= 2, step.number
    messages = {key for key in catalog.catalog("en") if key.startswith("mistakes.")}
    assert messages == {f"mistakes.{key}" for key in keys}


@pytest.mark.parametrize("written", [None, *CORRECT])
def test_no_mistake_is_named_on_correct_code(answer_key, tmp_path, written):
    workspace = answer_key
    if written:
        workspace = tmp_path / "different"
        shutil.copytree(answer_key, workspace)
        for solution in CORRECT[written].glob("*.py"):
            shutil.copy(solution, workspace / "mygpt" / solution.name)
    with learner_package(workspace) as mygpt:
        assert diagnose.diagnose(ALL_TODOS, mygpt) == []


def test_probes_see_what_the_code_computes_not_how_it_is_written():
    """A HeadVer1 without loops, a masked softmax that hides with the float's lowest value, a
    BlockVer4 whose dropout sits inside its sub-layers: no mistake."""
    from learngpt import course

    class BlockVer4(course.BlockVer3):
        def __init__(self, head, embed_size: int, dropout: float):
            super().__init__(head, embed_size)
            self.head = nn.Sequential(head, nn.Dropout(dropout))
            self.ffwd = nn.Sequential(course.FeedForward(embed_size), nn.Dropout(dropout))

    class HeadVer3(course.HeadVer3):
        @staticmethod
        def masked_softmax(scores):
            T = scores.shape[-1]
            keep = torch.ones(T, T, dtype=torch.bool).tril()
            return torch.softmax(scores.masked_fill(~keep, torch.finfo(scores.dtype).min), -1)

    written_otherwise = SimpleNamespace(**{name: getattr(course, name) for name in course.__all__})
    written_otherwise.HeadVer1 = course.HeadVer2  # one matrix product: the same average
    written_otherwise.HeadVer3, written_otherwise.BlockVer4 = HeadVer3, BlockVer4
    assert diagnose.diagnose(ALL_TODOS, written_otherwise) == []


def test_a_probe_that_meets_broken_code_simply_does_not_match():
    class Broken:
        def __getattr__(self, name):
            raise RuntimeError("every class is broken")

    class Endless:
        class HeadVer1:
            def __call__(self, x):
                while True:
                    pass

    assert diagnose.diagnose(ALL_TODOS, Broken()) == []
    sum_probe = diagnose.get_mistake("2-1.sum_instead_of_mean").probe
    assert not diagnose._matches(sum_probe, Endless())  # each probe has a time limit
