"""Time per training step of model.py's GPT with and without torch.compile, in one run.

The compiled model's first steps (compilation) are timed apart; then both models take turns,
a few steps each, on the same batches. Prints ms/step of each and the ratio.

    .venv/bin/python bench/compile.py [--steps 60] [--batch-size 12] [--block-size 64]
"""

from __future__ import annotations

import argparse
import time

import torch

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
    args = parser.parse_args()

    V, B, T = 65, args.batch_size, args.block_size
    config = GPTConfig(vocab_size=V, block_size=T)  # 4 layers, 4 heads, 128 channels
    torch.manual_seed(0)
    eager = GPT(config).train()
    torch.manual_seed(0)
    compiled_base = GPT(config).train()
    compiled = torch.compile(compiled_base)
    models = {
        "eager": (eager, eager.configure_optimizer(0.1, 1e-3)),
        "torch.compile": (compiled, compiled_base.configure_optimizer(0.1, 1e-3)),
    }
    data = torch.randint(V, (args.steps + 3, B, T + 1))
    batches = [(d[:, :-1].contiguous(), d[:, 1:].contiguous()) for d in data]
    warmup = {name: train_steps(m, opt, batches[:3]) for name, (m, opt) in models.items()}
    seconds = dict.fromkeys(models, 0.0)
    chunk = 10
    for start in range(3, len(batches), chunk):  # take turns, `chunk` steps at a time
        for name, (model, optimizer) in models.items():
            seconds[name] += train_steps(model, optimizer, batches[start : start + chunk])

    print(
        f"4 layers, 4 heads, 128 channels, batch {B} x block {T}, {args.steps} steps each, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"first 3 steps (compilation included): torch.compile {warmup['torch.compile']:.1f} s")
    for name, s in seconds.items():
        print(f"{name:14s} {1000 * s / args.steps:6.1f} ms/step")
    print(
        f"compiled step time / eager step time: {seconds['torch.compile'] / seconds['eager']:.2f}"
    )
    print(f"speed-up: {seconds['eager'] / seconds['torch.compile']:.2f}x")


if __name__ == "__main__":
    main()
