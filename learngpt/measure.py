"""What a module costs: parameters, matmul FLOPs, and wall-clock time.

The one place the course, the evidence (`learngpt answers`), the tests and bench/ count and time
things, so that every number they print is measured the same way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch
from torch import nn

T = TypeVar("T")


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (a tensor shared by two layers, e.g. tied weights, counts once)."""
    return sum(p.numel() for p in module.parameters())


def flop_counts(module: nn.Module, *inputs: torch.Tensor) -> dict[str, int]:
    """FLOPs of one forward pass per matmul-like op ("mm", "bmm", "addmm", ...).

    torch's FlopCounterMode counts only the matrix products, 2 FLOPs per multiply-add. It works
    on the "meta" device too (shapes only, no numbers), which makes even a large size instant.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    return {
        str(op).removeprefix("aten."): n for op, n in counter.get_flop_counts()["Global"].items()
    }


def count_flops(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Floating-point operations of the matrix products in one forward pass of `module`."""
    return sum(flop_counts(module, *inputs).values())


@contextlib.contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run torch on one CPU thread, then restore the setting.

    The course's models are tiny: splitting a 32 x 8 x 16 matrix product across threads costs
    more in hand-offs than it saves, and on a busy machine extra threads only wait for a core.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call of `fn`."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_times(
    fns: dict[str, Callable[[], object]],
    rounds: int = 5,
    number: int | None = None,
    min_seconds: float = 0.2,
) -> dict[str, float]:
    """Seconds per call of each function: the best of `rounds` rounds.

    In each round every function runs `number` times in turn (None: as many calls as fill about
    `min_seconds`, at least one), so a burst of load from other programs slows all of them
    alike rather than one. The best round is the one least disturbed by other work.
    """
    calls = {}
    for name, fn in fns.items():  # warm up (first-call allocations), and size the rounds
        fn()
        once, _ = timed(fn)
        calls[name] = number or max(1, int(min_seconds / max(once, 1e-7)))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            seconds, _ = timed(lambda fn=fn, n=calls[name]: repeat(fn, n))
            best[name] = min(best[name], seconds / calls[name])
    return best


def repeat(fn: Callable[[], object], n: int) -> None:
    for _ in range(n):
        fn()


def best_time(fn: Callable[[], object], repeats: int = 5, number: int = 20) -> float:
    """Seconds per call of `fn`: the best of `repeats` rounds of `number` calls."""
    return best_times({"fn": fn}, repeats, number)["fn"]
