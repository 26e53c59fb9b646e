"""The models the claims compare: every one a GPTVer4; only its contextualizer differs.

A builder takes (config, vocab_size) and returns a fresh, untrained model; the runner seeds
torch before calling it, so both models of a comparison start from the same random state.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from learngpt.config import CourseConfig
from learngpt.course import BlockVer1, GPTVer4, HeadVer4, MultiHeadVer1, MultiHeadVer2

# A model builder: (config, vocab_size) -> a fresh, untrained model.
Builder = Callable[[CourseConfig, int], nn.Module]


def single_head(config: CourseConfig, vocab_size: int) -> nn.Module:
    """One HeadVer4 as wide as the embedding (head_size = C)."""
    C = config.embed_size
    return GPTVer4(HeadVer4(config.block_size, C, C), vocab_size, config.block_size, C)


def multi_head(config: CourseConfig, vocab_size: int) -> nn.Module:
    """MultiHeadVer1: n_heads heads of size C / n_heads, then a projection."""
    C = config.embed_size
    head = MultiHeadVer1(config.block_size, C, config.n_heads)
    return GPTVer4(head, vocab_size, config.block_size, C)


def attention_only(config: CourseConfig, vocab_size: int) -> nn.Module:
    """MultiHeadVer2 alone (no feed-forward)."""
    C = config.embed_size
    head = MultiHeadVer2(config.block_size, C, config.n_heads)
    return GPTVer4(head, vocab_size, config.block_size, C)


def attention_then_ffn(config: CourseConfig, vocab_size: int) -> nn.Module:
    """One BlockVer1: MultiHeadVer2, then the feed-forward network."""
    C = config.embed_size
    block = BlockVer1(MultiHeadVer2(config.block_size, C, config.n_heads), C)
    return GPTVer4(block, vocab_size, config.block_size, C)


def deep_stack(block: Callable[[nn.Module, int], nn.Module]) -> Builder:
    """A builder of GPTVer4 over config.n_layers blocks of one kind, each with a MultiHeadVer2.

    (With BlockVer4 that is NanoGPT, whose blocks also need the dropout: use NanoGPT.from_config.)
    """

    def build(config: CourseConfig, vocab_size: int) -> nn.Module:
        C = config.embed_size
        blocks = nn.Sequential(
            *(
                block(MultiHeadVer2(config.block_size, C, config.n_heads), C)
                for _ in range(config.n_layers)
            )
        )
        return GPTVer4(blocks, vocab_size, config.block_size, C)

    return build
