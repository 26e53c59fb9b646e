"""Step 7: multi-head attention, and GPTVer4, the model the week-2 tests train.

One head of size C looks at the past one way. n_heads heads of size C / n_heads each look at it
their own way (one may follow the previous letter, another the start of the word) for the same
amount of computation; a projection mixes what they found.

MultiHeadVer1 runs the heads one after another, as a list of step-5 heads. MultiHeadVer2 computes
exactly the same thing with one (C, C) matrix for all queries (likewise keys and values) and
treats the heads as one more batch dimension, so it launches a handful of big operations instead
of many small ones.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step04_softmax_average import HeadVer3
from learngpt.course.step05_self_attention import HeadVer4
from learngpt.course.step06_positional_encoding import GPTVer3


class MultiHeadVer1(nn.Module):
    """n_heads HeadVer4 side by side, outputs concatenated, then a Linear(C, C) projection."""

    def __init__(self, block_size: int, embed_size: int, n_heads: int):
        super().__init__()
        head_size = embed_size // n_heads  # so that the heads together are C wide
        self.heads = nn.ModuleList(
            HeadVer4(block_size, embed_size, head_size) for _ in range(n_heads)
        )
        self.proj = nn.Linear(embed_size, embed_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 7-1
        out = torch.cat([head(x) for head in self.heads], dim=-1)  # H x (B, T, hs) -> (B, T, C)
        return self.proj(out)  # (B, T, C)
        # END SOLUTION


class MultiHeadVer2(nn.Module):
    """MultiHeadVer1 batched over heads: rows h*hs:(h+1)*hs of query.weight are head h's query."""

    def __init__(self, block_size: int, embed_size: int, n_heads: int):
        super().__init__()
        self.block_size = block_size
        self.n_heads = n_heads
        self.head_size = embed_size // n_heads
        self.query = nn.Linear(embed_size, embed_size, bias=False)
        self.key = nn.Linear(embed_size, embed_size, bias=False)
        self.value = nn.Linear(embed_size, embed_size, bias=False)
        self.proj = nn.Linear(embed_size, embed_size)

    @classmethod
    def from_ver1(cls, ver1: MultiHeadVer1) -> MultiHeadVer2:
        """A MultiHeadVer2 computing exactly what `ver1` computes: its heads' weights stacked."""
        head = ver1.heads[0]
        embed_size = head.query.in_features
        ver2 = cls(head.block_size, embed_size, len(ver1.heads))
        with torch.no_grad():
            for name in ("query", "key", "value"):
                # Each head's (hs, C) weight becomes hs rows of the (C, C) weight, in head order.
                stacked = torch.cat([getattr(h, name).weight for h in ver1.heads], dim=0)
                getattr(ver2, name).weight.copy_(stacked)
            ver2.proj.load_state_dict(ver1.proj.state_dict())
        return ver2

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, H, T, hs): the heads become a batch dimension."""
        B, T, C = x.shape
        return x.view(B, T, self.n_heads, self.head_size).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q = self.split_heads(self.query(x))  # (B, H, T, hs)
        k = self.split_heads(self.key(x))  # (B, H, T, hs)
        v = self.split_heads(self.value(x))  # (B, H, T, hs)
        scores = q @ k.transpose(-2, -1) * self.head_size**-0.5  # (B, H, T, T)
        wei = HeadVer3.masked_softmax(scores)  # (B, H, T, T), the future masked out
        out = wei @ v  # (B, H, T, hs)
        out = out.transpose(1, 2).reshape(B, T, C)  # heads side by side again, as in Ver1's cat
        return self.proj(out)  # (B, T, C)


class GPTVer4(GPTVer3):
    """GPTVer3 with learned positions instead of sinusoids, and a final LayerNorm before lm_head.

    The final LayerNorm (torch's; step 9 writes one by hand) keeps the scale of what lm_head
    reads steady however many blocks the contextualizer stacks.
    """

    def __init__(
        self, contextualizer: nn.Module, vocab_size: int, block_size: int, embed_size: int
    ):
        super().__init__(contextualizer, vocab_size, block_size, embed_size)
        self.ln_f = nn.LayerNorm(embed_size)

    def add_positions(self, block_size: int, embed_size: int) -> None:
        # A learned (T, C) table takes the place of step 6's fixed sinusoids.
        self.position_embedding_table = nn.Embedding(block_size, embed_size)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        positions = torch.arange(T, device=idx.device)  # (T,)
        return self.token_embedding_table(idx) + self.position_embedding_table(positions)

    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.contextualizer(self.embed(idx))  # (B, T, C)
        return self.lm_head(self.ln_f(x))  # (B, T, V)
