"""Step 3: HeadVer2 computes HeadVer1's prefix average as one matrix product, much faster.

Run `pytest tests/test_3.py -s -vv` to see the speed-up.
"""

from __future__ import annotations

import pytest
import torch

from learngpt import HeadVer1, HeadVer2
from learngpt.experiments import best_time


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16), (3, 33, 7)])
def test_head_ver_2_is_identical_to_head_ver_1(shape):
    torch.manual_seed(0)
    x1 = torch.randn(shape, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out1, out2 = HeadVer1()(x1), HeadVer2()(x2)
    assert torch.allclose(out1, out2, atol=1e-6)
    # The same function, so the same gradients flow back through it.
    weights = torch.randn(shape)
    (out1 * weights).sum().backward()
    (out2 * weights).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-6)


def test_head_ver_2_is_faster_than_head_ver_1():
    torch.manual_seed(0)
    x = torch.randn(16, 32, 8)  # B * T = 512 loop iterations for HeadVer1
    loop, matmul = HeadVer1(), HeadVer2()
    with torch.no_grad():
        loop_s = best_time(lambda: loop(x), repeats=5, number=1)
        matmul_s = best_time(lambda: matmul(x), repeats=20, number=1)
    print(
        f"\nHeadVer1 {loop_s * 1e3:.2f} ms, HeadVer2 {matmul_s * 1e3:.3f} ms: "
        f"{loop_s / matmul_s:.0f}x faster"
    )
    # Typically a hundred times faster or more; 5x leaves room for a busy machine.
    assert matmul_s * 5 < loop_s
