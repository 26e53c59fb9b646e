"""Where attention looks: the softmax(Q K^T / sqrt(hs)) weights of every layer and head.

The production model (learngpt/model.py) attends through torch's fused kernel, which never
materialises the weights, and the course's models keep them in local variables. So instead of
changing either, this module listens to a forward pass with hooks: each attention module's input
is caught, its own query and key projections are applied to it again, and the causal softmax is
computed explicitly. The result is what the module computed, not an approximation;
tests/test_web.py checks that weights @ values reproduces the module's output.

Two kinds of attention module are understood:
- learngpt.model.CausalSelfAttention (one qkv Linear, all heads, optional rotary positions);
- the course's heads: any module with `query` and `key` Linears (HeadVer4: one head;
  MultiHeadVer2: `n_heads` heads side by side). The HeadVer4s inside one MultiHeadVer1 form
  one layer.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.model import CausalSelfAttention, apply_rotary


def causal_softmax(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """(..., T, hs) queries and keys -> (..., T, T) weights; position t sees 0 .. t only."""
    T, hs = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) * hs**-0.5  # (..., T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(diagonal=1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, C) -> (B, H, T, hs)."""
    B, T, C = x.shape
    return x.view(B, T, n_heads, C // n_heads).transpose(1, 2)


def production_weights(module: CausalSelfAttention, args: tuple) -> torch.Tensor:
    """The weights (B, H, T, T) of one CausalSelfAttention call, from its arguments."""
    x, rope = args[0], args[1] if len(args) > 1 else None
    q, k, _ = module.qkv(x).split(x.shape[-1], dim=2)  # (B, T, C) each
    q, k = split_heads(q, module.n_heads), split_heads(k, module.n_heads)
    if rope is not None:
        q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
    return causal_softmax(q, k)


def course_weights(module: nn.Module, args: tuple) -> torch.Tensor:
    """The weights (B, H, T, T) of one course head (H = 1) or MultiHeadVer2 (H = n_heads)."""
    x = args[0]
    n_heads = getattr(module, "n_heads", 1)
    q = split_heads(module.query(x), n_heads)  # (B, H, T, hs)
    k = split_heads(module.key(x), n_heads)
    return causal_softmax(q, k)


def is_course_head(module: nn.Module) -> bool:
    return isinstance(getattr(module, "query", None), nn.Linear) and isinstance(
        getattr(module, "key", None), nn.Linear
    )


def layer_name(name: str, module: nn.Module) -> str:
    """The layer a module's heads belong to: the heads of one ModuleList share their parent."""
    parent, _, last = name.rpartition(".")
    return parent if last.isdigit() and not hasattr(module, "n_heads") else name


@torch.no_grad()
def attention_maps(model: nn.Module, idx: torch.Tensor) -> list[torch.Tensor]:
    """Run `model` on idx (1, T); return one (H, T, T) tensor of weights per attention layer.

    Row t of head h holds how much position t attended to each position 0 .. t (the row sums
    to 1). A model without attention (the bigram model) gives an empty list.
    """
    layers: dict[str, list[torch.Tensor]] = {}
    hooks = []

    def catch(name: str, weights_of):
        def hook(module, args, output):
            layers.setdefault(name, []).append(weights_of(module, args)[0].float())

        return hook

    for name, module in model.named_modules():
        if isinstance(module, CausalSelfAttention):
            hooks.append(module.register_forward_hook(catch(name, production_weights)))
        elif is_course_head(module):
            hooks.append(
                module.register_forward_hook(catch(layer_name(name, module), course_weights))
            )
    was_training = model.training
    model.eval()
    try:
        model(idx)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return [torch.cat(heads, dim=0) for heads in layers.values()]  # each (H, T, T)
