"""Step 9: the hand-written LayerNorm and BlockVer3 (pre-norm)."""

import pytest
import torch
import torch.nn.functional as F

from learngpt import BlockVer3, LayerNorm, MultiHeadVer2
from learngpt.experiments import EXPERIMENTS, format_table, gradient_ratio, run_experiment


def test_layer_norm_features_dim_is_properly_normalized():
    torch.manual_seed(0)
    ln = LayerNorm(16)
    # Inputs far from mean 0, variance 1, with a different scale at every position.
    x = torch.randn(4, 8, 16) * torch.rand(4, 8, 1) * 10 + 3
    y = ln(x)
    # Every position's feature vector has mean 0 and variance 1 ...
    torch.testing.assert_close(y.mean(dim=-1), torch.zeros(4, 8), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=-1, unbiased=False), torch.ones(4, 8), atol=1e-3, rtol=0)
    # ... which is a statement about the feature dim only: across the batch nothing is forced.
    assert y.mean(dim=0).abs().max() > 0.1
    # Then the learned gain and bias apply per feature.
    with torch.no_grad():
        ln.weight.fill_(2.0)
        ln.bias.fill_(0.5)
    torch.testing.assert_close(ln(x).mean(dim=-1), torch.full((4, 8), 0.5), atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(3, 16), (2, 5, 16), (2, 3, 4, 16)])
def test_layer_norm_matches_torch(shape):
    torch.manual_seed(0)
    ln = LayerNorm(16, eps=1e-5)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(shape) * 3 + 1
    expected = F.layer_norm(x, (16,), ln.weight, ln.bias, eps=1e-5)
    torch.testing.assert_close(ln(x), expected)


@pytest.mark.parametrize("seed", range(5))
def test_layer_norm_mitigates_vanishing_gradient(seed):
    # 20 layers of Linear -> tanh: the gradient reaching the first layer is a tiny fraction of
    # the last layer's. With a LayerNorm after each Linear it stays of the same order.
    without = gradient_ratio(n_layers=20, width=16, layer_norm=False, seed=seed)
    with_ln = gradient_ratio(n_layers=20, width=16, layer_norm=True, seed=seed)
    assert without < 1e-3
    assert with_ln > 0.05
    assert with_ln > 1000 * without


def test_block_ver_3_normalises_the_input_of_each_sublayer():
    torch.manual_seed(0)
    block = BlockVer3(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16) * 5
    h = x + block.head(F.layer_norm(x, (16,)))  # pre-norm: the residual path is untouched
    torch.testing.assert_close(block(x), h + block.ffwd(F.layer_norm(h, (16,))))


def test_layer_norm_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    experiment = EXPERIMENTS["layer-norm"]  # n_layers x BlockVer3 vs n_layers x BlockVer2
    config = experiment.config(course_config, setup="test")
    assert config.n_layers >= 10
    result = run_experiment(experiment, config, *char_splits, char_tokenizer.vocab_size)
    assert result.holds(result.seeds[0]), format_table(result)
