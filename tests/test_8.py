"""Step 8: the feed-forward network (BlockVer1) and residual connections (BlockVer2)."""

import torch

from learngpt import BlockVer1, BlockVer2, FeedForward, MultiHeadVer2
from learngpt.experiments import EXPERIMENTS, format_table, run_experiment


def test_feed_forward_is_the_course_formula_at_each_position():
    torch.manual_seed(0)
    C = 16
    ffn = FeedForward(C)
    first, second = ffn.net[0], ffn.net[2]
    assert first.weight.shape == (4 * C, C) and second.weight.shape == (C, 4 * C)
    x = torch.randn(2, 5, C)
    # max(0, x W1 + b1) W2 + b2, with W1 = first.weight.T of shape (C, 4C)
    expected = torch.clamp(x @ first.weight.T + first.bias, min=0) @ second.weight.T + second.bias
    torch.testing.assert_close(ffn(x), expected)
    # Position-wise: changing one position leaves the others' outputs alone.
    x2 = x.clone()
    x2[:, 2] += 1.0
    torch.testing.assert_close(ffn(x2)[:, :2], ffn(x)[:, :2])


def test_block_ver_2_adds_each_sublayer_to_its_input():
    torch.manual_seed(0)
    block = BlockVer2(MultiHeadVer2(8, 16, 4), 16)
    plain = BlockVer1(block.head, 16)
    plain.ffwd = block.ffwd  # the same two sub-layers, without the residual connections
    x = torch.randn(2, 8, 16)
    after_attention = x + block.head(x)
    torch.testing.assert_close(block(x), after_attention + block.ffwd(after_attention))
    torch.testing.assert_close(plain(x), block.ffwd(block.head(x)))


def test_ffn_helps(course_config, char_splits, char_tokenizer):
    experiment = EXPERIMENTS["ffn"]  # BlockVer1 (attention + FFN) vs MultiHeadVer2 alone
    config = experiment.config(course_config, setup="test")
    result = run_experiment(experiment, config, *char_splits, char_tokenizer.vocab_size)
    assert result.holds(result.seeds[0]), format_table(result)


def test_residual_conn_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    experiment = EXPERIMENTS["residual"]  # n_layers x BlockVer2 vs n_layers x BlockVer1
    config = experiment.config(course_config, setup="test")
    assert config.n_layers >= 10
    result = run_experiment(experiment, config, *char_splits, char_tokenizer.vocab_size)
    assert result.holds(result.seeds[0]), format_table(result)
