"""What the training benchmarks share: random batches, and timing several models in turns.

Imported by bench/compile.py and bench/train_throughput.py (run as scripts from the repo root,
so this folder is on sys.path).
"""

from __future__ import annotations

import torch

from learngpt.measure import timed


def random_batches(vocab_size: int, n: int, batch_size: int, block_size: int):
    """n (x, y) batches of random tokens: the cost of a step does not depend on the text."""
    data = torch.randint(vocab_size, (n, batch_size, block_size + 1))
    return [(d[:, :-1].contiguous(), d[:, 1:].contiguous()) for d in data]


def train_steps(model, optimizer, batches) -> float:
    """Seconds for one optimizer step on each batch."""

    def steps() -> None:
        for x, y in batches:
            _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return timed(steps)[0]


def time_in_turns(models: dict, batches, warmup: int, chunk: int = 10):
    """(warm-up seconds, timed seconds) per model name; models map name -> (model, optimizer).

    `batches` is one list for all models, or a dict name -> list (models of different batch
    shapes), all of one length. Each model first takes `warmup` untimed steps; then the models
    take turns, `chunk` steps at a time, over the remaining batches, so that a change in
    machine load hits all alike.
    """
    own = batches if isinstance(batches, dict) else dict.fromkeys(models, batches)
    warmup_s = {name: train_steps(m, opt, own[name][:warmup]) for name, (m, opt) in models.items()}
    seconds = dict.fromkeys(models, 0.0)
    for start in range(warmup, len(own[next(iter(models))]), chunk):
        for name, (model, optimizer) in models.items():
            seconds[name] += train_steps(model, optimizer, own[name][start : start + chunk])
    return warmup_s, seconds
