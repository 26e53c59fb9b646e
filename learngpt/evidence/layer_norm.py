"""9a, 9b: what LayerNorm's output looks like, and what it does to gradients in a deep stack.

9a: feature vectors with wildly different means and scales go in; every position comes out with
mean 0 and variance 1 over its features (the learned gain and bias start at 1 and 0, so at
initialisation the output is exactly the normalised x_hat).

9b: the gradient of the loss with respect to each block's parameters, through a deep stack of
blocks on one batch of the course's text, at initialisation, for four kinds of block:
BlockVer1 (no residual, no LayerNorm), BlockVer1 with a LayerNorm at the input of the attention
and of the feed-forward (BlockVer3 without its residual connections), BlockVer2 (residual) and
BlockVer3 (residual and LayerNorm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from learngpt.course import BlockVer1, BlockVer2, BlockVer3, GPTVer4, LayerNorm, MultiHeadVer2
from learngpt.data import get_batch
from learngpt.measure import one_cpu_thread
from learngpt.plots import pyplot, save_png

# ----------------------------------------------------------------------------------------------
# 9a: the statistics of LayerNorm's output.


def off_scale_input(batch: int, block: int, features: int, seed: int = 0) -> torch.Tensor:
    """(B, T, C) features whose mean (-10..10) and spread (0.1..10) differ at every position."""
    g = torch.Generator().manual_seed(seed)
    shift = torch.empty(batch, block, 1).uniform_(-10, 10, generator=g)  # (B, T, 1)
    scale = torch.empty(batch, block, 1).uniform_(0.1, 10, generator=g)  # (B, T, 1)
    return shift + scale * torch.randn(batch, block, features, generator=g)


@torch.no_grad()
def normalisation_stats(batch: int = 32, block: int = 8, features: int = 16, seed: int = 0):
    """Per-position mean and variance over the features, before and after LayerNorm.

    Returns {"input": ..., "output": ...}, each with the range (min, max) of the per-position
    means and variances, and the largest difference from torch's own F.layer_norm.
    """
    x = off_scale_input(batch, block, features, seed)  # (B, T, C)
    y = LayerNorm(features)(x)  # gain 1, bias 0: y is x_hat
    stats = {}
    for name, t in (("input", x), ("output", y)):
        mean = t.mean(dim=-1)  # (B, T): one mean per position
        var = t.var(dim=-1, unbiased=False)  # (B, T)
        stats[name] = {
            "mean": (mean.min().item(), mean.max().item()),
            "var": (var.min().item(), var.max().item()),
        }
    reference = nn.functional.layer_norm(x, (features,))
    stats["max |ours - F.layer_norm|"] = (y - reference).abs().max().item()
    return stats


def layer_norm_rows(batch: int = 32, block: int = 8, features: int = 16) -> list[list[str]]:
    s = normalisation_stats(batch, block, features)
    rows = [
        [
            "(B, T, C) = " + f"({batch}, {block}, {features})",
            "per-position mean",
            "per-position variance",
        ]
    ]
    (m0, m1), (v0, v1) = s["input"]["mean"], s["input"]["var"]
    rows.append(["input", f"{m0:.3g} .. {m1:.3g}", f"{v0:.4g} .. {v1:.4g}"])
    # The output's means are rounding errors (about 1e-6): show the power of ten they stay under,
    # which does not depend on the last bits of the arithmetic.
    largest = max(abs(m) for m in s["output"]["mean"])
    bound = 10.0 ** math.ceil(math.log10(largest)) if largest > 0 else 0.0
    (v0, v1) = s["output"]["var"]
    rows.append(["output", f"within ±{bound:.0e}", f"{v0:.4g} .. {v1:.4g}"])
    return rows


# ----------------------------------------------------------------------------------------------
# 9b: gradient norms through a deep stack.


class BlockVer1WithLayerNorm(BlockVer3):
    """BlockVer3 without its residual connections: ffwd(ln2(head(ln1(x))))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ffwd(self.ln2(self.head(self.ln1(x))))  # (B, T, C)


STACKS = {
    "BlockVer1 (no residual, no LayerNorm)": BlockVer1,
    "BlockVer1 + LayerNorm (no residual)": BlockVer1WithLayerNorm,
    "BlockVer2 (residual)": BlockVer2,
    "BlockVer3 (residual + LayerNorm)": BlockVer3,
}
DEPTH = 20  # twice the course's n_layers, so that the trend is plain to see


@dataclass
class DepthProfile:
    grad_norms: list[float]  # per block, first to last: norm of the gradient of all its params
    activation_std: list[float]  # per block: standard deviation of its output


@dataclass(frozen=True)
class StackSize:
    """The deep stack's sizes: the course's (batch, block, channels, heads)."""

    batch: int = 32
    block_size: int = 8
    embed: int = 16
    heads: int = 8


def gradient_profile(
    block: type[nn.Module],
    train_data: torch.Tensor,
    vocab_size: int,
    depth: int = DEPTH,
    size: StackSize = StackSize(),  # noqa: B008 (frozen: one shared default is safe)
    seed: int = 0,
) -> DepthProfile:
    """Build GPTVer4 over `depth` blocks (seeded), backpropagate the loss of one batch."""
    batch, block_size, embed, heads = size.batch, size.block_size, size.embed, size.heads
    with one_cpu_thread():  # one thread: the same numbers on every run
        torch.manual_seed(seed)
        blocks = nn.Sequential(
            *(block(MultiHeadVer2(block_size, embed, heads), embed) for _ in range(depth))
        )
        model = GPTVer4(blocks, vocab_size, block_size, embed)
        x, y = get_batch(train_data, batch, block_size, torch.Generator().manual_seed(seed))
        outputs = []
        hooks = [b.register_forward_hook(lambda m, i, o: outputs.append(o)) for b in blocks]
        _, loss = model(x, y)
        for hook in hooks:
            hook.remove()
        loss.backward()
        grad_norms = [
            torch.sqrt(sum((p.grad**2).sum() for p in b.parameters())).item() for b in blocks
        ]
        return DepthProfile(grad_norms, [o.std().item() for o in outputs])


def gradient_profiles(train_data: torch.Tensor, vocab_size: int, depth: int = DEPTH):
    return {name: gradient_profile(b, train_data, vocab_size, depth) for name, b in STACKS.items()}


def gradient_rows(profiles: dict[str, DepthProfile]) -> list[list[str]]:
    """Header and one row per stack: gradient norm at some depths, and first / last block."""
    depth = len(next(iter(profiles.values())).grad_norms)
    shown = sorted({1, depth // 4, depth // 2, 3 * depth // 4, depth} - {0})
    rows = [
        [
            "stack",
            *(f"block {i}" for i in shown),
            f"block 1 / block {depth}",
            "factor per block",
        ]
    ]
    for name, p in profiles.items():
        norms = [f"{p.grad_norms[i - 1]:.2g}" for i in shown]
        ratio = p.grad_norms[0] / p.grad_norms[-1]
        # the geometric mean of how much the gradient changes from one block to the one below
        per_block = ratio ** (1 / (depth - 1))
        rows.append([name, *norms, f"{ratio:.2g}", f"{per_block:.2f}"])
    return rows


def plot_gradients(profiles: dict[str, DepthProfile], path: Path) -> None:
    """Gradient norm (left) and output standard deviation (right) of each block vs depth."""
    plt = pyplot()
    fig, (ax_grad, ax_std) = plt.subplots(1, 2, figsize=(11, 4))
    for name, p in profiles.items():
        layers = range(1, len(p.grad_norms) + 1)
        ax_grad.semilogy(layers, p.grad_norms, marker="o", markersize=3, label=name)
        ax_std.semilogy(layers, p.activation_std, marker="o", markersize=3, label=name)
    ax_grad.set_title("gradient norm of each block's parameters")
    ax_std.set_title("standard deviation of each block's output")
    for ax in (ax_grad, ax_std):
        ax.set_xlabel("block (1 = nearest the input)")
        ax.grid(alpha=0.3, which="both")
    ax_grad.legend(fontsize=8)
    fig.suptitle("a deep stack at initialisation, one batch of the course's text")
    fig.tight_layout()
    save_png(fig, path)
