"""What only the reference course code (learngpt/course) promises, beyond the workspace's tests.

The course's tests themselves live in the learner's workspace (learngpt/assets/course/tests) and
run against the reference in tests/test_course.py. These pin the reference's own layout: the
weight layout that makes MultiHeadVer2.from_ver1 exact, torch-equivalence, GPTVer4's parts, the
subclass chain, and dropout's rate.
"""

import torch
import torch.nn.functional as F
from torch import nn

from learngpt import (
    BlockVer4,
    FeedForward,
    GPTVer1,
    GPTVer2,
    GPTVer3,
    GPTVer4,
    HeadVer1,
    HeadVer4,
    MultiHeadVer1,
    MultiHeadVer2,
)


def test_each_version_is_a_subclass_of_the_last_built_by_its_parents_init():
    assert issubclass(GPTVer4, GPTVer3) and issubclass(GPTVer3, GPTVer2)
    assert issubclass(GPTVer2, GPTVer1)
    model = GPTVer2(HeadVer1(), vocab_size=11, block_size=8, embed_size=16)
    assert model.token_embedding_table.weight.shape == (11, 16)  # GPTVer2's, not GPTVer1's table
    assert model.vocab_size == 11 and model.block_size == 8  # set by GPTVer1.__init__


def test_multi_head_ver_2_from_ver_1_stacks_the_heads_weights_in_order():
    torch.manual_seed(0)
    ver1 = MultiHeadVer1(block_size=8, embed_size=16, n_heads=4)
    ver2 = MultiHeadVer2.from_ver1(ver1)
    assert torch.equal(ver2.query.weight[4:8], ver1.heads[1].query.weight)
    x = torch.randn(5, 8, 16)
    torch.testing.assert_close(ver2(x), ver1(x))


def test_each_head_of_multi_head_ver_2_is_torch_causal_attention():
    torch.manual_seed(0)
    B, T, C, H = 3, 8, 16, 4
    mha = MultiHeadVer2(T, C, H)
    x = torch.randn(B, T, C)
    q, k, v = (mha.split_heads(layer(x)) for layer in (mha.query, mha.key, mha.value))
    heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, hs)
    expected = mha.proj(heads.transpose(1, 2).reshape(B, T, C))
    torch.testing.assert_close(mha(x), expected)


def test_head_ver_4_keeps_no_variance_of_a_single_score():
    head = HeadVer4(block_size=8, embed_size=4, head_size=4)
    head(torch.randn(1, 1, 4))  # T = 1, as in generation one token at a time
    assert head.var is None


def test_gpt_ver_4_learns_positions_and_normalises_before_lm_head():
    torch.manual_seed(0)
    V, T, C = 11, 8, 16
    model = GPTVer4(MultiHeadVer2(T, C, 4), V, T, C)
    assert "pos_encoding" not in dict(model.named_buffers())  # learned positions instead
    assert model.position_embedding_table.weight.shape == (T, C)
    assert isinstance(model.ln_f, nn.LayerNorm)
    logits = model.logits(torch.full((1, T), 3))
    assert not torch.allclose(logits[0, 0], logits[0, 1])
    seen = {}
    model.lm_head.register_forward_hook(lambda m, inp, out: seen.update(x=inp[0]))
    model.logits(torch.randint(V, (2, T)))
    torch.testing.assert_close(seen["x"].mean(-1), torch.zeros(2, T), atol=1e-5, rtol=0)


def test_feed_forward_is_the_course_formula():
    torch.manual_seed(0)
    C = 16
    ffn = FeedForward(C)
    first, second = ffn.net[0], ffn.net[2]
    x = torch.randn(2, 5, C)
    expected = torch.clamp(x @ first.weight.T + first.bias, min=0) @ second.weight.T + second.bias
    torch.testing.assert_close(ffn(x), expected)


def test_block_ver_4_drops_at_the_rate_asked_for():
    torch.manual_seed(0)
    block = BlockVer4(MultiHeadVer2(8, 16, 4), 16, dropout=0.5).train()
    seen = []
    block.dropout.register_forward_hook(lambda m, inputs, output: seen.append((inputs[0], output)))
    block(torch.randn(64, 8, 16))
    before, after = seen[0]
    dropped = (after == 0) & (before != 0)
    assert 0.45 < dropped.float().mean().item() < 0.55
    kept = after != 0
    torch.testing.assert_close(after[kept], before[kept] * 2)  # survivors scaled by 1 / (1 - p)
