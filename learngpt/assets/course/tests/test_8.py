"""Step 8: the feed-forward network (BlockVer1) and residual connections (BlockVer2).

Run `pytest tests/test_8.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import mygpt
import pytest
import torch
from mygpt import BlockVer1, BlockVer2, FeedForward, MultiHeadVer2

from learngpt.exercises.testkit import assert_close, claim_holds


@pytest.mark.todos("8-1")
def test_feed_forward_has_the_course_shapes_and_works_position_wise():
    torch.manual_seed(0)
    C = 16
    ffn = FeedForward(C)
    sizes = sorted(p.numel() for p in ffn.parameters())
    assert sizes == sorted([C * 4 * C, 4 * C, 4 * C * C, C]), (
        f"FeedForward({C}) should hold W1 (C, 4C), b1 (4C), W2 (4C, C), b2 (C): parameters of "
        f"{sorted([C * 4 * C, 4 * C, 4 * C * C, C])} numbers, got {sizes}"
    )
    x = torch.randn(2, 5, C)
    assert ffn(x).shape == (2, 5, C), "FeedForward should map (B, T, C) to (B, T, C)"
    x2 = x.clone()
    x2[:, 2] += 1.0
    assert_close(ffn(x2)[:, :2], ffn(x)[:, :2], "FeedForward must treat each position alone")
    a, b = torch.randn(3, C), torch.randn(3, C)
    zero = torch.zeros(1, C)
    assert not torch.allclose(ffn(a + b) + ffn(zero), ffn(a) + ffn(b), atol=1e-4), (
        "FeedForward should not be linear: put max(0, .) (ReLU) between the two layers"
    )


@pytest.mark.todos("8-1", "8-2")
def test_block_ver_1_is_attention_then_feed_forward():
    torch.manual_seed(0)
    block = BlockVer1(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16)
    assert_close(block(x), block.ffwd(block.head(x)), "BlockVer1(x) = ffwd(head(x))")


@pytest.mark.todos("8-1", "8-3")
def test_block_ver_2_adds_each_sublayer_to_its_input():
    torch.manual_seed(0)
    block = BlockVer2(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16)
    h = x + block.head(x)
    assert_close(block(x), h + block.ffwd(h), "BlockVer2(x): h = x + head(x), then h + ffwd(h)")


@pytest.mark.todos("8-1", "8-2")
def test_ffn_helps(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "ffn", course_config, char_splits, char_tokenizer.vocab_size)


@pytest.mark.todos("8-1", "8-2", "8-3")
def test_residual_conn_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "residual", course_config, char_splits, char_tokenizer.vocab_size)
