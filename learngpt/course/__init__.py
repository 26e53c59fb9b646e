"""The course, one file per step. Each step is a small difference from the one before it."""

from learngpt.course.step1_bigram import GPTVer1
from learngpt.course.step2_loop_average import GPTVer2, HeadVer1
from learngpt.course.step3_matmul_average import HeadVer2
from learngpt.course.step4_softmax_average import HeadVer3
from learngpt.course.step5_self_attention import HeadVer4
from learngpt.course.step6_positional_encoding import GPTVer3

__all__ = ["GPTVer1", "GPTVer2", "GPTVer3", "HeadVer1", "HeadVer2", "HeadVer3", "HeadVer4"]
