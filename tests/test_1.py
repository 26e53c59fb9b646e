"""Step 1: GPTVer1, the bigram model, learns the counted bigram distribution and generates text.

Run `pytest tests/test_1.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from learngpt import CharTokenizer, GPTVer1
from learngpt.data import split_data
from learngpt.training.loop import train_model


def bigram_counts(data: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """(V, V) counts: counts[a, w] = how often token w directly follows token a in `data`."""
    counts = torch.zeros(vocab_size, vocab_size)
    counts.index_put_((data[:-1], data[1:]), torch.ones(len(data) - 1), accumulate=True)
    return counts


def test_logits_and_loss(course_config):
    torch.manual_seed(0)
    V = 11
    model = GPTVer1(V, course_config.block_size)
    idx = torch.randint(V, (4, 6))
    targets = torch.randint(V, (4, 6))

    logits, loss = model(idx)
    assert logits.shape == (4, 6, V)
    assert loss is None
    # The logits for a token are simply its row of the (V, V) table.
    assert torch.equal(logits, model.token_embedding_table.weight[idx])

    logits, loss = model(idx, targets)
    expected = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    assert loss.shape == ()
    assert torch.allclose(loss, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gpt_ver_1_learns_the_counted_bigram_distribution(shakespeare, course_config, seed):
    """softmax(table[a]) approaches P(w | a) = count(a, w) / count(a) of the training text."""
    text = shakespeare[:20_000]  # a small slice: frequent tokens are seen thousands of times
    tokenizer = CharTokenizer.from_text(text)
    V = tokenizer.vocab_size
    train_data, val_data = split_data(torch.tensor(tokenizer.encode(text)), 0.9)

    counts = bigram_counts(train_data, V)
    count_prev = counts.sum(dim=1)  # (V,) how often each token is followed by something
    counted = counts / count_prev.clamp(min=1)[:, None]  # (V, V) P(w | a); rows of unseen a are 0
    frequent = count_prev >= 200  # rows estimated from enough pairs to compare closely
    # The best loss any bigram model can reach on this text: the entropy of the counted P.
    entropy = -(counts * counted.clamp(min=1e-30).log()).sum() / counts.sum()

    def kl_from_counted(model: GPTVer1) -> torch.Tensor:
        """KL(counted || model) of every frequent row: 0 exactly when the two agree."""
        log_model = F.log_softmax(model.token_embedding_table.weight.detach(), dim=-1)
        log_counted = counted.clamp(min=1e-30).log()
        return (counted * (log_counted - log_model)).sum(dim=1)[frequent]

    torch.manual_seed(seed)
    model = GPTVer1(V, course_config.block_size)
    kl_before = kl_from_counted(model)
    # Big batches and a high learning rate: the table converges in a second.
    config = course_config.replace(
        batch_size=512, max_iters=1000, eval_interval=1000, eval_iters=5, learning_rate=0.03
    )
    history = train_model(model, train_data, val_data, config.replace(seed=seed))
    kl_after = kl_from_counted(model)
    model_probs = F.softmax(model.token_embedding_table.weight.detach(), dim=-1)
    max_abs_diff = (model_probs - counted)[frequent].abs().max()
    print(
        f"\nV={V} ln(V)={math.log(V):.3f} bigram entropy={entropy:.3f} "
        f"train loss {history.train_loss[0]:.3f} -> {history.final['train']:.3f}; "
        f"{int(frequent.sum())} frequent tokens: KL {kl_before.mean():.3f} -> {kl_after.mean():.4f}"
        f" (max {kl_after.max():.4f}), max |P_model - P_counted| {max_abs_diff:.4f}"
    )

    context = torch.tensor([tokenizer.encode("First")])
    sample = tokenizer.decode(model.generate(context, max_new_tokens=60)[0].tolist())
    print(f"a sample: {sample!r}")
    assert sample.startswith("First") and len(sample) == len("First") + 60

    # It learns: from about ln(V) down to (nearly) the best a bigram model can do.
    assert history.final["train"] < math.log(V) - 1.5
    assert history.final["train"] < entropy + 0.1
    # And what it learns is the counted distribution: every frequent row agrees closely.
    assert kl_after.max() < 0.05
    assert kl_after.max() < kl_before.min() / 10
    assert max_abs_diff < 0.1


def test_generate_continues_the_context():
    torch.manual_seed(0)
    V = 13
    model = GPTVer1(V, block_size=8)
    context = torch.randint(V, (3, 5))
    out = model.generate(context, max_new_tokens=7)
    assert out.shape == (3, 5 + 7)
    assert torch.equal(out[:, :5], context)  # the context is kept, new tokens appended
    assert out.min() >= 0 and out.max() < V


def test_generate_follows_the_last_tokens_row():
    """A table that makes one successor certain must generate exactly that chain."""
    V = 7
    model = GPTVer1(V, block_size=8)
    successor = torch.tensor([3, 0, 6, 5, 1, 2, 4])  # a permutation: a -> successor[a]
    with torch.no_grad():
        model.token_embedding_table.weight.fill_(-1e4)
        model.token_embedding_table.weight[torch.arange(V), successor] = 0.0
    out = model.generate(torch.tensor([[2, 2, 6], [1, 1, 0]]), max_new_tokens=10)
    for row in out:
        for prev, nxt in zip(row[2:-1], row[3:], strict=True):
            assert nxt == successor[prev]


@pytest.mark.parametrize("seed", [0, 1])
def test_generate_samples_from_the_softmax_of_the_logits(seed):
    """Sampled next tokens occur as often as softmax(row of the last token) says."""
    torch.manual_seed(seed)
    V, n = 5, 20_000
    model = GPTVer1(V, block_size=8)
    context = torch.full((n, 1), 3)
    sampled = model.generate(context, max_new_tokens=1)[:, -1]
    frequency = torch.bincount(sampled, minlength=V) / n
    expected = F.softmax(model.token_embedding_table.weight[3].detach(), dim=-1)
    # Each frequency has a standard error of at most sqrt(0.25 / n) = 0.0035: 0.02 is > 5 of them.
    assert torch.allclose(frequency, expected, atol=0.02)


def test_same_seed_same_text_different_seed_different_text(char_tokenizer):
    torch.manual_seed(0)
    model = GPTVer1(char_tokenizer.vocab_size, block_size=8)
    context = torch.tensor([char_tokenizer.encode("First Citizen:")])

    def sample(seed: int) -> str:
        torch.manual_seed(seed)
        return char_tokenizer.decode(model.generate(context, max_new_tokens=100)[0].tolist())

    first = sample(1)
    print(f"\nseed 1: {first!r}")
    assert first.startswith("First Citizen:") and len(first) == len("First Citizen:") + 100
    assert sample(1) == first
    assert sample(2) != first
