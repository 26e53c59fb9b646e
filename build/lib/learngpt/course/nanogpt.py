"""The model the course ends with: NanoGPT, a stack of step-10 blocks inside GPTVer4.

token + learned position embeddings -> n_layers x BlockVer4(MultiHeadVer2) -> LayerNorm -> lm_head
"""

from __future__ import annotations

from torch import nn

from learngpt.config import CourseConfig
from learngpt.course.step07_multi_head import GPTVer4, MultiHeadVer2
from learngpt.course.step10_dropout import BlockVer4


class NanoGPT(GPTVer4):
    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        embed_size: int,
        n_layers: int,
        n_heads: int,
        dropout: float,
    ):
        blocks = nn.Sequential(
            *(
                BlockVer4(MultiHeadVer2(block_size, embed_size, n_heads), embed_size, dropout)
                for _ in range(n_layers)
            )
        )
        super().__init__(blocks, vocab_size, block_size, embed_size)
        self.n_layers = n_layers
        self.n_heads = n_heads

    @classmethod
    def from_config(cls, config: CourseConfig, vocab_size: int) -> NanoGPT:
        """The NanoGPT that `config` describes (embed_size, n_layers, n_heads, dropout, ...)."""
        return cls(
            vocab_size,
            config.block_size,
            config.embed_size,
            config.n_layers,
            config.n_heads,
            config.dropout,
        )
