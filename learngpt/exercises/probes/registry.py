"""The named mistakes' registry: each probe module registers its probes here with `mistake`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Mistake:
    key: str  # the catalog says it: mistakes.<key>
    todo: str
    probe: Callable[[object], bool]

    @property
    def step(self) -> int:
        return int(self.todo.split("-")[0])


MISTAKES: list[Mistake] = []


def mistake(todo: str, name: str):
    def register(probe: Callable[[object], bool]) -> Callable[[object], bool]:
        MISTAKES.append(Mistake(f"{todo}.{name}", todo, probe))
        return probe

    return register


def get_mistake(key: str) -> Mistake:
    return next(m for m in MISTAKES if m.key == key)


def same(actual: object, expected: torch.Tensor, atol: float = 1e-4) -> bool:
    """`actual` is a tensor of `expected`'s shape and values (NaN where it has NaN)."""
    if not isinstance(actual, torch.Tensor) or actual.shape != expected.shape:
        return False
    a, e = actual.detach().double(), expected.detach().double()
    return bool(torch.allclose(a, e, atol=atol, rtol=1e-4, equal_nan=True))
