"""Training tokens/s of model.py's GPT vs the course's NanoGPT stack at the same size, in one run.

Same size (4 layers, 4 heads, 128 channels, block 64, batch 12: nanoGPT's CPU recipe), same
batches, AdamW for all, dropout 0. model.py runs twice: in float32, the course's own arithmetic,
and with its bf16 switch (bfloat16 matmuls in training). The models take turns, a few steps
each, so that a change in machine load hits all alike. Prints each one's tokens/s and its ratio
to the course's (goal: at least 1.5x).

    .venv/bin/python bench/train_throughput.py [--steps 60] [--batch-size 12] [--block-size 64]
"""

from __future__ import annotations

import argparse
import time

import torch

from learngpt.course.nanogpt import NanoGPT
from learngpt.model import GPT, GPTConfig


def train_steps(model, optimizer, batches) -> float:
    """Seconds for one optimizer step on each batch."""
    start = time.perf_counter()
    for x, y in batches:
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per model")
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--embed-size", type=int, default=128)
    parser.add_argument("--n-layers", type=int, default=4)
    parser.add_argument("--n-heads", type=int, default=4)
    args = parser.parse_args()

    V, B, T = 65, args.batch_size, args.block_size
    models = {}
    for name, bf16 in (("model.py GPT", False), ("model.py bf16=True", True)):
        torch.manual_seed(0)
        config = GPTConfig(V, T, args.n_layers, args.n_heads, args.embed_size, bf16=bf16)
        model = GPT(config).train()
        models[name] = (model, model.configure_optimizer(0.1, 1e-3))
    course = NanoGPT(V, T, args.embed_size, args.n_layers, args.n_heads, dropout=0.0).train()
    models["course NanoGPT"] = (course, torch.optim.AdamW(course.parameters(), lr=1e-3))
    data = torch.randint(V, (args.steps + 5, B, T + 1))
    batches = [(d[:, :-1].contiguous(), d[:, 1:].contiguous()) for d in data]
    seconds = dict.fromkeys(models, 0.0)
    for model, optimizer in models.values():  # warm-up steps, not timed
        train_steps(model, optimizer, batches[:5])
    chunk = 10
    for start in range(5, len(batches), chunk):  # take turns, `chunk` steps at a time
        for name, (model, optimizer) in models.items():
            seconds[name] += train_steps(model, optimizer, batches[start : start + chunk])

    tokens = args.steps * B * T
    print(
        f"{args.n_layers} layers, {args.n_heads} heads, {args.embed_size} channels, "
        f"batch {B} x block {T}, {args.steps} steps each, {torch.get_num_threads()} threads"
    )
    baseline = seconds["course NanoGPT"]
    for name, s in seconds.items():
        print(
            f"{name:18s} {tokens / s:9.0f} tokens/s  ({1000 * s / args.steps:6.1f} ms/step)"
            f"  {baseline / s:.2f}x the course's"
        )
    print("goal: model.py >= 1.5x the course's tokens/s")


if __name__ == "__main__":
    main()
