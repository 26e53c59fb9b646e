"""The mistakes of steps 8-10: the feed-forward, residuals, LayerNorm, dropout."""

from __future__ import annotations

import torch
from torch import nn

from learngpt.exercises.probes.registry import mistake, same

# ---- step 8: FeedForward, BlockVer1, BlockVer2 ----------------------------------------------

C8 = 8


@mistake("8-1", "relu_missing")
def _relu_missing(course) -> bool:
    ffn = course.FeedForward(C8)
    a, b = torch.randn(3, C8), torch.randn(3, C8)
    return same(ffn(a + b) + ffn(torch.zeros(1, C8)), ffn(a) + ffn(b))


@mistake("8-1", "hidden_layer_not_4x")
def _hidden_layer_not_4x(course) -> bool:
    sizes = sorted(p.numel() for p in course.FeedForward(C8).parameters())
    return sizes == sorted([C8 * C8, C8, C8 * C8, C8])


def _block(course, name: str, *args):
    """A block of `name` whose attention is a plain Linear (any (B, T, C) -> (B, T, C) will do)."""
    block = getattr(course, name)(nn.Linear(C8, C8), C8, *args)
    return block, torch.randn(2, 4, C8) * 3


@mistake("8-2", "feed_forward_first")
def _feed_forward_first(course) -> bool:
    block, x = _block(course, "BlockVer1")
    return same(block(x.clone()), block.head(block.ffwd(x)))


@mistake("8-3", "residual_missing")
def _residual_missing(course) -> bool:
    block, x = _block(course, "BlockVer2")
    f, g = block.head, block.ffwd
    out = block(x.clone())
    h = x + f(x)
    return same(out, f(x) + g(f(x))) or same(out, g(h)) or same(out, f(x) + g(x))


@mistake("8-3", "one_residual_around_both")
def _one_residual_around_both(course) -> bool:
    block, x = _block(course, "BlockVer2")
    return same(block(x.clone()), x + block.ffwd(block.head(x)))


# ---- step 9: LayerNorm, BlockVer3 -----------------------------------------------------------
# Each LayerNorm probe isolates one part of the formula, so that two mistakes show together:
# the variance with eps = 0 (where eps sits makes no difference), eps with the default gain and
# bias, the gain and bias by changing them.


def _layer_norm(course, eps: float) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """(a LayerNorm with the default gain and bias, its input, that input centred)."""
    ln = course.LayerNorm(C8, eps=eps)
    x = torch.randn(3, 4, C8) * 3 + 1
    return ln, x, x - x.mean(dim=-1, keepdim=True)


def _std(x: torch.Tensor, unbiased: bool) -> torch.Tensor:
    return x.var(dim=-1, keepdim=True, unbiased=unbiased).sqrt()


@mistake("9-1", "unbiased_variance")
def _unbiased_variance(course) -> bool:
    ln, x, centred = _layer_norm(course, eps=0.0)
    return same(ln(x.clone()), centred / _std(x, unbiased=True))


@mistake("9-1", "eps_outside_the_root")
def _eps_outside_the_root(course) -> bool:
    ln, x, centred = _layer_norm(course, eps=0.5)
    out = ln(x.clone())
    return any(same(out, centred / (_std(x, unbiased) + 0.5)) for unbiased in (False, True))


@mistake("9-1", "weight_and_bias_unused")
def _weight_and_bias_unused(course) -> bool:
    ln, x, _ = _layer_norm(course, eps=1e-5)
    plain = ln(x.clone())
    ln.weight.normal_()
    ln.bias.normal_()
    return isinstance(plain, torch.Tensor) and same(ln(x.clone()), plain)


def _norms(block):
    """LayerNorms that differ, so that which one is used where shows."""
    for ln in (block.ln1, block.ln2):
        ln.weight.normal_()
        ln.bias.normal_()
    return block.ln1, block.ln2


@mistake("9-2", "post_norm")
def _post_norm(course) -> bool:
    block, x = _block(course, "BlockVer3")
    ln1, ln2 = _norms(block)
    h = ln1(x + block.head(x))
    return same(block(x.clone()), ln2(h + block.ffwd(h)))


@mistake("9-2", "norm_on_the_residual_path")
def _norm_on_the_residual_path(course) -> bool:
    block, x = _block(course, "BlockVer3")
    ln1, ln2 = _norms(block)
    h = ln1(x)
    h = h + block.head(h)
    h = ln2(h)
    return same(block(x.clone()), h + block.ffwd(h))


# ---- step 10: BlockVer4 ---------------------------------------------------------------------


@mistake("10-1", "dropout_in_eval")
def _dropout_in_eval(course) -> bool:
    block, x = _block(course, "BlockVer4", 0.5)
    block.eval()
    return not same(block(x.clone()), block(x.clone()), atol=0)


@mistake("10-1", "dropout_on_the_input")
def _dropout_on_the_input(course) -> bool:
    # With p = 1 every dropped tensor is zero: with its input dropped each branch reads
    # LayerNorm(0) = its bias (0), so the block gives x + head(0) + ffwd(0), its sub-layers
    # taken as they are in eval mode (where a dropout inside them does nothing).
    block, x = _block(course, "BlockVer4", 1.0)
    zero = torch.zeros(C8)
    block.eval()
    branches = block.head(block.ln1(zero)) + block.ffwd(block.ln2(zero))
    block.train()
    return same(block(x.clone()), x + branches)


@mistake("10-1", "dropout_on_the_residual_path")
def _dropout_on_the_residual_path(course) -> bool:
    block, x = _block(course, "BlockVer4", 1.0)
    block.train()
    return same(block(x.clone()), torch.zeros_like(x))
