"""One Muon step on the recipe model's matrices: torch.optim.Muon vs learngpt's BatchedMuon.

What learngpt.training.muon.BatchedMuon is for: the same update with the Newton-Schulz
iterations of same-shape matrices batched. Both optimizers step the same matrices with the same
gradients in turns, so load hits both alike; the ratio is against BatchedMuon in the same run.

    .venv/bin/python bench/muon_step.py                   # the recipe (TrainConfig's defaults)
    .venv/bin/python bench/muon_step.py --embed-size 384 --n-layers 6
"""

from __future__ import annotations

import argparse
import time

import torch

from learngpt.config import TrainConfig
from learngpt.model import muon_matrices
from learngpt.runs import build_model
from learngpt.training.muon import BatchedMuon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    recipe = TrainConfig().model
    parser.add_argument("--embed-size", type=int, default=recipe.embed_size)
    parser.add_argument("--n-layers", type=int, default=recipe.n_layers)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    config = TrainConfig().replace(embed_size=args.embed_size, n_layers=args.n_layers)
    matrices = muon_matrices(build_model(config, 65))
    for p in matrices:
        p.grad = torch.randn_like(p)
    options = dict(lr=1e-3, adjust_lr_fn="match_rms_adamw")
    optimizers = {
        "BatchedMuon": BatchedMuon(matrices, **options),
        "torch.optim.Muon": torch.optim.Muon(matrices, **options),
    }
    seconds = dict.fromkeys(optimizers, 0.0)
    for round_ in range(args.rounds + 1):  # round 0 warms up
        for name, optimizer in optimizers.items():
            start = time.perf_counter()
            for _ in range(5):
                optimizer.step()
            if round_:
                seconds[name] += time.perf_counter() - start
    shapes = sorted({tuple(p.shape) for p in matrices})
    print(f"{torch.get_num_threads()} threads; {len(matrices)} matrices of shapes {shapes}")
    base = seconds["BatchedMuon"]
    for name, s in seconds.items():
        print(f"{name:17s} {1000 * s / (5 * args.rounds):6.2f} ms a step ({s / base:4.2f}x)")


if __name__ == "__main__":
    main()
