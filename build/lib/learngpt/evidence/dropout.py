"""10a, 10b: dropout in training mode and in evaluation mode.

In training mode nn.Dropout(p) draws a fresh random mask on every call from torch's random
generator: each element is zeroed with probability p and the survivors are multiplied by
1 / (1 - p), so the expected value is unchanged. In evaluation mode it returns its input as is.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course import BlockVer4, MultiHeadVer2

P = 0.1  # the course's dropout


@torch.no_grad()
def dropout_stats(p: float = P, n: int = 1_000_000, seed: int = 0) -> dict[str, float]:
    """nn.Dropout(p) in training mode applied to n ones: what fraction is zeroed, what the
    survivors become, and the mean (about 1: the scaling keeps the expected value)."""
    torch.manual_seed(seed)
    out = nn.Dropout(p).train()(torch.ones(n))
    survivors = out[out != 0]
    return {
        "zeroed": (out == 0).float().mean().item(),
        "survivor min": survivors.min().item(),
        "survivor max": survivors.max().item(),
        "mean": out.mean().item(),
    }


@torch.no_grad()
def block_outputs(p: float = P, seed: int = 0) -> dict[str, float | bool]:
    """BlockVer4 at the course's size, called twice on the same input in each mode."""
    torch.manual_seed(seed)
    block = BlockVer4(MultiHeadVer2(8, 16, 8), 16, p)
    x = torch.randn(32, 8, 16)  # (B, T, C)
    block.train()
    a, b = block(x), block(x)
    torch.manual_seed(seed + 1)  # the same seed before each call: the same masks
    c = block(x)
    torch.manual_seed(seed + 1)
    d = block(x)
    block.eval()
    e, f = block(x), block(x)
    return {
        "train_max_difference": (a - b).abs().max().item(),
        "train_fraction_different": (a != b).float().mean().item(),
        "train_same_seed_identical": torch.equal(c, d),
        "eval_identical": torch.equal(e, f),
        "eval_max_difference": (e - f).abs().max().item(),
    }


def dropout_rows(p: float = P) -> list[list[str]]:
    s = dropout_stats(p)
    o = block_outputs(p)
    yes = {True: "yes", False: "no"}
    return [
        ["measurement", "value"],
        [f"nn.Dropout({p}), train mode, 1,000,000 ones: fraction zeroed", f"{s['zeroed']:.4f}"],
        [
            "survivors' value (1 / (1 - p) = " + f"{1 / (1 - p):.4f})",
            f"{s['survivor min']:.4f} .. {s['survivor max']:.4f}",
        ],
        ["mean of the output (input mean 1)", f"{s['mean']:.4f}"],
        [
            "BlockVer4, train mode, two calls: largest absolute difference",
            f"{o['train_max_difference']:.3g}",
        ],
        [
            "BlockVer4, train mode, two calls: outputs that differ",
            f"{o['train_fraction_different']:.1%}",
        ],
        [
            "BlockVer4, train mode, same seed before each call: identical",
            yes[o["train_same_seed_identical"]],
        ],
        ["BlockVer4, eval mode, two calls: identical", yes[o["eval_identical"]]],
    ]
