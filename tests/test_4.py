"""Step 4: HeadVer3 computes the same average as softmax over masked scores, keeping `.wei`.

Run `pytest tests/test_4.py -s -vv` to see the speed-up.
"""

from __future__ import annotations

import pytest
import torch

from learngpt import HeadVer1, HeadVer2, HeadVer3
from learngpt.experiments import best_time


def test_masked_softmax_of_equal_scores_is_an_average():
    wei = HeadVer3.masked_softmax(torch.zeros(4, 4))
    assert torch.equal(wei[1], torch.tensor([0.5, 0.5, 0.0, 0.0]))  # the course's example
    assert torch.allclose(wei[3], torch.full((4,), 0.25))


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16), (3, 33, 7)])
def test_head_ver_3_is_identical_to_head_ver_1(shape):
    torch.manual_seed(0)
    x1 = torch.randn(shape, requires_grad=True)
    x3 = x1.detach().clone().requires_grad_(True)
    out1, out3 = HeadVer1()(x1), HeadVer3()(x3)
    assert torch.allclose(out1, out3, atol=1e-6)
    assert torch.allclose(out3, HeadVer2()(x1.detach()), atol=1e-6)
    weights = torch.randn(shape)
    (out1 * weights).sum().backward()
    (out3 * weights).sum().backward()
    assert torch.allclose(x1.grad, x3.grad, atol=1e-6)


@pytest.mark.parametrize("T", [1, 2, 8, 33])
def test_wei_rows_sum_to_one_and_the_future_is_masked(T):
    head = HeadVer3()
    head(torch.randn(2, T, 4))
    wei = head.wei  # (T, T): row t holds the weights position t gives to positions 0..T-1
    assert wei.shape == (T, T)
    assert torch.allclose(wei.sum(dim=-1), torch.ones(T))
    future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
    assert torch.all(wei[future] == 0)  # exactly zero, not merely small
    # ...and the past is weighted equally: 1 / (t + 1) for each of positions 0..t.
    equal_share = 1 / torch.arange(1, T + 1, dtype=wei.dtype)[:, None].expand(T, T)
    assert torch.allclose(wei[~future], equal_share[~future])


def test_head_ver_3_is_faster_than_head_ver_1():
    torch.manual_seed(0)
    x = torch.randn(16, 32, 8)  # B * T = 512 loop iterations for HeadVer1
    loop, softmax = HeadVer1(), HeadVer3()
    with torch.no_grad():
        loop_s = best_time(lambda: loop(x), repeats=5, number=1)
        softmax_s = best_time(lambda: softmax(x), repeats=20, number=1)
    print(
        f"\nHeadVer1 {loop_s * 1e3:.2f} ms, HeadVer3 {softmax_s * 1e3:.3f} ms: "
        f"{loop_s / softmax_s:.0f}x faster"
    )
    # Typically a hundred times faster or more; 5x leaves room for a busy machine.
    assert softmax_s * 5 < loop_s
