"""The course's final model, NanoGPT, and text generation with every week-2 model."""

import math

import pytest
import torch
from torch import nn

from learngpt import (
    BlockVer4,
    GPTVer4,
    MultiHeadVer2,
    NanoGPT,
)
from learngpt.experiments import (
    REFERENCE,
    attention_only,
    attention_then_ffn,
    multi_head,
    one_cpu_thread,
    single_head,
)
from learngpt.measure import count_parameters
from learngpt.training.loop import train_model


def expected_n_params(V: int, T: int, C: int, n_layers: int) -> int:
    embeddings = V * C + T * C
    attention = 3 * C * C + (C * C + C)  # query, key, value without bias; proj with bias
    feed_forward = (C * 4 * C + 4 * C) + (4 * C * C + C)
    layer_norms = 2 * (2 * C)  # ln1, ln2: a gain and a bias each
    final = 2 * C + (C * V + V)  # ln_f, lm_head
    return embeddings + n_layers * (attention + feed_forward + layer_norms) + final


def test_nanogpt_is_a_stack_of_step_10_blocks(course_config):
    config = course_config
    model = NanoGPT.from_config(config, vocab_size=65)
    assert isinstance(model, GPTVer4)
    assert isinstance(model.contextualizer, nn.Sequential)
    assert len(model.contextualizer) == config.n_layers
    for block in model.contextualizer:
        assert isinstance(block, BlockVer4)
        assert isinstance(block.head, MultiHeadVer2)
        assert block.head.n_heads == config.n_heads
        assert block.dropout.p == config.dropout
    assert isinstance(model.ln_f, nn.LayerNorm)
    assert count_parameters(model) == expected_n_params(
        65, config.block_size, config.embed_size, config.n_layers
    )


def test_nanogpt_shapes_and_initial_loss():
    torch.manual_seed(0)
    V, T, C = 65, 8, 16
    model = NanoGPT(V, T, C, n_layers=3, n_heads=4, dropout=0.1).eval()
    idx = torch.randint(V, (5, T))
    logits, loss = model(idx, idx)
    assert logits.shape == (5, T, V)
    assert loss.shape == ()
    # Untrained, it is close to guessing uniformly among V tokens.
    assert abs(loss.item() - math.log(V)) < 0.5
    # Causal: the logits at position t do not depend on tokens after t.
    changed = idx.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % V
    torch.testing.assert_close(model.logits(changed)[:, :5], model.logits(idx)[:, :5])


def test_nanogpt_learns(course_config, char_splits, char_tokenizer):
    config = course_config.replace(n_layers=2, max_iters=300, eval_interval=300, eval_iters=20)
    torch.manual_seed(0)
    model = NanoGPT.from_config(config, char_tokenizer.vocab_size)
    with one_cpu_thread():  # tiny matrices: more threads only wait for each other
        history = train_model(model, *char_splits, config)
    first, last = history.val_loss[0], history.val_loss[-1]
    assert last < first - 0.8


WEEK_2_MODELS = {
    "GPTVer4 + HeadVer4": single_head,
    "GPTVer4 + MultiHeadVer1": multi_head,
    "GPTVer4 + MultiHeadVer2": attention_only,
    "GPTVer4 + BlockVer1": attention_then_ffn,
    "GPTVer4 + BlockVer2 x n_layers": REFERENCE.deep_stack("BlockVer2"),
    "GPTVer4 + BlockVer3 x n_layers": REFERENCE.deep_stack("BlockVer3"),
    "GPTVer4 + BlockVer1 x n_layers": REFERENCE.deep_stack("BlockVer1"),
    "NanoGPT": NanoGPT.from_config,
}


@pytest.mark.parametrize("name", WEEK_2_MODELS)
def test_week_2_models_generate_text(name, course_config, char_tokenizer):
    config = course_config.replace(n_layers=2)
    context = "ROMEO:\nWhat say"  # longer than block_size: generation reads the last 8 only
    idx = torch.tensor([char_tokenizer.encode(context)])

    def sample(seed: int) -> str:
        torch.manual_seed(0)
        model = WEEK_2_MODELS[name](config, char_tokenizer.vocab_size).eval()
        torch.manual_seed(seed)
        out = model.generate(idx, max_new_tokens=30)
        assert out.shape == (1, len(context) + 30)
        return char_tokenizer.decode(out[0].tolist())

    with one_cpu_thread():
        text = sample(seed=1)
        assert text.startswith(context) and len(text) == len(context) + 30
        assert sample(seed=1) == text  # the same seed gives the same text
        assert sample(seed=2) != text
