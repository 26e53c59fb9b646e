"""Step time of recipe variants, measured in turns in one process (a ratio the load cannot skew).

Each variant is the CPU recipe (TrainConfig's defaults) with some keys changed, with the
optimizer `learngpt train` would build, on random batches of its own batch_size x block_size
(see training_steps.py). The speed ratio is in tokens/s, so variants of other batch shapes
compare fairly.

    nice .venv/bin/python bench/switch_speed.py base muon=false activation=relu_squared qk_norm=true
"""

from __future__ import annotations

import argparse

import torch
import yaml
from training_steps import random_batches, time_in_turns

from learngpt.config import TrainConfig
from learngpt.model import build_optimizer
from learngpt.runs import build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="'base' or key=value[,key=value] changes")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the recipe: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models, batches, tokens = {}, {}, {}
    for variant in args.variants:
        changes = dict(item.split("=", 1) for item in variant.split(",") if "=" in item)
        config = TrainConfig().replace(**{k: yaml.safe_load(v) for k, v in changes.items()})
        torch.manual_seed(0)
        model = build_model(config, 65).train()
        models[variant] = (model, build_optimizer(model, config))
        batches[variant] = random_batches(65, args.steps, config.batch_size, config.block_size)
        tokens[variant] = (args.steps - 10) * config.batch_size * config.block_size
    _, seconds = time_in_turns(models, batches, warmup=10)
    base = tokens[args.variants[0]] / seconds[args.variants[0]]
    print(f"{args.steps - 10} timed steps each, {args.threads} thread(s), in turns of 10")
    for name, s in seconds.items():
        speed = tokens[name] / s
        print(
            f"{name:40s} {1000 * s / (args.steps - 10):7.1f} ms/step {speed:9.0f} tokens/s"
            f"  {speed / base:5.2f}x"
        )


if __name__ == "__main__":
    main()
