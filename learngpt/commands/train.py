"""`learngpt train`: train NanoGPT on a text file, resumably.

    learngpt train [--config FILE] [--data FILE] [--out DIR] [--resume | --init-from RUN]
                   [--<key> VALUE ...]

The config is built in three layers: TrainConfig's defaults (with --resume, the run's own
config), then the --config file, then any --<key> flags.

Several processes (PyTorch DDP; batch_size stays the global batch):
    learngpt train --nproc 2 ...                           on this machine
    torchrun --standalone --nproc_per_node=2 -m learngpt train ...    the same, torchrun's way
    torchrun --nnodes=2 --node_rank=R --nproc_per_node=G --master_addr=HOST --master_port=29500 \
        -m learngpt train ...      on two machines: R = 0 on HOST, R = 1 on the other
"""

from __future__ import annotations

import argparse
import math
import sys

from learngpt.commands import advice
from learngpt.commands.advice import checkpoint_advice
from learngpt.commands.arguments import add_config_flags, config_flags, config_overrides, positive
from learngpt.config import TrainConfig
from learngpt.errors import UserError
from learngpt.training import distributed
from learngpt.training.run import DEFAULT_OUT, RunResult, check_run, train

INTERRUPTED = 130  # the exit status of a program stopped by Ctrl-C


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train",
        help="train NanoGPT on a text file (resumable)",
        description="Train NanoGPT on a text file. Every config key is also a flag.",
    )
    p.add_argument("--config", help="YAML file of config keys (default: the built-in recipe)")
    p.add_argument(
        "--data",
        help="UTF-8 text file, or a directory of token files that `learngpt prepare` (or "
        "nanoGPT: then --tokenizer gpt2 --gpt2-dir DIR) wrote (default: the shipped Shakespeare)",
    )
    p.add_argument("--out", default=str(DEFAULT_OUT), help="run directory (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--init-from",
        metavar="RUN",
        help="fine-tune: start from this run's weights and tokenizer (its model shape keys)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="start afresh in --out, replacing its run"
    )
    p.add_argument(
        "--nproc",
        type=positive(int),
        default=1,
        help="train in N processes on this machine (DDP through torchrun; default 1)",
    )
    add_config_flags(p, TrainConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    run_args = {
        "out": args.out,
        "data": args.data,
        "resume": args.resume,
        "overwrite": args.overwrite,
        "config_file": args.config,
        "overrides": config_overrides(args, TrainConfig),
        "init_from": args.init_from,
    }
    with checkpoint_advice(advice.RESUME if args.resume else None):
        if args.nproc > 1:
            return launch(args.nproc, run_args, args.debug)
        return report(train(**run_args))


def launch(nproc: int, run_args: dict, debug: bool) -> int:
    """`learngpt train --nproc N`: check the run here, then start N training processes."""
    if distributed.launched_world_size():
        raise UserError("--nproc: torchrun already started this process; drop --nproc")
    config = check_run(None, **run_args).config
    distributed.check_batch_split(config.batch_size, nproc, config.grad_accum)
    argv = [*(["--debug"] if debug else []), "train", "--out", str(run_args["out"])]
    for flag, key in (
        ("--data", "data"),
        ("--config", "config_file"),
        ("--init-from", "init_from"),
    ):
        if run_args[key]:
            argv += [flag, str(run_args[key])]
    argv += [flag for flag in ("--resume", "--overwrite") if run_args[flag[2:]]]
    return distributed.launch(nproc, argv + config_flags(run_args["overrides"]))


def report(result: RunResult) -> int:
    """Say how the run ended and what to do next (rank 0 only); the exit status."""
    out, history = result.out, result.history
    if not result.is_main:
        return INTERRUPTED if result.interrupted else 0
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
