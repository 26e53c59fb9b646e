"""`learngpt eval`: the exact loss over a whole split, every token predicted once."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
import trainer_helpers
from trainer_helpers import run_cli

from learngpt.evaluate import split_loss, spread_windows
from learngpt.model import GPT, GPTConfig
from learngpt.training.loop import estimate_loss

# the tiny trained run each test copies (tests/trainer_helpers.py)
trained_template = trainer_helpers.trained_template
trained_run = trainer_helpers.trained_run


def per_token_loss(model, data):
    """The plain definition: each token i >= 1 predicted from (up to block_size) tokens before
    it, in the same windows split_loss uses, summed one prediction at a time."""
    T = model.config.block_size
    losses = []
    for i in range(1, len(data)):
        start = ((i - 1) // T) * T  # the window that holds position i - 1
        logits, _ = model(data[start:i][None])
        losses.append(F.cross_entropy(logits[0, -1], data[i]).item())
    return sum(losses) / len(losses), len(losses)


@pytest.mark.parametrize("length", [9, 33, 40])  # a partial last window, or none
def test_split_loss_predicts_every_token_once(length):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layers=1, n_heads=2, embed_size=8))
    model.eval()
    data = torch.randint(11, (length,))
    loss, tokens = split_loss(model, data, block_size=8, batch_size=2)
    expected, count = per_token_loss(model, data)
    assert tokens == count == length - 1
    assert loss == pytest.approx(expected, rel=1e-5)
    # batching changes nothing
    assert split_loss(model, data, block_size=8, batch_size=64)[0] == pytest.approx(loss, rel=1e-6)


def test_spread_windows_are_whole_windows_evenly_spaced_from_start_to_end():
    data = torch.arange(1005)  # 100 whole windows of 10 tokens, and a tail of 4
    x, y = spread_windows(data, block_size=10, count=7)
    starts = x[:, 0].tolist()
    assert starts[0] == 0 and starts[-1] == 990  # the first window and the last whole one
    assert all(s % 10 == 0 for s in starts)  # whole windows of the split's partition
    gaps = {b - a for a, b in zip(starts[:-1], starts[1:], strict=True)}
    assert gaps <= {160, 170}  # evenly spaced, to the nearest window
    assert torch.equal(x, torch.tensor(starts)[:, None] + torch.arange(10))
    assert torch.equal(y, x + 1)
    assert torch.equal(spread_windows(data, 10, 7)[0], x)  # the same windows every time
    everything, _ = spread_windows(data, block_size=10, count=500)  # more than there are
    assert everything[:, 0].tolist() == list(range(0, 1000, 10))


def test_a_spread_estimate_that_covers_the_split_is_its_exact_loss():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layers=1, n_heads=2, embed_size=8))
    data = torch.randint(11, (5 * 8 + 1,))  # 5 whole windows, no tail
    exact, _ = split_loss(model, data, block_size=8)
    # 3 batches of 2 rows ask for 6 windows: all 5, in batches of 2, 2 and 1 (weighed by rows)
    first = estimate_loss(model, {"val": data}, 2, 8, eval_iters=3, spread=True)["val"]
    again = estimate_loss(model, {"val": data}, 2, 8, eval_iters=3, spread=True)["val"]
    assert first == again
    assert first == pytest.approx(exact, rel=1e-6)


def test_eval_json_is_deterministic_with_bits_per_char(trained_run):
    first = run_cli("eval", "--out", trained_run.out, "--json")
    second = run_cli("eval", "--out", trained_run.out, "--json")
    assert first.rc == 0, first.err
    assert first.out == second.out
    result = json.loads(first.out)
    assert {"split", "loss", "tokens", "chars", "bits_per_char"} <= set(result)
    text = trained_run.data.read_text(encoding="utf-8")
    val_chars = len(text) - int(0.9 * len(text))
    assert result["split"] == "val" and result["tokens"] == val_chars - 1
    # character tokens: one token per character, so bits per char is the loss in bits
    assert result["chars"] == result["tokens"]
    assert result["bits_per_char"] == pytest.approx(result["loss"] / math.log(2))


def test_eval_on_the_train_split(trained_run):
    result = run_cli("eval", "--out", trained_run.out, "--split", "train", "--json")
    assert result.rc == 0, result.err
    out = json.loads(result.out)
    text = trained_run.data.read_text(encoding="utf-8")
    assert out["split"] == "train" and out["tokens"] == int(0.9 * len(text)) - 1
    plain = run_cli("eval", "--out", trained_run.out)
    assert plain.rc == 0 and "val loss" in plain.out
