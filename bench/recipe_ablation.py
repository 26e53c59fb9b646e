"""Ablations of the CPU recipe at a fixed number of steps: loss that machine load cannot move.

On a shared machine a wall-clock budget buys a different number of steps each run, so each
variant here trains for exactly --steps steps (the schedule follows the steps), then the whole
validation split is evaluated exactly as `learngpt eval` does. The variants of one seed run
one after the other, so their tokens/s (from the run's last log record) see about the same load:
compare them as ratios. A variant is NAME or NAME:key=value,key=value (TrainConfig keys).

    nice .venv/bin/python bench/recipe_ablation.py --steps 1500 --seeds 0 1 2 \\
        adamw:muon=false muon:muon=true relu2:activation=relu_squared
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import yaml

from learngpt.config import TrainConfig
from learngpt.data import encode, load_text, split_text
from learngpt.evaluate import split_loss
from learngpt.resources import shakespeare_path
from learngpt.runs import LOG, load_run
from learngpt.training.fit import train


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, assignments = text.partition(":")
    changes = {}
    for item in filter(None, assignments.split(",")):
        key, _, value = item.partition("=")
        changes[key] = yaml.safe_load(value)
    return name, changes


def run_variant(changes: dict, seed: int, steps: int, threads: int) -> tuple[float, float]:
    """(full-split val loss, training tokens/s) of one run of the recipe with `changes`."""
    config = TrainConfig().replace(
        **{"max_iters": steps, "eval_interval": steps, "threads": threads, **changes, "seed": seed}
    )
    with tempfile.TemporaryDirectory() as out:
        train(config, out=out)
        run = load_run(out, "latest")
        _, val_text = split_text(load_text(shakespeare_path()), run.config.train_ratio)
        loss, _ = split_loss(run.model, encode(run.tokenizer, val_text), run.config.block_size)
        last = json.loads((Path(out) / LOG).read_text().splitlines()[-1])
    return loss, last["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="NAME or NAME:key=value,key=value")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variants]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in variants}
    for seed in args.seeds:
        for name, changes in variants:
            loss, speed = run_variant(changes, seed, args.steps, args.threads)
            results[name].append((loss, speed))
            print(f"seed {seed} {name:24s} val {loss:.4f}  {speed:8.0f} tokens/s", flush=True)
    base_speed = statistics.mean(s for _, s in results[variants[0][0]])
    print(f"\n{args.steps} steps, seeds {args.seeds}; speed relative to {variants[0][0]}")
    print("| variant | val mean | spread (max-min) | relative speed |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        losses = [loss for loss, _ in rows]
        speed = statistics.mean(s for _, s in rows) / base_speed
        print(
            f"| {name} | {statistics.mean(losses):.4f} | {max(losses) - min(losses):.4f} "
            f"| {speed:.2f}x |"
        )


if __name__ == "__main__":
    main()
