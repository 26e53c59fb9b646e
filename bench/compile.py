"""Time per training step of model.py's GPT with and without torch.compile, in one run.

The compiled model's first steps (compilation) are timed apart; then both models take turns,
a few steps each, on the same batches. Prints ms/step of each and the ratio.

    .venv/bin/python bench/compile.py [--steps 60] [--batch-size 12] [--block-size 64]
"""

from __future__ import annotations

import argparse

import torch
from training_steps import random_batches, time_in_turns

from learngpt.config import TrainConfig
from learngpt.model import GPT, GPTConfig, build_optimizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per model")
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--block-size", type=int, default=64)
    args = parser.parse_args()

    V, B, T = 65, args.batch_size, args.block_size
    adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-3, beta2=0.95)
    config = GPTConfig(vocab_size=V, block_size=T)  # 4 layers, 4 heads, 128 channels
    torch.manual_seed(0)
    eager = GPT(config).train()
    torch.manual_seed(0)
    compiled_base = GPT(config).train()
    compiled = torch.compile(compiled_base)
    models = {
        "eager": (eager, build_optimizer(eager, adamw)),
        "torch.compile": (compiled, build_optimizer(compiled_base, adamw)),
    }
    batches = random_batches(V, args.steps + 3, B, T)
    warmup, seconds = time_in_turns(models, batches, warmup=3)

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
