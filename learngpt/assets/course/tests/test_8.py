"""Step 8: the feed-forward network (BlockVer1) and residual connections (BlockVer2).

Run `pytest tests/test_8.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import mygpt
import pytest
import torch
from mygpt import BlockVer1, BlockVer2, FeedForward, MultiHeadVer2

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, claim_holds, record


@pytest.mark.todos("8-1")
def test_feed_forward_has_the_course_shapes_and_works_position_wise():
    torch.manual_seed(0)
    C = 16
    ffn = FeedForward(C)
    sizes = sorted(p.numel() for p in ffn.parameters())
    expected = sorted([C * 4 * C, 4 * C, 4 * C * C, C])
    assert sizes == expected, say("tests.8.ffn_params", C=C, expected=expected, got=sizes)
    record("ffn_params", {"C": C, "params": sum(sizes)})
    x = torch.randn(2, 5, C)
    assert ffn(x).shape == (2, 5, C), say("tests.8.ffn_shape")
    x2 = x.clone()
    x2[:, 2] += 1.0
    assert_close(ffn(x2)[:, :2], ffn(x)[:, :2], say("tests.8.position_wise"))
    a, b = torch.randn(3, C), torch.randn(3, C)
    zero = torch.zeros(1, C)
    assert not torch.allclose(ffn(a + b) + ffn(zero), ffn(a) + ffn(b), atol=1e-4), say(
        "tests.8.nonlinear"
    )


@pytest.mark.todos("8-1", "8-2", "4-1")  # and MultiHeadVer2's masked softmax
def test_block_ver_1_is_attention_then_feed_forward():
    torch.manual_seed(0)
    block = BlockVer1(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16)
    assert_close(block(x), block.ffwd(block.head(x)), say("tests.8.block1"))


@pytest.mark.todos("8-1", "8-3", "4-1")
def test_block_ver_2_adds_each_sublayer_to_its_input():
    torch.manual_seed(0)
    block = BlockVer2(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16)
    h = x + block.head(x)
    assert_close(block(x), h + block.ffwd(h), say("tests.8.block2"))


@pytest.mark.todos("8-1", "8-2", "4-1")
def test_ffn_helps(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "ffn", course_config, char_splits, char_tokenizer.vocab_size)


@pytest.mark.todos("8-1", "8-2", "8-3", "4-1")
def test_residual_conn_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "residual", course_config, char_splits, char_tokenizer.vocab_size)
