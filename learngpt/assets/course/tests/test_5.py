"""Step 5: HeadVer4, one head of causal self-attention, softmax(Q K^T / sqrt(d_k)) V.

Run `pytest tests/test_5.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import math

import pytest
import torch
from mygpt import GPTVer2, HeadVer3, HeadVer4

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, record, small_text_data
from learngpt.training.loop import train_model


@pytest.mark.todos("5-1")
@pytest.mark.parametrize("head_size", [16, 64])
def test_scaled_scores_have_unit_variance_with_unit_variance_q_and_k(head_size):
    torch.manual_seed(0)
    B, T, C = 16, 32, 8
    head = HeadVer4(T, C, head_size)
    out = head(torch.randn(B, T, C), debug=True)
    assert out.shape == (B, T, head_size), say("tests.5.out_shape", shape=(B, T, head_size))
    assert head.var is not None, say("tests.5.keep_var")
    record("score_variance", {"head_size": head_size, "var": float(head.var)})
    # The sample variance of these 16384 scores spreads by about 0.03 at most: 0.15 never flakes.
    assert abs(float(head.var) - 1) < 0.15, say("tests.5.unit_var", var=float(head.var))


@pytest.mark.todos("4-1")
def test_without_the_scaling_the_variance_grows_with_head_size():
    """Why divide by sqrt(d_k): unscaled q.k has variance d_k, and softmax then saturates."""
    torch.manual_seed(0)
    B, T, head_size = 64, 32, 64
    q, k = torch.randn(B, T, head_size), torch.randn(B, T, head_size)
    unscaled = q @ k.transpose(-2, -1)
    peak_unscaled = HeadVer3.masked_softmax(unscaled)[:, -1].max(dim=-1).values.mean()
    peak_scaled = HeadVer3.masked_softmax(unscaled / 8)[:, -1].max(dim=-1).values.mean()
    peaks = dict(unscaled=float(peak_unscaled), scaled=float(peak_scaled))
    variances = dict(unscaled_var=float(unscaled.var()), scaled_var=float((unscaled / 8).var()))
    record("softmax_peak", {"head_size": head_size, **variances, **peaks})
    assert peak_scaled < 0.35 < 0.6 < peak_unscaled, say("tests.5.saturates", **peaks)


@pytest.mark.todos("5-1", "4-1")
@pytest.mark.parametrize("debug", [False, True])
def test_wei_is_normalised_and_masked(debug):
    torch.manual_seed(0)
    B, T, C = 3, 7, 8
    head = HeadVer4(T, C, head_size=4)
    head(torch.randn(B, T, C), debug=debug)
    assert head.wei is not None, say("tests.5.keep_wei")
    assert head.wei.shape == (B, T, T), say("tests.5.wei_shape", shape=(B, T, T))
    assert_close(head.wei.sum(dim=-1), torch.ones(B, T), say("tests.5.wei_rows"))
    future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
    assert torch.all(head.wei[:, future] == 0), say("tests.5.future_zero")
    assert torch.all(head.wei[:, ~future] > 0), say("tests.5.past_positive")


@pytest.mark.todos("5-1", "4-1")
def test_the_output_only_depends_on_the_past():
    torch.manual_seed(0)
    head = HeadVer4(block_size=6, embed_size=8, head_size=4)
    x = torch.randn(2, 6, 8)
    changed = x.clone()
    changed[:, 3] = torch.randn(2, 8)
    out, out_changed = head(x), head(changed)
    assert_close(out_changed[:, :3], out[:, :3], say("tests.5.not_see_3"))
    assert not torch.allclose(out_changed[:, 3:], out[:, 3:]), say("tests.5.see_3")


@pytest.mark.todos("5-1", "4-1")
def test_attention_alone_has_no_notion_of_position():
    """Permuting the earlier tokens leaves the last output unchanged: it sees a set, not a list."""
    torch.manual_seed(0)
    B, T, C = 4, 8, 16
    head = HeadVer4(T, C, head_size=8)
    x = torch.randn(B, T, C)
    last = head(x)[:, -1]
    order = torch.cat([torch.randperm(T - 1), torch.tensor([T - 1])])  # the last stays last
    assert_close(head(x[:, order])[:, -1], last, say("tests.5.shuffle"), atol=1e-5)


@pytest.mark.todos("5-1", "4-1", "4-2", "2-2")
@pytest.mark.parametrize("seed", [0, 1])
def test_gpt_ver_2_with_head_ver_4_learns_and_beats_the_plain_average(
    shakespeare, course_config, seed
):
    """The same model, data and training; only the contextualizer differs."""
    V, train_data, val_data = small_text_data(shakespeare[:100_000])
    config = course_config.replace(
        max_iters=300, eval_interval=300, eval_iters=20, learning_rate=0.01, seed=seed
    )
    C, T = config.embed_size, config.block_size
    val_loss = {}
    for name, head in (("attention", lambda: HeadVer4(T, C, C)), ("average", HeadVer3)):
        torch.manual_seed(seed)
        model = GPTVer2(head(), V, T, C)
        val_loss[name] = train_model(model, train_data, val_data, config).final["val"]
    losses = {name: float(loss) for name, loss in val_loss.items()}
    record("attention_vs_average", {"seed": seed, "lnv": math.log(V), **losses})
    assert val_loss["attention"] < val_loss["average"] - 0.15, say(
        "tests.5.beats_average", **losses
    )
