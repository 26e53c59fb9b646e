"""What the course's tests share: pytest fixtures and helpers, for a learner's workspace.

A workspace's tests/conftest.py loads this module as a pytest plugin (learngpt's own suite does
too). The text and the config come from the
directory pytest runs in (input.txt, config.yaml, which `learngpt course start` writes there), or
else from the copies learngpt ships. Each fixture returns fresh objects, so no test sees
another's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
import torch
from torch import nn

from learngpt.config import CourseConfig, load_config
from learngpt.data import split_data
from learngpt.exercises import limits, report
from learngpt.exercises.catalog import say
from learngpt.experiments import CourseModels, best_time, make_experiments, run_experiment
from learngpt.resources import course_config_path, shakespeare_path
from learngpt.tokenizers import CharTokenizer


def pytest_configure(config):
    config.addinivalue_line("markers", "todos(*ids, **by_parameter): the TODOs a test exercises")


@pytest.fixture(autouse=True)
def _isolated_torch():
    """Every test runs on one CPU thread and with its own copy of torch's global generator.

    One thread: the models under test are tiny, and on a busy 2-core machine a team of threads
    mostly waits for a core (a tiny training step can be 10x slower with two). The forked
    generator means a test that seeds torch leaves no trace for the next one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        yield
    torch.set_num_threads(threads)


def _local_or_shipped(root: Path, name: str, shipped: Path) -> Path:
    return root / name if (root / name).is_file() else shipped


@lru_cache(maxsize=2)
def _text(path: Path) -> tuple[str, CharTokenizer, torch.Tensor]:
    text = path.read_text(encoding="utf-8")
    tokenizer = CharTokenizer.from_text(text)
    return text, tokenizer, torch.tensor(tokenizer.encode(text), dtype=torch.long)


@pytest.fixture
def _course_text(request) -> tuple[str, CharTokenizer, torch.Tensor]:
    return _text(_local_or_shipped(request.config.rootpath, "input.txt", shakespeare_path()))


@pytest.fixture
def shakespeare(_course_text) -> str:
    """The course's text (input.txt)."""
    return _course_text[0]


@pytest.fixture
def char_tokenizer(_course_text) -> CharTokenizer:
    """A character tokenizer over the whole text."""
    return CharTokenizer(_course_text[1].chars)


@pytest.fixture
def course_config(request) -> CourseConfig:
    """The course's config.yaml, freshly loaded; change it with `.replace(...)`."""
    root = request.config.rootpath
    return load_config(_local_or_shipped(root, "config.yaml", course_config_path()))


@pytest.fixture
def char_splits(_course_text, course_config) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, val) token tensors of the text, split by the course's train_ratio."""
    return split_data(_course_text[2].clone(), course_config.train_ratio)


def record(key: str, fields: dict[str, float | int | str]) -> None:
    """A number a test measured, `numbers.<key>` of the catalog: printed (see it with -s) and kept
    in `course check`'s report, which prints it when the step passes, beside the course's questions.
    """
    print("\n" + say(f"numbers.{key}", **fields))
    report.send({"number": f"numbers.{key}", "fields": fields})


def claim_holds(course, name: str, config: CourseConfig, splits, vocab_size: int) -> None:
    """Train the two models of one of the course's claims, built from `course`'s classes.

    Fails with the two final losses when the variant does not beat the baseline by the margin.
    """
    experiment = make_experiments(CourseModels(course))[name]
    config = experiment.config(config, setup="test")
    for model in (experiment.baseline, experiment.variant):  # unwritten TODOs fail here, at once
        model.build(config, vocab_size)(torch.zeros(1, config.block_size, dtype=torch.long))
    limits.stretch(limits.TRAINING_FACTOR)  # training two models takes longer than a probe
    # both models at once, one per core, only their final losses estimated: the same numbers
    result = run_experiment(experiment, config, *splits, vocab_size, fast=True)
    (seed,) = result.seeds
    e = result.experiment
    v, b = seed.variant.final, seed.baseline.final
    losses = dict(variant=e.variant.label, baseline=e.baseline.label, claim=say(f"claims.{name}"),
                  variant_val=float(v["val"]), variant_train=float(v["train"]),
                  baseline_val=float(b["val"]), baseline_train=float(b["train"]),
                  margin=float(b["val"] - v["val"]))  # fmt: skip
    record("losses", losses)
    assert result.holds(seed), say(
        "tests.claim.failed", claim=losses["claim"], variant=e.variant.label,
        baseline=e.baseline.label, margin=e.min_margin,
        worse=say("tests.claim.trains_worse") if e.variant_trains_worse else "",
        losses=say("numbers.losses", **losses),
    )  # fmt: skip


def prefix_mean(x: torch.Tensor) -> torch.Tensor:
    """What HeadVer1..3 must compute, done another way: running sums over running counts."""
    T = x.shape[1]
    counts = torch.arange(1, T + 1, dtype=x.dtype)[None, :, None]  # (1, T, 1)
    return x.cumsum(dim=1) / counts


def _first(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(mask)[0])


def _not_finite(actual: torch.Tensor, expected: torch.Tensor, what: str) -> str | None:
    """NaN or inf where `expected` has a number: what, where first, and the likely cause."""
    bad = ~torch.isfinite(actual) & torch.isfinite(expected)
    if not bool(bad.any()):
        return None
    where = _first(bad)
    nan = bool(torch.isnan(actual[where]))
    key = "check.nan" if nan else "check.inf"
    message = say(key, what=what, where=where, count=int(bad.sum()))
    rows = torch.isnan(actual).all(dim=-1) if actual.dim() >= 2 else torch.tensor(False)
    if nan and bool(rows.any()):  # softmax over a row of nothing but -inf
        message += "\n" + say("check.nan_row", row=_first(rows))
    return message


def assert_close(actual: object, expected: torch.Tensor, what: str, atol: float = 1e-5):
    """Fail with where and by how much `actual` differs from `expected`, in a learner's words.

    Never fails on its own account: a learner's None, wrong shape, NaN or inf is named as such.
    """
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(say("check.not_a_tensor", what=what, got=type(actual).__name__))
    assert actual.shape == expected.shape, say(
        "check.shape", what=what, expected=tuple(expected.shape), got=tuple(actual.shape)
    )
    actual, expected = actual.detach().double(), expected.detach().double()
    bad = _not_finite(actual, expected, what)
    if bad:
        raise AssertionError(bad)
    diff = (actual - expected).abs()
    too_far = ~(diff <= atol + 1e-5 * expected.abs())  # NaN where expected is NaN counts too
    if bool(too_far.any()):
        largest = diff[too_far].max()
        hit = (diff == largest) & too_far  # none when the largest is NaN
        where = _first(hit if bool(hit.any()) else too_far)
        raise AssertionError(
            say("check.differ", what=what, largest=f"{float(largest):.4g}", where=where)
        )


def assert_same_function(head: nn.Module, name: str, shape: tuple[int, ...]) -> None:
    """`head` computes HeadVer1's prefix average: the same outputs and the same gradients."""
    torch.manual_seed(0)
    x = torch.randn(shape, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, expected = head(x), prefix_mean(x_ref)
    assert_close(out, expected, say("check.same_as_head_ver_1", name=name))
    weights = torch.randn(shape)
    if not (isinstance(out, torch.Tensor) and out.requires_grad):  # e.g. computed under no_grad
        raise AssertionError(say("check.no_gradient", name=name))
    (out * weights).sum().backward()
    (expected * weights).sum().backward()
    assert_close(x.grad, x_ref.grad, say("check.same_gradient", name=name))


def faster(slow: Callable[[], object], fast: Callable[[], object], slow_name: str,
           fast_name: str) -> float:  # fmt: skip
    """How many times faster `fast` runs than `slow` (best of several rounds, without gradients),
    recorded under the two names."""
    with torch.no_grad():
        slow_s = best_time(slow, repeats=5, number=1)
        fast_s = best_time(fast, repeats=20, number=1)
    record("speedup", {"slow": slow_name, "fast": fast_name, "slow_ms": slow_s * 1e3,
                       "fast_ms": fast_s * 1e3, "ratio": slow_s / fast_s})  # fmt: skip
    return slow_s / fast_s


@contextmanager
def edge_case(key: str, when: bool = True, fields: dict | None = None) -> Iterator[None]:
    """Within the block, a failure (an assertion or an error in the learner's code) also names the
    edge case the test is at, `key` of the catalog (filled from `fields`), as a note under its
    own message."""
    try:
        yield
    except Exception as exc:
        if when:
            exc.add_note(say(key, **(fields or {})))
        raise


def small_text_data(text: str) -> tuple[int, torch.Tensor, torch.Tensor]:
    """(vocab size, train tokens, val tokens) of a piece of text, split 90/10."""
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = split_data(torch.tensor(tokenizer.encode(text)), 0.9)
    return tokenizer.vocab_size, train_data, val_data
