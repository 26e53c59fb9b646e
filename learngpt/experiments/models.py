"""The models the claims compare: every one a GPTVer4; only its contextualizer differs.

A builder takes (config, vocab_size) and returns a fresh, untrained model; the runner seeds
torch before calling it, so both models of a comparison start from the same random state.
The builders take their classes from one set of course classes: learngpt.course (the
reference) or a learner's `mygpt` package, whose workspace tests run the same experiments.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

import learngpt.course
from learngpt.config import CourseConfig

# A model builder: (config, vocab_size) -> a fresh, untrained model.
Builder = Callable[[CourseConfig, int], nn.Module]


class CourseModels:
    """Builders of the compared models from `course`: anything with the course's classes as
    attributes (GPTVer4, HeadVer4, MultiHeadVer1/2, BlockVer1..4)."""

    def __init__(self, course=learngpt.course):
        self.course = course

    def gpt(self, config: CourseConfig, vocab_size: int, contextualizer: nn.Module) -> nn.Module:
        C, T = config.embed_size, config.block_size
        return self.course.GPTVer4(contextualizer, vocab_size, T, C)

    def attention(self, config: CourseConfig) -> nn.Module:
        return self.course.MultiHeadVer2(config.block_size, config.embed_size, config.n_heads)

    def single_head(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """One HeadVer4 as wide as the embedding (head_size = C)."""
        C = config.embed_size
        return self.gpt(config, vocab_size, self.course.HeadVer4(config.block_size, C, C))

    def multi_head(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """MultiHeadVer1: n_heads heads of size C / n_heads, then a projection."""
        head = self.course.MultiHeadVer1(config.block_size, config.embed_size, config.n_heads)
        return self.gpt(config, vocab_size, head)

    def attention_only(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """MultiHeadVer2 alone (no feed-forward)."""
        return self.gpt(config, vocab_size, self.attention(config))

    def attention_then_ffn(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """One BlockVer1: MultiHeadVer2, then the feed-forward network."""
        block = self.course.BlockVer1(self.attention(config), config.embed_size)
        return self.gpt(config, vocab_size, block)

    def deep_stack(self, block_name: str) -> Builder:
        """A builder of GPTVer4 over config.n_layers blocks of one kind, each with a MultiHeadVer2.

        With BlockVer4 (which also takes config.dropout) that is the course's NanoGPT.
        """

        def build(config: CourseConfig, vocab_size: int) -> nn.Module:
            block = getattr(self.course, block_name)
            extra = (config.dropout,) if block_name == "BlockVer4" else ()
            blocks = nn.Sequential(
                *(
                    block(self.attention(config), config.embed_size, *extra)
                    for _ in range(config.n_layers)
                )
            )
            return self.gpt(config, vocab_size, blocks)

        return build


REFERENCE = CourseModels()
single_head = REFERENCE.single_head
multi_head = REFERENCE.multi_head
attention_only = REFERENCE.attention_only
attention_then_ffn = REFERENCE.attention_then_ffn
deep_stack = REFERENCE.deep_stack
