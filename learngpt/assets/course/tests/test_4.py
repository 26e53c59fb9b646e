"""Step 4: HeadVer3 computes the same average as softmax over masked scores, keeping `.wei`.

Run `pytest tests/test_4.py -s -vv` to see the speed-up.
"""

from __future__ import annotations

import pytest
import torch
from mygpt import HeadVer1, HeadVer2, HeadVer3

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, assert_same_function, faster


@pytest.mark.todos("4-1")
def test_masked_softmax_of_equal_scores_is_an_average():
    wei = HeadVer3.masked_softmax(torch.zeros(4, 4))
    assert_close(wei[1], torch.tensor([0.5, 0.5, 0.0, 0.0]), say("tests.4.equal_scores"))
    assert_close(wei[3], torch.full((4,), 0.25), say("tests.4.row3"))


@pytest.mark.todos("4-1")
def test_masked_softmax_works_on_batches_of_scores():
    scores = torch.randn(2, 3, 5, 5)
    wei = HeadVer3.masked_softmax(scores)
    assert_close(wei.sum(dim=-1), torch.ones(2, 3, 5), say("tests.4.rows_sum"))
    expected = torch.softmax(scores[1, 2, 3, :4], dim=-1)
    assert_close(wei[1, 2, 3, :4], expected, say("tests.4.row3_softmax"))


@pytest.mark.todos("4-1", "4-2", "3-1", "2-1")
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16), (3, 33, 7)])
def test_head_ver_3_is_identical_to_head_ver_1_and_2(shape):
    assert_same_function(HeadVer3(), "HeadVer3", shape)
    torch.manual_seed(0)
    x = torch.randn(shape)
    assert_close(HeadVer3()(x), HeadVer2()(x), say("tests.4.equal_v2"))
    assert_close(HeadVer3()(x), HeadVer1()(x), say("tests.4.equal_v1"))


@pytest.mark.todos("4-1", "4-2")
@pytest.mark.parametrize("T", [1, 2, 8, 33])
def test_wei_rows_sum_to_one_and_the_future_is_masked(T):
    head = HeadVer3()
    head(torch.randn(2, T, 4))
    wei = head.wei
    assert wei is not None, say("tests.4.keep_wei")
    assert wei.shape[-2:] == (T, T), say("tests.4.wei_shape", T=T)
    wei = wei.reshape(-1, T, T)[0]
    assert_close(wei.sum(dim=-1), torch.ones(T), say("tests.4.wei_rows"))
    future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
    assert torch.all(wei[future] == 0), say("tests.4.future_zero")


@pytest.mark.todos("4-1", "4-2", "2-1")
def test_head_ver_3_is_faster_than_head_ver_1():
    torch.manual_seed(0)
    x = torch.randn(16, 32, 8)
    loop, softmax = HeadVer1(), HeadVer3()
    speedup = faster(lambda: loop(x), lambda: softmax(x), "HeadVer1", "HeadVer3")
    assert speedup > 5, say("tests.4.faster", speedup=speedup)
