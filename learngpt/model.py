"""The production NanoGPT: the course's final model, written to be fast, in one readable file.

With every modern switch off (the default) this is the course's architecture (learngpt/course,
NanoGPT = GPTVer4 over BlockVer4): token embedding + learned position embedding, n_layers
pre-norm blocks x + drop(attn(ln1(x))), x + drop(ffwd(ln2(x))) with a ReLU feed-forward of width
4C, a final LayerNorm and a linear head. tests/test_model.py proves that, given the same weights,
it computes the same function. What differs is how it computes it:

- the query, key and value projections are one Linear(C, 3C) and all heads run at once in
  torch's fused scaled_dot_product_attention;
- GPT-2 initialisation (std 0.02; the residual projections 0.02 / sqrt(2 * n_layers), so the
  residual stream does not grow with depth) and, by default, the token embedding tied to the head;
- room for a KV cache (learngpt/engine.py owns it), so that generating a token costs one
  position instead of the whole context.

Switches that help a small model learn faster on a CPU (all default off): `rotary` (rotary position
embeddings instead of the learned table), `rms_norm` (RMSNorm instead of LayerNorm), `bf16` (in
training mode the matrix products run in bfloat16, faster on a CPU with AVX512-BF16; the weights,
the loss and evaluation stay float32; docs/recipe.md has the figures). From the modern nanoGPT
speed-runs: `activation: relu_squared` (the feed-forward computes relu(x)^2) and `qk_norm` (queries
and keys RMS-normalised per head, which keeps the attention logits in range at a high learning
rate). From "Canon layers" (Allen-Zhu 2025): `ffwd_conv` mixes each position with the few before it
just before every feed-forward. `nanogpt_dropout` puts dropout where nanoGPT has it besides the
residual branches: on the attention weights and on the input embeddings (a regulariser for bigger
models, off on CPU).

GPT-2's choices, so that its weights load (learngpt/interop/gpt2.py): `activation` (GELU with
the tanh approximation), `qkv_bias`, `head_bias` off, `ffwd_size`, `norm_eps`.

References: karpathy/nanoGPT model.py; Su et al. 2021 (RoFormer) for rotary embeddings; Zhang &
Sennrich 2019 for RMSNorm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from learngpt.training.muon import BatchedMuon


def setting(default, help: str, shape: bool = True):
    """A model setting: its default, the one-line help of its `learngpt train` flag, and whether
    it decides the weights' shape or meaning (else a resumed run may change it)."""
    return field(default=default, metadata={"help": help, "shape": shape})


# The feed-forward's non-linearities, by the name a config gives them (the one list of names).
ACTIVATIONS = {
    "relu": F.relu,
    "relu_squared": lambda x: F.relu(x).square(),  # the nanoGPT speed-runs' MLP
    "gelu": F.gelu,
    # GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
}


@dataclass
class GPTConfig:
    """The model's settings, declared once: learngpt train's `model:` section holds them too."""

    vocab_size: int = setting(
        0, "tokens in the vocabulary (a run sets it from its tokenizer)", shape=False
    )
    block_size: int = setting(256, "context length in tokens (T)")
    n_layers: int = setting(4, "transformer blocks")
    n_heads: int = setting(4, "attention heads; head size = embed_size / n_heads")
    embed_size: int = setting(128, "channels (C); must be divisible by n_heads")
    dropout: float = setting(
        0.0, "dropout after attention and feed-forward, in [0, 1)", shape=False
    )
    bias: bool = setting(True, "biases in linear layers and norms")
    tie_weights: bool = setting(True, "the output head shares the token embedding matrix")
    rotary: bool = setting(False, "rotary position embeddings instead of a learned table")
    rms_norm: bool = setting(False, "RMSNorm instead of LayerNorm")
    bf16: bool = setting(
        False, "forward passes in bfloat16 autocast (float32 if the CPU lacks it)", shape=False
    )
    # GPT-2's choices (learngpt/interop/gpt2.py), where they differ from the course's:
    activation: str = setting(
        "relu", f"feed-forward non-linearity: {', '.join(ACTIVATIONS)} (GPT-2's: gelu_tanh)"
    )
    ffwd_size: int | None = setting(None, "feed-forward hidden width (none: 4 * embed_size)")
    qkv_bias: bool = setting(False, "biases on the query, key and value projection (GPT-2's)")
    head_bias: bool = setting(
        True, "with --bias, the output head has a bias too (GPT-2's has none)"
    )
    norm_eps: float = setting(1e-5, "epsilon added to the variance in the norms")
    # from the nanoGPT speed-runs:
    qk_norm: bool = setting(False, "RMS-normalise each head's queries and keys")
    nanogpt_dropout: bool = setting(
        False, "dropout also on the attention weights and the embeddings, as nanoGPT", shape=False
    )
    ffwd_conv: int = setting(
        0, "width of a causal convolution over positions before each feed-forward (0: none)"
    )

    def problem(self) -> tuple[str, str] | None:
        """The first impossible setting, as (key, what is wrong), or None: the one check of a
        model's settings (TrainConfig.validate names it as a config key, GPT() refuses it)."""
        for key in ("block_size", "n_layers", "n_heads", "embed_size"):
            if getattr(self, key) <= 0:
                return key, "must be a positive integer"
        head_size = self.embed_size // self.n_heads
        checks = [
            ("vocab_size", self.vocab_size >= 0, "must be >= 0 (0: the tokenizer's)"),
            ("dropout", 0 <= self.dropout < 1, "must be in [0, 1)"),
            (
                "embed_size",
                self.embed_size % self.n_heads == 0,
                f"({self.embed_size}) must be divisible by n_heads ({self.n_heads})",
            ),
            ("rotary", not self.rotary or head_size % 2 == 0, "needs an even head size"),
            (
                "activation",
                self.activation in ACTIVATIONS,
                f"must be one of {', '.join(ACTIVATIONS)}",
            ),
            ("ffwd_size", self.ffwd_size is None or self.ffwd_size > 0, "must be > 0 or none"),
            ("norm_eps", self.norm_eps > 0, "must be > 0"),
            ("ffwd_conv", self.ffwd_conv >= 0, "must be >= 0 (0: no convolution)"),
        ]
        return next(((key, what) for key, ok, what in checks if not ok), None)


class Norm(nn.Module):
    """LayerNorm (mean and variance over channels, gain and bias), or RMSNorm (no centring)."""

    def __init__(self, size: int, bias: bool, rms: bool, eps: float):
        super().__init__()
        self.rms = rms
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = nn.Parameter(torch.zeros(size)) if bias and not rms else None
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rms:
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


def norm(config: GPTConfig) -> Norm:
    return Norm(config.embed_size, config.bias, config.rms_norm, config.norm_eps)


def rotary_tables(block_size: int, head_size: int, base: float = 10000.0) -> torch.Tensor:
    """cos and sin of the rotation angle pos * base^(-2i/hs) for each position and channel pair.

    Returns (2, block_size, head_size // 2): [0] the cosines, [1] the sines.
    """
    inv_freq = base ** (-torch.arange(0, head_size, 2, dtype=torch.float32) / head_size)
    angle = torch.arange(block_size, dtype=torch.float32)[:, None] * inv_freq  # (T, hs/2)
    return torch.stack([angle.cos(), angle.sin()])


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each channel pair (first half, second half) of x (B, H, T, hs) by its angle.

    A query at position m and a key at position n rotated this way have a dot product that
    depends only on m - n: attention learns relative positions with no position table.
    """
    x1, x2 = x.chunk(2, dim=-1)  # (B, H, T, hs/2) each
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def training_in_cpu_bf16(x: torch.Tensor) -> bool:
    """True inside a CPU training forward pass under bfloat16 autocast (GPTConfig.bf16)."""
    return (
        x.device.type == "cpu"
        and x.requires_grad
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
    )


def explicit_causal_attention(q, k, v, dropout_p: float = 0.0) -> torch.Tensor:
    """softmax(q k^T / sqrt(hs), causal mask) v, written out: (B, H, T, hs) -> (B, H, T, hs).

    The same function as F.scaled_dot_product_attention(q, k, v, is_causal=True). On a CPU in
    bfloat16 autocast, torch's SDPA kernels are slow to train (its flash kernel's backward most
    of all); these few ops are faster there (bench/attention.py, docs/recipe.md).
    """
    B, H, T, hs = q.shape
    # -inf above the diagonal: query i sees keys 0 .. i. Adding it inside the batched matmul
    # (baddbmm), and scaling q rather than the (T, T) scores, saves two passes over the scores.
    future = torch.full((T, T), float("-inf"), dtype=q.dtype, device=q.device).triu(diagonal=1)
    scores = torch.baddbmm(
        future.expand(B * H, T, T), (q * hs**-0.5).flatten(0, 1), k.flatten(0, 1).transpose(1, 2)
    )  # (B * H, T, T)
    weights = F.softmax(scores.view(B, H, T, T), dim=-1)  # float32 under autocast
    if dropout_p:
        weights = F.dropout(weights, dropout_p)
    return weights @ v  # (B, H, T, hs)


class CausalSelfAttention(nn.Module):
    """All heads of masked self-attention at once (the course's MultiHeadVer2, fused)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.qk_norm = config.qk_norm
        self.attn_dropout = config.dropout if config.nanogpt_dropout else 0.0
        # query, key and value in one matmul; no bias (unless qkv_bias), as in MultiHeadVer2
        self.qkv = nn.Linear(config.embed_size, 3 * config.embed_size, bias=config.qkv_bias)
        self.proj = nn.Linear(config.embed_size, config.embed_size, bias=config.bias)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
        kv: tuple[torch.Tensor, torch.Tensor] | None = None,
        pos: int = 0,
    ) -> torch.Tensor:
        """(B, T, C) -> (B, T, C). `x` holds positions pos .. pos + T - 1.

        rope: (cos, sin) of those positions, each (T, hs/2), when rotary is on.
        kv: this layer's cache buffers, each (B, H, block_size, hs); positions < pos are filled,
        and this call writes positions pos .. pos + T - 1.
        """
        B, T, C = x.shape
        H = self.n_heads
        qk, v = self.qkv(x).split([2 * C, C], dim=2)  # queries and keys (B, T, 2C), values
        # (B, T, 2C) -> (B, 2H, T, hs): head h owns channels h * hs .. (h + 1) * hs - 1, the
        # queries' heads first; kept together so that each step below is one op for both
        qk = qk.view(B, T, 2 * H, -1).transpose(1, 2)
        v = v.view(B, T, H, -1).transpose(1, 2)
        if self.qk_norm:  # unit RMS per head: attention logits stay bounded
            qk = F.rms_norm(qk, (qk.size(-1),))
        if rope is not None:  # in the activations' dtype: bf16 in training, no float32 copies
            qk = apply_rotary(qk, *(table.to(qk.dtype) for table in rope))
        q, k = qk.split(H, dim=1)  # (B, H, T, hs) each
        if kv is not None:
            k_cache, v_cache = kv
            k_cache[:, :, pos : pos + T] = k
            v_cache[:, :, pos : pos + T] = v
            k, v = k_cache[:, :, : pos + T], v_cache[:, :, : pos + T]  # (B, H, pos + T, hs)
        drop = self.attn_dropout if self.training else 0.0  # on the attention weights
        if pos == 0 and training_in_cpu_bf16(x):
            y = explicit_causal_attention(q, k, v, drop)
        elif T == 1:  # one new query (generation with a cache) may see every key so far
            y = F.scaled_dot_product_attention(q, k, v)
        elif pos == 0:  # queries and keys are the same positions: the usual causal mask
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        else:  # query i (position pos + i) may see keys 0 .. pos + i
            mask = torch.ones(T, pos + T, dtype=torch.bool, device=x.device).tril(diagonal=pos)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side again, (B, T, C)
        return self.proj(y)


class ShortConvFunction(torch.autograd.Function):
    """y[t] = x[t] + sum_k w[k] * x[t - k] (k = 0 .. K-1, x[t - k] = 0 before the start).

    The forward and backward written with in-place multiply-adds on shifted views: no padded
    copies, half the ops (and 2x the speed) of the same function in autograd's plain ops.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        w = weight.to(x.dtype)  # (K, C)
        y = torch.addcmul(x, x, w[0])  # the residual x, plus k = 0
        for k in range(1, w.shape[0]):
            y[:, k:].addcmul_(x[:, :-k], w[k])  # position t gets w[k] * x[t - k]
        ctx.save_for_backward(x, weight)
        return y

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, weight = ctx.saved_tensors
        w = weight.to(grad_y.dtype)
        grad_x = torch.addcmul(grad_y, grad_y, w[0])
        grad_w = torch.empty_like(weight)
        grad_w[0] = (grad_y * x).sum((0, 1))
        for k in range(1, w.shape[0]):
            grad_x[:, :-k].addcmul_(grad_y[:, k:], w[k])  # x[t] fed y[t + k]
            grad_w[k] = (grad_y[:, k:] * x[:, :-k]).sum((0, 1))
        return grad_x, grad_w


class ShortConv(nn.Module):
    """x plus a causal depthwise convolution of x over positions, (B, T, C) -> (B, T, C).

    Each channel at position t is mixed with the same channel at the `width - 1` positions
    before it ("Canon layers", Allen-Zhu 2025). Before the feed-forward it hands the MLP the
    last few characters directly, where attention has to find them by content (what that is
    worth in the CPU recipe: docs/recipe.md).
    The weights start at zero, so the block starts as it would be without it.
    """

    def __init__(self, size: int, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(width, size))  # (K, C)

    def forward(self, x: torch.Tensor, tail: torch.Tensor | None = None, pos: int = 0):
        """tail: with a KV cache, a (B, K-1, C) buffer holding the inputs of the K-1 positions
        before x (read when pos > 0; overwritten with x's last ones)."""
        if tail is None or tail.shape[1] == 0:
            return ShortConvFunction.apply(x, self.weight)
        context = torch.cat([tail if pos > 0 else torch.zeros_like(tail), x], dim=1)
        tail.copy_(context[:, -tail.shape[1] :])
        return ShortConvFunction.apply(context, self.weight)[:, tail.shape[1] :]


class FeedForward(nn.Module):
    """max(0, x W1 + b1) W2 + b2, with a hidden layer 4 times wider than the embedding.

    (`activation` and `ffwd_size` change the max(0, .) and the width.)
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        hidden = config.ffwd_size or 4 * config.embed_size
        self.fc = nn.Linear(config.embed_size, hidden, bias=config.bias)
        self.proj = nn.Linear(hidden, config.embed_size, bias=config.bias)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.activation(self.fc(x)))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block: x + drop(attn(ln1(x))), then x + drop(ffwd(ln2(x)))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln1 = norm(config)
        self.attn = CausalSelfAttention(config)
        self.ln2 = norm(config)
        self.ffwd = FeedForward(config)
        self.dropout = nn.Dropout(config.dropout)
        self.conv = ShortConv(config.embed_size, config.ffwd_conv) if config.ffwd_conv else None

    def forward(self, x, rope=None, kv=None, pos=0, conv_tail=None):
        x = x + self.dropout(self.attn(self.ln1(x), rope, kv, pos))
        h = self.ln2(x)
        if self.conv is not None:
            h = self.conv(h, conv_tail, pos)
        return x + self.dropout(self.ffwd(h))  # (B, T, C)


class Cache(Protocol):
    """What the model reads and writes of a KV cache (learngpt.engine.KVCache is one)."""

    layers: list[tuple[torch.Tensor, torch.Tensor]]  # each layer's (keys, values) buffers
    conv_tails: list[torch.Tensor]  # each layer's last ffwd_conv - 1 convolution inputs
    length: int  # positions 0 .. length - 1 are filled


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        problem = config.problem()
        if problem:
            raise ValueError(f"{problem[0]} {problem[1]}")
        self.config = config
        C = config.embed_size
        self.token_embedding = nn.Embedding(config.vocab_size, C)
        if config.rotary:
            head_size = C // config.n_heads
            self.register_buffer(
                "rope", rotary_tables(config.block_size, head_size), persistent=False
            )
        else:
            self.position_embedding = nn.Embedding(config.block_size, C)
        self.embedding_dropout = nn.Dropout(config.dropout if config.nanogpt_dropout else 0.0)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = norm(config)
        self.lm_head = nn.Linear(C, config.vocab_size, bias=config.bias and config.head_bias)
        if config.tie_weights:
            # One (V, C) matrix both reads tokens in and scores them out: fewer parameters, and
            # every token's row gets a gradient at every step, which helps a small model.
            self.lm_head.weight = self.token_embedding.weight
        self.apply(self._init_weights)
        # GPT-2: each residual branch ends in a projection whose std is scaled by
        # 1/sqrt(2 * n_layers), so that the sum of 2 * n_layers branches keeps a steady size.
        for block in self.blocks:
            for proj in (block.attn.proj, block.ffwd.proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        """Number of parameters (a tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: Cache | None = None,
        last_only: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, T) token ids -> logits (B, T, V), and the cross-entropy loss if targets given.

        With a `cache`, idx holds the positions after the cached ones (cache.length onwards),
        and the cache grows by T. last_only: the logits of the last position only, (B, 1, V),
        which is all that generation needs (the head is skipped for the others).
        """
        B, T = idx.shape
        pos = cache.length if cache is not None else 0
        if pos + T > self.config.block_size:
            raise ValueError(
                f"cannot run {pos + T} positions: block_size is {self.config.block_size}"
            )
        # bf16: torch.autocast runs the matmuls in bfloat16 and keeps precision-sensitive ops
        # (softmax, norms, the loss) in float32. Only while training: eval and sampling are exact.
        use_bf16 = self.config.bf16 and self.training
        with torch.autocast(device_type=idx.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = self._logits(idx, cache, pos, last_only)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(B * T, -1), targets.reshape(B * T))
        return logits, loss

    def _logits(self, idx: torch.Tensor, cache: Cache | None, pos: int, last_only: bool):
        T = idx.shape[1]
        x = self.token_embedding(idx)  # (B, T, C)
        rope = None
        if self.config.rotary:
            rope = (self.rope[0, pos : pos + T], self.rope[1, pos : pos + T])  # (T, hs/2) each
        else:
            positions = torch.arange(pos, pos + T, device=idx.device)
            x = x + self.position_embedding(positions)  # (B, T, C) + (T, C)
        x = self.embedding_dropout(x)
        for i, block in enumerate(self.blocks):
            kv, tail = (cache.layers[i], cache.conv_tails[i]) if cache is not None else (None, None)
            x = block(x, rope, kv, pos, tail)
        if cache is not None:
            cache.length += T
        if last_only:
            x = x[:, -1:]  # (B, 1, C)
        return self.lm_head(self.ln_f(x))  # (B, T, V)


# -- the optimizer (nanochat's setup_optimizers: the one place its param groups are built) -------
# AdamW alone, or Muon for the blocks' weight matrices plus AdamW for the rest. Muon (Jordan et
# al. 2024, from the modern nanoGPT speed-runs) keeps a momentum of each matrix's gradient like
# SGD, but steps along its orthogonalised version (a few Newton-Schulz iterations set every
# singular value to about 1), so that no single direction dominates an update. It only suits
# the 2-D weights inside the blocks; the embedding, the head, the biases and the norm gains stay
# with AdamW. torch.optim.Muon is PyTorch's implementation (run here as BatchedMuon, the same
# algorithm with fewer, batched products: training/muon.py); with adjust_lr_fn
# "match_rms_adamw" its update has AdamW's size, so the two share one learning rate and
# schedule (times `muon_lr_ratio`). A param group may carry an "lr_scale": the trainer sets its
# learning rate to the schedule's value times that scale. AdamW decays the matrices and
# embeddings only: decay pulls weights towards 0, which for a norm's gain (that should sit
# near 1) or a bias is only harm, and they are too few to overfit with.


def muon_matrices(model: GPT) -> list[nn.Parameter]:
    """What Muon steps: the blocks' Linear weights (not the (K, C) weights of ffwd_conv, which
    are 2-D but no linear map)."""
    return [m.weight for block in model.blocks for m in block.modules() if isinstance(m, nn.Linear)]


def build_optimizer(model: GPT, config: Any) -> torch.optim.Optimizer:
    """AdamW over every parameter, or (config.muon) Muon over the blocks' Linear matrices and
    AdamW over the rest. config: weight_decay, learning_rate, beta1, beta2, muon, muon_*."""
    betas = (config.beta1, config.beta2)
    if not config.muon:
        return adamw(list(model.parameters()), config.weight_decay, config.learning_rate, betas)
    matrices = muon_matrices(model)
    chosen = {id(p) for p in matrices}
    rest = [p for p in model.parameters() if id(p) not in chosen]
    muon = BatchedMuon(
        [{"params": matrices, "lr_scale": config.muon_lr_ratio}],
        lr=config.learning_rate * config.muon_lr_ratio,
        weight_decay=config.weight_decay,
        momentum=config.muon_momentum,
        ns_steps=config.muon_ns_steps,
        adjust_lr_fn="match_rms_adamw",
    )
    return Optimizers(muon, adamw(rest, config.weight_decay, config.learning_rate, betas))


def adamw(
    params: list[nn.Parameter],
    weight_decay: float,
    learning_rate: float,
    betas: tuple[float, float],
) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and embeddings only; fused (all parameters in one
    pass) on CPU and CUDA."""
    params = [p for p in params if p.requires_grad]  # a tied matrix appears once
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=fused)


class Optimizers(torch.optim.Optimizer):
    """Several optimizers over disjoint parameters, stepped as one.

    param_groups lists every group of every optimizer (the loop sets their learning rates), and
    state_dict() is one ordinary optimizer state dict (parameters numbered across all of them),
    so a checkpoint stores it like any other optimizer's.
    """

    def __init__(self, *optimizers: torch.optim.Optimizer):
        self.optimizers = optimizers  # no super().__init__: the parts hold the state

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [group for opt in self.optimizers for group in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure=None) -> None:
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> dict[str, Any]:
        state, groups, offset = {}, [], 0
        for opt in self.optimizers:
            sd = opt.state_dict()
            state.update({offset + i: s for i, s in sd["state"].items()})
            for group in sd["param_groups"]:
                groups.append({**group, "params": [offset + i for i in group["params"]]})
            offset += sum(len(g["params"]) for g in sd["param_groups"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = iter(state_dict["param_groups"])
        offset = 0
        for opt in self.optimizers:
            mine = [next(groups) for _ in opt.param_groups]
            count = sum(len(g["params"]) for g in mine)
            opt.load_state_dict(
                {
                    "state": {
                        i - offset: s
                        for i, s in state_dict["state"].items()
                        if offset <= int(i) < offset + count
                    },
                    "param_groups": [
                        {**g, "params": [i - offset for i in g["params"]]} for g in mine
                    ],
                }
            )
            offset += count
