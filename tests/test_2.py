"""Step 2: HeadVer1 averages each prefix; GPTVer2 puts it between embedding and lm_head.

Run `pytest tests/test_2.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import math

import pytest
import torch

from learngpt import CharTokenizer, GPTVer2, HeadVer1
from learngpt.data import split_data
from learngpt.training.loop import train_model


def prefix_mean(x: torch.Tensor) -> torch.Tensor:
    """The expected answer, computed another way: running sums divided by running counts."""
    T = x.shape[1]
    counts = torch.arange(1, T + 1, dtype=x.dtype)[None, :, None]  # (1, T, 1)
    return x.cumsum(dim=1) / counts


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 5, 3), (4, 8, 16)])
def test_head_ver_1_is_the_prefix_average(shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    out = HeadVer1()(x)
    assert out.shape == x.shape
    assert torch.allclose(out, prefix_mean(x), atol=1e-6)
    assert torch.equal(out[:, 0], x[:, 0])  # the first position has only itself to average


def test_head_ver_1_batches_never_talk_to_each_other():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 4)
    out = HeadVer1()(x)
    changed = x.clone()
    changed[1] = torch.randn(6, 4)  # a different second sequence
    out_changed = HeadVer1()(changed)
    assert torch.equal(out_changed[0], out[0]) and torch.equal(out_changed[2], out[2])
    assert not torch.allclose(out_changed[1], out[1])
    # ...and a sequence averaged on its own gives what it gets inside the batch.
    assert torch.equal(HeadVer1()(x[2:3])[0], out[2])


def test_head_ver_1_only_looks_at_the_past():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4)
    changed = x.clone()
    changed[:, 4] += 1.0  # change position 4
    out, out_changed = HeadVer1()(x), HeadVer1()(changed)
    assert torch.equal(out_changed[:, :4], out[:, :4])  # earlier positions cannot see it
    assert not torch.allclose(out_changed[:, 4:], out[:, 4:])  # it and later ones do


def small_text_data(text: str) -> tuple[int, torch.Tensor, torch.Tensor]:
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = split_data(torch.tensor(tokenizer.encode(text)), 0.9)
    return tokenizer.vocab_size, train_data, val_data


@pytest.mark.parametrize("seed", [0, 1, 2])
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
    print(
        f"\nln(V)={math.log(V):.3f} "
        f"val loss {history.val_loss[0]:.3f} -> {history.final['val']:.3f}"
    )
    assert history.val_loss[0] > math.log(V) - 0.3  # it starts about as bad as a uniform guess
    assert history.final["val"] < math.log(V) - 0.5  # and learns something that generalises


def test_gpt_ver_2_generates_from_a_context():
    torch.manual_seed(0)
    V = 10
    model = GPTVer2(HeadVer1(), V, block_size=4, embed_size=8)
    context = torch.randint(V, (2, 3))
    out = model.generate(context, max_new_tokens=6)
    assert out.shape == (2, 3 + 6)
    assert torch.equal(out[:, :3], context)
    assert out.min() >= 0 and out.max() < V


def test_generate_reads_only_the_last_block_size_tokens():
    """Contexts longer than block_size work; only their last block_size tokens matter."""
    torch.manual_seed(0)
    V, block_size = 10, 4
    model = GPTVer2(HeadVer1(), V, block_size, embed_size=8)
    recent = torch.randint(V, (1, block_size))
    long_a = torch.cat([torch.randint(V, (1, 6)), recent], dim=1)  # same last 4 tokens,
    long_b = torch.cat([torch.randint(V, (1, 9)), recent], dim=1)  # different earlier ones
    # HeadVer1 could average any length: without cropping, these contexts would predict
    # differently (the test would then mean nothing).
    assert not torch.allclose(model.logits(long_a)[:, -1], model.logits(long_b)[:, -1])

    continuations = []
    for context in (long_a, long_b, recent):
        torch.manual_seed(1)
        out = model.generate(context, max_new_tokens=30)
        assert out.shape == (1, context.shape[1] + 30)
        continuations.append(out[:, -30:])
    assert torch.equal(continuations[0], continuations[2])
    assert torch.equal(continuations[1], continuations[2])
