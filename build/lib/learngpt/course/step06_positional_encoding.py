"""Step 6: positional encodings. Attention is blind to order; adding a position vector fixes that.

Four candidate encodings, each a (T, C) table added to the token embeddings. Only v4 (Vaswani et
al. 2017) has all four properties one wants (the course's test_6.py): distinct positions, bounded
values, distances that do not depend on the sentence length, and equal distances for equal gaps.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step02_loop_average import GPTVer2


class GPTVer3(GPTVer2):
    def __init__(
        self, contextualizer: nn.Module, vocab_size: int, block_size: int, embed_size: int
    ):
        super().__init__(contextualizer, vocab_size, block_size, embed_size)
        self.add_positions(block_size, embed_size)

    def add_positions(self, block_size: int, embed_size: int) -> None:
        """Give the model its position vectors: here the fixed (T, C) sinusoids of v4."""
        self.register_buffer("pos_encoding", self.pos_encodings_v4(block_size, embed_size))

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 6-5
        T = idx.shape[1]
        return self.token_embedding_table(idx) + self.pos_encoding[:T]  # (B, T, C) + (T, C)
        # END SOLUTION

    @staticmethod
    def pos_encodings_v1(block_size: int, embed_size: int) -> torch.Tensor:
        """The position index itself, in every channel: unbounded as sentences grow."""
        # BEGIN SOLUTION 6-1
        pos = torch.arange(block_size, dtype=torch.float32)[:, None]  # (T, 1)
        return pos.expand(block_size, embed_size).clone()
        # END SOLUTION

    @staticmethod
    def pos_encodings_v2(block_size: int, embed_size: int) -> torch.Tensor:
        """The index divided by the last index: bounded, but a step's size depends on the length."""
        # BEGIN SOLUTION 6-2
        pos = torch.arange(block_size, dtype=torch.float32)[:, None]
        return (pos / max(block_size - 1, 1)).expand(block_size, embed_size).clone()
        # END SOLUTION

    @staticmethod
    def pos_encodings_v3(block_size: int, embed_size: int) -> torch.Tensor:
        """sin(pos * 10000^(-i/C)) in channel i: bounded, but a gap's distance varies with pos."""
        # BEGIN SOLUTION 6-3
        pos = torch.arange(block_size, dtype=torch.float32)[:, None]  # (T, 1)
        freq = 10000 ** (-torch.arange(embed_size, dtype=torch.float32) / embed_size)  # (C,)
        return torch.sin(pos * freq)
        # END SOLUTION

    @staticmethod
    def pos_encodings_v4(block_size: int, embed_size: int) -> torch.Tensor:
        """Vaswani et al.: sin(pos / 10000^(2i/C)) in channel 2i, cos of the same in 2i + 1."""
        # BEGIN SOLUTION 6-4
        pos = torch.arange(block_size, dtype=torch.float32)[:, None]  # (T, 1)
        two_i = torch.arange(0, embed_size, 2, dtype=torch.float32)  # (ceil(C/2),)
        angle = pos / 10000 ** (two_i / embed_size)  # (T, ceil(C/2))
        pe = torch.zeros(block_size, embed_size)
        pe[:, 0::2] = torch.sin(angle)
        pe[:, 1::2] = torch.cos(angle[:, : embed_size // 2])
        return pe
        # END SOLUTION
