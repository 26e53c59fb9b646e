"""Step 3: HeadVer2 computes HeadVer1's prefix average as one matrix product, much faster.

Run `pytest tests/test_3.py -s -vv` to see the speed-up.
"""

from __future__ import annotations

import pytest
import torch
from mygpt import HeadVer1, HeadVer2

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, assert_same_function, faster


@pytest.mark.todos("3-1", "2-1")
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16), (3, 33, 7)])
def test_head_ver_2_is_identical_to_head_ver_1(shape):
    assert_same_function(HeadVer2(), "HeadVer2", shape)
    torch.manual_seed(0)
    x = torch.randn(shape)
    assert_close(HeadVer2()(x), HeadVer1()(x), say("tests.3.equal_v1"))


@pytest.mark.todos("3-1", "2-1")
def test_head_ver_2_is_faster_than_head_ver_1():
    torch.manual_seed(0)
    x = torch.randn(16, 32, 8)  # B * T = 512 loop iterations for HeadVer1
    loop, matmul = HeadVer1(), HeadVer2()
    speedup = faster(lambda: loop(x), lambda: matmul(x), "HeadVer1", "HeadVer2")
    # Typically a hundred times faster or more; 5x leaves room for a busy machine.
    assert speedup > 5, say("tests.3.faster", speedup=speedup)
