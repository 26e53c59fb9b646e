"""`learngpt eval`: the exact loss over a whole split, every token predicted once."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
import trainer_helpers
from trainer_helpers import run_cli

from learngpt.evaluate import split_loss
from learngpt.model import GPT, GPTConfig

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
