"""Muon with one batched Newton-Schulz iteration per matrix shape.

torch.optim.Muon orthogonalises each matrix's update on its own: every Newton-Schulz iteration
is three small matrix products, so the recipe's 8 matrices cost 120 products a step, and on a
CPU such small products cost as much in overhead as in arithmetic. BatchedMuon does the same
algorithm, but stacks the updates of the matrices that share a shape (tall ones turned wide
first, as torch.optim.Muon does) and runs each iteration as one batched product per shape: 3
shapes instead of 8 matrices in the recipe. Same state, same hyper-parameters, same results
(tests/test_muon.py); `bench/muon_step.py` times the two.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def orthogonalize(
    updates: Tensor, coefficients: tuple[float, float, float], steps: int, eps: float
) -> Tensor:
    """Newton-Schulz iterations on a stack of wide matrices (N, R, C), R <= C, in bfloat16.

    Each matrix is first scaled to Frobenius norm 1 (so its spectral norm is at most 1); each
    iteration then maps X to a X + (b A + c A A) X with A = X X^T, which pushes every singular
    value towards 1 (to about 0.7-1.2 after 5 iterations: Jordan et al.'s quintic).
    """
    a, b, c = coefficients
    x = updates.bfloat16()
    x = x / x.norm(dim=(1, 2), keepdim=True).clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.mT  # (N, R, R)
        polynomial = torch.baddbmm(gram, gram, gram, beta=b, alpha=c)  # b A + c A A
        x = torch.baddbmm(x, polynomial, x, beta=a)  # a X + (b A + c A A) X
    return x


def adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: torch.Size) -> float:
    """torch.optim.Muon's learning rate for a matrix of this shape (its `adjust_lr_fn`)."""
    rows, cols = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":  # the update's RMS then matches AdamW's, about 0.2
        return lr * 0.2 * math.sqrt(max(rows, cols))
    if adjust_lr_fn in (None, "original"):
        return lr * math.sqrt(max(1, rows / cols))
    raise ValueError(f"unknown adjust_lr_fn {adjust_lr_fn!r}")


class BatchedMuon(torch.optim.Muon):
    """torch.optim.Muon whose Newton-Schulz iterations run batched over same-shape matrices."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params: list[Tensor] = []
            grads: list[Tensor] = []
            buffers: list[Tensor] = []
            self._init_group(group, params, grads, buffers)  # creates missing momentum buffers
            if not params:
                continue
            momentum, lr = group["momentum"], group["lr"]
            torch._foreach_lerp_(buffers, grads, 1 - momentum)
            updates = buffers
            if group["nesterov"]:
                updates = torch._foreach_lerp(grads, buffers, momentum)
            torch._foreach_mul_(params, 1 - lr * group["weight_decay"])  # decoupled decay
            ns = group["ns_coefficients"], group["ns_steps"], group["eps"]
            for indices in _same_wide_shape(params):
                stack = torch.stack([_wide(updates[i]) for i in indices])  # (N, R, C)
                stack = orthogonalize(stack, *ns)
                for i, update in zip(indices, stack, strict=True):
                    step = adjusted_lr(lr, group["adjust_lr_fn"], params[i].shape)
                    params[i].add_(update.mT if _is_tall(params[i]) else update, alpha=-step)
        return loss


def _is_tall(matrix: Tensor) -> bool:
    return matrix.size(0) > matrix.size(1)


def _wide(matrix: Tensor) -> Tensor:
    """The matrix, transposed if it has more rows than columns (the iteration's X X^T is then
    the smaller of the two Gram matrices)."""
    return matrix.mT if _is_tall(matrix) else matrix


def _same_wide_shape(params: list[Tensor]) -> list[list[int]]:
    """The indices of `params`, grouped by the shape of _wide(param) (first appearance first)."""
    groups: dict[torch.Size, list[int]] = {}
    for i, p in enumerate(params):
        groups.setdefault(_wide(p).shape, []).append(i)
    return list(groups.values())
