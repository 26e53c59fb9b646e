"""7c: why MultiHeadVer2 is faster than MultiHeadVer1 at small sizes, with the same arithmetic.

Two kinds of evidence, in one process:
- the time of a forward pass of each, alternating the two so that machine load hits both, the
  best of several rounds (the ratio is what counts; absolute times depend on the machine);
- what torch.profiler records in one forward pass: how many PyTorch operators run, and the
  shapes of the matrix multiplications. MultiHeadVer1 runs, per head, three small projections
  and two small batched products, from a Python loop; MultiHeadVer2 runs three (C, C)
  projections and two products batched over batch and heads.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from learngpt.course import MultiHeadVer1, MultiHeadVer2
from learngpt.evidence.cost import COURSE_SIZE, Size, analytic_flops

# The large size for timing: smaller than cost.LARGE_SIZE (batch 8) so that a CPU run takes
# seconds, large enough that the matmuls, not the overhead, dominate.
TIMING_LARGE_SIZE = Size("large", batch=8, block=256, embed=512, heads=8)
MATMULS = ("aten::mm", "aten::bmm", "aten::addmm")


def build_pair(size: Size, seed: int = 0) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    """MultiHeadVer1 and MultiHeadVer2 of the same size, and an input (B, T, C)."""
    torch.manual_seed(seed)
    v1 = MultiHeadVer1(size.block, size.embed, size.heads)
    v2 = MultiHeadVer2(size.block, size.embed, size.heads)
    x = torch.randn(size.batch, size.block, size.embed)
    return v1, v2, x


@torch.no_grad()
def time_forward(
    modules: dict[str, nn.Module], x: torch.Tensor, rounds: int = 5, min_seconds: float = 0.2
) -> dict[str, float]:
    """Seconds per forward pass of each module: the best of `rounds` rounds.

    Each round runs every module in turn for about `min_seconds` (at least one call), so a
    burst of load from other programs slows both alike rather than one of them.
    """
    calls = {}
    for name, module in modules.items():  # warm up, and choose how many calls fill a round
        module(x)
        start = time.perf_counter()
        module(x)
        calls[name] = max(1, int(min_seconds / max(time.perf_counter() - start, 1e-7)))
    best = dict.fromkeys(modules, float("inf"))
    for _ in range(rounds):
        for name, module in modules.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                module(x)
            best[name] = min(best[name], (time.perf_counter() - start) / calls[name])
    return best


@dataclass
class Profile:
    from_python: dict[str, int]  # operators called by the module's Python code, by name
    operators: int  # all PyTorch operator calls in one forward pass (nested ones included)
    matmuls: list[tuple[str, str, int]]  # (op, input shapes, calls), one entry per shape


@torch.no_grad()
def profile_forward(module: nn.Module, x: torch.Tensor) -> Profile:
    """Profile one forward pass (after a warm-up one) on the CPU."""
    module(x)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        module(x)
    from_python = Counter(e.name for e in prof.events() if e.cpu_parent is None)
    by_shape = prof.key_averages(group_by_input_shape=True)
    operators = sum(event.count for event in by_shape)
    matmuls = [
        (event.key.removeprefix("aten::"), shapes_text(event.input_shapes), event.count)
        for event in by_shape
        if event.key in MATMULS
    ]
    return Profile(dict(from_python), operators, sorted(matmuls))


def shapes_text(shapes: list) -> str:
    """An op's input shapes, e.g. "(256, 16) @ (16, 2)" (bias and scalars left out)."""
    tensors = [tuple(s) for s in shapes if isinstance(s, (list, tuple)) and len(s) >= 2]
    return " @ ".join("(" + ", ".join(map(str, s)) + ")" for s in tensors[-2:])


def profile_rows(size: Size = COURSE_SIZE) -> list[list[str]]:
    """Header and rows: per version, operator calls, and each matmul shape with its count."""
    v1, v2, x = build_pair(size)
    rows = [
        [
            "module",
            "ops called from Python",
            "all operator calls",
            "matmul kernels: op (shapes) x calls",
        ]
    ]
    for name, module in (("MultiHeadVer1", v1), ("MultiHeadVer2", v2)):
        p = profile_forward(module, x)
        matmuls = "; ".join(f"{op} {shapes} x{count}" for op, shapes, count in p.matmuls)
        rows.append([name, str(sum(p.from_python.values())), str(p.operators), matmuls])
    return rows


@dataclass
class SpeedResult:
    size: Size
    seconds: dict[str, float]  # per forward pass
    profiles: dict[str, Profile]
    threads: int  # torch's CPU threads during the timing

    @property
    def ratio(self) -> float:
        """How many times faster MultiHeadVer2 is (time of Ver1 / time of Ver2)."""
        return self.seconds["MultiHeadVer1"] / self.seconds["MultiHeadVer2"]


def measure(size: Size, rounds: int = 5, min_seconds: float = 0.2) -> SpeedResult:
    v1, v2, x = build_pair(size)
    modules = {"MultiHeadVer1": v1, "MultiHeadVer2": v2}
    seconds = time_forward(modules, x, rounds, min_seconds)
    profiles = {name: profile_forward(m, x) for name, m in modules.items()}
    return SpeedResult(size, seconds, profiles, torch.get_num_threads())


def speed_rows(results: list[SpeedResult]) -> list[list[str]]:
    rows = [
        [
            "size (B, T, C, H)",
            "MultiHeadVer1 (ms)",
            "MultiHeadVer2 (ms)",
            "Ver1 / Ver2",
            "operator calls Ver1 / Ver2",
            "matmul GFLOP/s Ver1 / Ver2",
        ]
    ]
    for r in results:
        s = r.size
        p1, p2 = r.profiles["MultiHeadVer1"], r.profiles["MultiHeadVer2"]
        rows.append(
            [
                f"{s.name} ({s.batch}, {s.block}, {s.embed}, {s.heads})",
                f"{r.seconds['MultiHeadVer1'] * 1e3:.3f}",
                f"{r.seconds['MultiHeadVer2'] * 1e3:.3f}",
                f"{r.ratio:.2f}x",
                f"{p1.operators} / {p2.operators}",
                f"{gflops(r, 'MultiHeadVer1'):.2f} / {gflops(r, 'MultiHeadVer2'):.2f}",
            ]
        )
    return rows


def gflops(result: SpeedResult, name: str) -> float:
    """The matmul arithmetic of one forward pass (cost.analytic_flops) over its time, in GFLOP/s:
    far below what the CPU can do means the time goes to overhead, not to arithmetic."""
    flops = sum(analytic_flops("MultiHeadVer1", result.size).values())  # the same for Ver2
    return flops / result.seconds[name] / 1e9


def plot_speed(results: list[SpeedResult], path: Path) -> None:
    """Bar chart: time per forward pass of both versions (left) and operator calls (right)."""
    from learngpt.evidence.figures import pyplot, save

    plt = pyplot()
    fig, (ax_time, ax_ops) = plt.subplots(1, 2, figsize=(10, 4))
    names = ("MultiHeadVer1", "MultiHeadVer2")
    colours = ("tab:red", "tab:blue")
    width = 0.38
    for i, (name, colour) in enumerate(zip(names, colours, strict=True)):
        xs = [j + (i - 0.5) * width for j in range(len(results))]
        # times relative to Ver1 at each size, so that both sizes fit on one axis
        rel = [r.seconds[name] / r.seconds["MultiHeadVer1"] for r in results]
        bars = ax_time.bar(xs, rel, width, color=colour, label=name)
        for bar, r in zip(bars, results, strict=True):
            ax_time.annotate(
                f"{r.seconds[name] * 1e3:.2f} ms",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ops = [r.profiles[name].operators for r in results]
        ax_ops.bar(xs, ops, width, color=colour, label=name)
    labels = [
        f"{r.size.name}\n(B, T, C, H) = ({r.size.batch}, {r.size.block}, "
        f"{r.size.embed}, {r.size.heads})"
        for r in results
    ]
    for ax in (ax_time, ax_ops):
        ax.set_xticks(range(len(results)), labels, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    ax_time.set_ylabel("forward time, relative to MultiHeadVer1")
    ax_time.set_title(f"time per forward pass ({results[0].threads} CPU thread(s))")
    tallest = max(r.seconds[name] / r.seconds["MultiHeadVer1"] for r in results for name in names)
    ax_time.set_ylim(0, tallest + 0.45)  # room above the bars and their labels for the legend
    ax_time.legend(loc="upper left", ncol=2)
    ax_ops.set_ylabel("PyTorch operator calls per forward pass")
    ax_ops.set_title("work handed to PyTorch, counted by torch.profiler")
    fig.tight_layout()
    save(fig, path)
