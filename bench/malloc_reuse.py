"""Training steps with and without reuse_freed_cpu_memory (glibc's malloc).

The two settings take turns, each in a fresh process (malloc's settings hold for a whole
process) running the same steps of the recipe's model (TrainConfig's defaults, its optimizer,
bf16 if the CPU has it); each process prints its time and its page faults a step. The ratio is
against the reuse setting, measured in the same run.

    .venv/bin/python bench/malloc_reuse.py                  # 4 rounds of 60 timed steps
    .venv/bin/python bench/malloc_reuse.py --rounds 6 --steps 100
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from training_steps import random_batches

from learngpt.config import TrainConfig
from learngpt.model import build_optimizer
from learngpt.runs import build_model
from learngpt.training.distributed import cpu_has_fast_bf16, reuse_freed_cpu_memory

SETTINGS = ("reuse", "default")


def child(setting: str, steps: int) -> None:
    """Run in a fresh process: warm up, then time `steps` steps; print one JSON line."""
    if setting == "reuse":
        reuse_freed_cpu_memory()
    config = TrainConfig().replace(bf16=cpu_has_fast_bf16())
    torch.manual_seed(0)
    model = build_model(config, 65)
    optimizer = build_optimizer(model, config)
    batches = random_batches(65, steps + 10, config.batch_size, config.block_size)
    for i, (x, y) in enumerate(batches):
        if i == 10:  # after the warm-up
            faults, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model(x, y)[1].backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(json.dumps({"ms": 1000 * seconds / steps, "faults": faults / steps}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per process")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.steps)
    results = {setting: [] for setting in SETTINGS}
    for _ in range(args.rounds):
        for setting in SETTINGS:
            command = [sys.executable, __file__, "--child", setting, "--steps", str(args.steps)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[setting].append(json.loads(output))
    print(f"{torch.get_num_threads()} threads; the recipe's training step, {args.rounds} rounds")
    base = sum(r["ms"] for r in results["reuse"])
    for setting, runs in results.items():
        ms = [r["ms"] for r in runs]
        faults = sum(r["faults"] for r in runs) / len(runs)
        print(
            f"{setting:8s} {sum(ms) / len(ms):6.2f} ms a step (each round: "
            f"{' '.join(f'{m:.1f}' for m in ms)}), {faults:7.0f} page faults a step, "
            f"{sum(ms) / base:4.2f}x"
        )


if __name__ == "__main__":
    main()
