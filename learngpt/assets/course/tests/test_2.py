"""Step 2: HeadVer1 averages each prefix; GPTVer2 puts it between embedding and lm_head.

Run `pytest tests/test_2.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import math

import pytest
import torch
from mygpt import GPTVer2, HeadVer1

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, prefix_mean, record, small_text_data
from learngpt.training.loop import train_model


@pytest.mark.todos("2-1")
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16)])
def test_head_ver_1_is_the_prefix_average(shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    expected = prefix_mean(x)
    assert_close(HeadVer1()(x), expected, say("tests.2.prefix_mean"))


@pytest.mark.todos("2-1")
def test_head_ver_1_batches_never_talk_to_each_other():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 4)
    out = HeadVer1()(x)
    changed = x.clone()
    changed[1] = torch.randn(6, 4)
    out_changed = HeadVer1()(changed)
    assert torch.equal(out_changed[0], out[0]) and torch.equal(out_changed[2], out[2]), say(
        "tests.2.batches"
    )


@pytest.mark.todos("2-1")
def test_head_ver_1_only_looks_at_the_past():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4)
    changed = x.clone()
    changed[:, 4] += 1.0
    out, out_changed = HeadVer1()(x), HeadVer1()(changed)
    assert torch.equal(out_changed[:, :4], out[:, :4]), say("tests.2.past_only")


@pytest.mark.todos("2-1", "2-2")
@pytest.mark.parametrize("seed", [0, 1])
def test_gpt_ver_2_with_head_ver_1_learns(shakespeare, course_config, seed):
    V, train_data, val_data = small_text_data(shakespeare[:20_000])
    # HeadVer1 loops over batch and time in Python: small batches, short windows, few steps.
    config = course_config.replace(
        batch_size=8, block_size=4, max_iters=100, eval_interval=100, eval_iters=10,
        learning_rate=0.02, seed=seed,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = GPTVer2(HeadVer1(), V, config.block_size, config.embed_size)
    history = train_model(model, train_data, val_data, config)
    first, last = history.val_loss[0], history.final["val"]
    record("head_ver_1_learns", {"seed": seed, "lnv": math.log(V), "first": float(first),
                                 "last": float(last)})  # fmt: skip
    assert last < math.log(V) - 0.5, say("tests.2.learns", last=float(last), lnv=math.log(V))


@pytest.mark.todos("2-2", "2-1")
def test_gpt_ver_2_logits_have_the_right_shape():
    torch.manual_seed(0)
    V = 10
    model = GPTVer2(HeadVer1(), V, block_size=4, embed_size=8)
    logits, _ = model(torch.randint(V, (2, 3)))
    assert logits.shape == (2, 3, V), say("tests.2.logits_shape", V=V)


@pytest.mark.todos("2-2", "2-1", "1-1")  # GPTVer1.generate, with GPTVer2's crop_context
def test_generate_reads_only_the_last_block_size_tokens():
    """Contexts longer than block_size work; only their last block_size tokens matter."""
    torch.manual_seed(0)
    V, block_size = 10, 4
    model = GPTVer2(HeadVer1(), V, block_size, embed_size=8)
    recent = torch.randint(V, (1, block_size))
    long_a = torch.cat([torch.randint(V, (1, 6)), recent], dim=1)
    long_b = torch.cat([torch.randint(V, (1, 9)), recent], dim=1)
    continuations = []
    for context in (long_a, long_b, recent):
        torch.manual_seed(1)
        out = model.generate(context, max_new_tokens=30)
        assert out.shape == (1, context.shape[1] + 30), say("tests.2.generate_shape")
        continuations.append(out[:, -30:])
    assert torch.equal(continuations[0], continuations[2]) and torch.equal(
        continuations[1], continuations[2]
    ), say("tests.2.crop")
