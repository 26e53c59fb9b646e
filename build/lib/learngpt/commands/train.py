"""`learngpt train`: train NanoGPT on a text file, resumably.

    learngpt train [--config FILE] [--data FILE] [--out DIR] [--resume] [--<key> VALUE ...]

The config is built in three layers: TrainConfig's defaults (with --resume, the run's own
config), then the --config file, then any --<key> flags.
"""

from __future__ import annotations

import argparse
import math
import sys

from learngpt.commands.arguments import add_config_flags, config_overrides
from learngpt.config import TrainConfig
from learngpt.training.run import DEFAULT_OUT, RunResult, train

INTERRUPTED = 130  # the exit status of a program stopped by Ctrl-C


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train",
        help="train NanoGPT on a text file (resumable)",
        description="Train NanoGPT on a text file. Every config key is also a flag.",
    )
    p.add_argument("--config", help="YAML file of config keys (default: the built-in recipe)")
    p.add_argument("--data", help="UTF-8 text file (default: the shipped Shakespeare)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="run directory (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--overwrite", action="store_true", help="start afresh in --out, replacing its run"
    )
    add_config_flags(p, TrainConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = train(
        out=args.out,
        data=args.data,
        resume=args.resume,
        overwrite=args.overwrite,
        config_file=args.config,
        overrides=config_overrides(args, TrainConfig),
    )
    return report(result)


def report(result: RunResult) -> int:
    """Say how the run ended and what to do next; the exit status."""
    out, history = result.out, result.history
    if result.finished_before:
        print(
            f"the run in {out} has already finished (step {history.step}); "
            "raise --max-iters or --max-time to train further"
        )
        return 0
    if result.interrupted:
        print(
            f"interrupted at step {history.step}; saved a checkpoint in {out}. "
            f"Resume with: learngpt train --out {out} --resume",
            file=sys.stderr,
        )
        return INTERRUPTED
    best = result.best
    print(
        f"done at step {history.step}: val loss {history.val_loss[-1]:.4f} "
        f"(best {best.get('val_loss', math.nan):.4f} at step {best.get('step', '?')}). "
        f"Sample with: learngpt sample --out {out}",
        file=sys.stderr,
    )
    return 0
