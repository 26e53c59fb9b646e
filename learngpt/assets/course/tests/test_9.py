"""Step 9: the hand-written LayerNorm and BlockVer3 (pre-norm).

Run `pytest tests/test_9.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import mygpt
import pytest
import torch
import torch.nn.functional as F
from mygpt import BlockVer3, LayerNorm, MultiHeadVer2

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, claim_holds, record
from learngpt.experiments import gradient_ratio


@pytest.mark.todos("9-1")
def test_layer_norm_features_dim_is_properly_normalized():
    torch.manual_seed(0)
    ln = LayerNorm(16)
    x = torch.randn(4, 8, 16) * torch.rand(4, 8, 1) * 10 + 3  # far from mean 0, variance 1
    y = ln(x)
    mean, var = y.mean(dim=-1), y.var(dim=-1, unbiased=False)
    assert_close(mean, torch.zeros(4, 8), say("tests.9.mean"), atol=1e-5)
    assert_close(var, torch.ones(4, 8), say("tests.9.var"), 1e-3)
    stats = dict(mean=float(mean.abs().max()), var_min=float(var.min()), var_max=float(var.max()))
    record("layer_norm_stats", stats)


@pytest.mark.todos("9-1")
@pytest.mark.parametrize("shape", [(3, 16), (2, 5, 16), (2, 3, 4, 16)])
def test_layer_norm_matches_torch(shape):
    torch.manual_seed(0)
    ln = LayerNorm(16, eps=1e-5)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    x = torch.randn(shape) * 3 + 1
    expected = F.layer_norm(x, (16,), ln.weight, ln.bias, eps=1e-5)
    assert_close(ln(x), expected, say("tests.9.torch"), atol=1e-4)


@pytest.mark.todos("9-1")
def test_layer_norm_puts_eps_inside_the_square_root():
    torch.manual_seed(0)
    ln = LayerNorm(16, eps=0.5)  # an eps that large shows where it is added
    x = torch.randn(3, 16)
    assert_close(ln(x), F.layer_norm(x, (16,), eps=0.5), say("check.layer_norm_eps"), atol=1e-5)


@pytest.mark.todos("9-1")
@pytest.mark.parametrize("seed", range(3))
def test_layer_norm_mitigates_vanishing_gradient(seed):
    without = gradient_ratio(n_layers=20, width=16, layer_norm=None, seed=seed)
    with_ln = gradient_ratio(n_layers=20, width=16, layer_norm=LayerNorm, seed=seed)
    ratios = dict(without=float(without), with_ln=float(with_ln))
    record("gradient", {"seed": seed} | ratios)
    assert with_ln > 0.05 and with_ln > 1000 * without, say("tests.9.gradient", **ratios)


@pytest.mark.todos("9-1", "9-2", "8-1", "4-1")  # and MultiHeadVer2's masked softmax
def test_block_ver_3_normalises_the_input_of_each_sublayer():
    torch.manual_seed(0)
    block = BlockVer3(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16) * 5
    h = x + block.head(F.layer_norm(x, (16,)))
    assert_close(
        block(x), h + block.ffwd(F.layer_norm(h, (16,))),
        say("tests.9.block3"), atol=1e-4,
    )  # fmt: skip


@pytest.mark.todos("9-1", "9-2", "8-1", "8-3", "4-1")  # BlockVer2 is the baseline
def test_layer_norm_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "layer-norm", course_config, char_splits, char_tokenizer.vocab_size)
