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
from learngpt.exercises.testkit import assert_close, claim_holds
from learngpt.experiments import gradient_ratio


@pytest.mark.todos("9-1")
def test_layer_norm_features_dim_is_properly_normalized():
    torch.manual_seed(0)
    ln = LayerNorm(16)
    x = torch.randn(4, 8, 16) * torch.rand(4, 8, 1) * 10 + 3  # far from mean 0, variance 1
    y = ln(x)
    assert_close(y.mean(dim=-1), torch.zeros(4, 8), "the mean over the features", atol=1e-5)
    assert_close(
        y.var(dim=-1, unbiased=False), torch.ones(4, 8), "the variance over the features", 1e-3
    )


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
    assert_close(ln(x), expected, "LayerNorm(x) must equal torch's layer_norm", atol=1e-4)


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
    print(f"\n|grad of first layer| / |grad of last|: {without:.2e}, with LayerNorm {with_ln:.2e}")
    assert with_ln > 0.05 and with_ln > 1000 * without, (
        f"in 20 tanh layers the first layer's gradient should stay of the order of the last's "
        f"with LayerNorm (ratio {with_ln:.2e}), and vanish without it (ratio {without:.2e})"
    )


@pytest.mark.todos("9-1", "9-2")
def test_block_ver_3_normalises_the_input_of_each_sublayer():
    torch.manual_seed(0)
    block = BlockVer3(MultiHeadVer2(8, 16, 4), 16)
    x = torch.randn(2, 8, 16) * 5
    h = x + block.head(F.layer_norm(x, (16,)))
    assert_close(
        block(x), h + block.ffwd(F.layer_norm(h, (16,))),
        "BlockVer3(x): h = x + head(ln1(x)), then h + ffwd(ln2(h))", atol=1e-4,
    )  # fmt: skip


@pytest.mark.todos("9-1", "9-2")
def test_layer_norm_helps_when_network_is_deep(course_config, char_splits, char_tokenizer):
    claim_holds(mygpt, "layer-norm", course_config, char_splits, char_tokenizer.vocab_size)
