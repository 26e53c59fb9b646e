"""Fixtures every test file may use. Each returns fresh objects, so no test sees another's state."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import torch

from learngpt.config import CourseConfig, load_config
from learngpt.data import split_data
from learngpt.resources import course_config_path
from learngpt.tokenizers import CharTokenizer

ROOT = Path(__file__).resolve().parent.parent


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


@lru_cache(maxsize=1)
def _shakespeare() -> tuple[str, CharTokenizer, torch.Tensor]:
    text = (ROOT / "data" / "input.txt").read_text(encoding="utf-8")
    tokenizer = CharTokenizer.from_text(text)
    return text, tokenizer, torch.tensor(tokenizer.encode(text), dtype=torch.long)


@pytest.fixture
def shakespeare() -> str:
    """The course's text, data/input.txt."""
    return _shakespeare()[0]


@pytest.fixture
def char_tokenizer() -> CharTokenizer:
    """A character tokenizer over the whole of data/input.txt."""
    return CharTokenizer(_shakespeare()[1].chars)


@pytest.fixture
def course_config() -> CourseConfig:
    """The course.yaml learngpt ships, freshly loaded; change it with `.replace(...)`."""
    return load_config(course_config_path())


@pytest.fixture
def char_splits(course_config: CourseConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, val) token tensors of data/input.txt, split by the course's train_ratio."""
    return split_data(_shakespeare()[2].clone(), course_config.train_ratio)
