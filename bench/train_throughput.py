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

import torch
from training_steps import random_batches, time_in_turns

from learngpt.config import TrainConfig
from learngpt.course.nanogpt import NanoGPT
from learngpt.model import GPT, GPTConfig, build_optimizer


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
        adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-3, beta2=0.95)
        models[name] = (model, build_optimizer(model, adamw))
    course = NanoGPT(V, T, args.embed_size, args.n_layers, args.n_heads, dropout=0.0).train()
    models["course NanoGPT"] = (course, torch.optim.AdamW(course.parameters(), lr=1e-3))
    batches = random_batches(V, args.steps + 5, B, T)
    _, seconds = time_in_turns(models, batches, warmup=5)

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
