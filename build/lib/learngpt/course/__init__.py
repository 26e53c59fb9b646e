"""The course, one file per step. Each step is a small difference from the one before it."""

from learngpt.course.nanogpt import NanoGPT
from learngpt.course.step01_bigram import GPTVer1
from learngpt.course.step02_loop_average import GPTVer2, HeadVer1
from learngpt.course.step03_matmul_average import HeadVer2
from learngpt.course.step04_softmax_average import HeadVer3
from learngpt.course.step05_self_attention import HeadVer4
from learngpt.course.step06_positional_encoding import GPTVer3
from learngpt.course.step07_multi_head import GPTVer4, MultiHeadVer1, MultiHeadVer2
from learngpt.course.step08_feed_forward import BlockVer1, BlockVer2, FeedForward
from learngpt.course.step09_layer_norm import BlockVer3, LayerNorm
from learngpt.course.step10_dropout import BlockVer4

__all__ = [
    "GPTVer1",
    "GPTVer2",
    "GPTVer3",
    "HeadVer1",
    "HeadVer2",
    "HeadVer3",
    "HeadVer4",
    # week 2
    "MultiHeadVer1",
    "MultiHeadVer2",
    "GPTVer4",
    "FeedForward",
    "BlockVer1",
    "BlockVer2",
    "LayerNorm",
    "BlockVer3",
    "BlockVer4",
    "NanoGPT",
]
