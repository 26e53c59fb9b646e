"""`learngpt train`: train NanoGPT on a text file or token files, resumably.

    learngpt train [--config FILE] [--data FILE_OR_DIR] [--out DIR] [--resume | --init-from RUN]
                   [--<key> VALUE ...]

The config is built in three layers: TrainConfig's defaults (with --resume, the run's own
config), then the --config file, then any --<key> flags. `run` plans the run (every check,
nothing written: learngpt/training/plan.py), then fits it (learngpt/training/fit.py).

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
import typing
from typing import Any

from learngpt.checkpoint import CorruptCheckpoint
from learngpt.commands import advice
from learngpt.commands.arguments import number, positive
from learngpt.config import TrainConfig, flags
from learngpt.errors import UserError
from learngpt.training import distributed
from learngpt.training.fit import RunResult, fit
from learngpt.training.plan import DEFAULT_OUT, TrainRequest, check_run, plan_run

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
    request = TrainRequest(
        out=args.out,
        data=args.data,
        resume=args.resume,
        overwrite=args.overwrite,
        config_file=args.config,
        overrides=config_overrides(args, TrainConfig),
        init_from=args.init_from,
    )
    try:
        if args.nproc > 1:
            return launch(args.nproc, request, args.debug)
        return report(fit(plan_run(request)))
    except CorruptCheckpoint as exc:
        if not args.resume:
            raise
        raise exc.advised(advice.RESUME) from None


def launch(nproc: int, request: TrainRequest, debug: bool) -> int:
    """`learngpt train --nproc N`: check the run here, then start N training processes."""
    if distributed.launched_world_size():
        raise UserError("--nproc: torchrun already started this process; drop --nproc")
    config = check_run(request).config
    distributed.check_batch_split(config.batch_size, nproc, config.grad_accum)
    argv = [*(["--debug"] if debug else []), "train", "--out", str(request.out)]
    for flag, value in (
        ("--data", request.data),
        ("--config", request.config_file),
        ("--init-from", request.init_from),
    ):
        if value:
            argv += [flag, str(value)]
    argv += [flag for flag in ("--resume", "--overwrite") if getattr(request, flag[2:])]
    return distributed.launch(nproc, argv + config_flags(request.overrides))


# -- one flag per config key ---------------------------------------------------------------------


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per key of the config dataclass `cls` (flat: --n-layers), help from the field.

    Defaults stay in the dataclass: a flag not given leaves nothing in the namespace, so only
    what the user typed overrides the config file.
    """
    group = parser.add_argument_group("config keys (override the config file)")
    for name, flag in flags(cls).items():
        names = ["--" + n.replace("_", "-") for n in (name, *flag.aliases)]
        text = f"{flag.help} (default {flag.default})"
        if flag.kind is bool:
            group.add_argument(
                *names, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                *names,
                dest=name,
                type=_config_value(flag.kind),
                default=argparse.SUPPRESS,
                metavar=name.upper(),
                help=text,
            )


def _config_value(kind: Any):
    """The argparse `type` for a config field: int, float, str, or an Optional of one."""
    kinds = typing.get_args(kind) or (kind,)
    base = next(k for k in kinds if k is not type(None))
    optional = type(None) in kinds

    def parse(text: str):
        if optional and text.lower() in ("none", "null"):
            return None
        return number(base, text)

    parse.__name__ = base.__name__
    return parse


def config_flags(overrides: dict[str, Any]) -> list[str]:
    """The flags that give these config keys these values (add_config_flags parses them back)."""
    flags = []
    for name, value in overrides.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        else:
            flags += [flag, "none" if value is None else str(value)]
    return flags


def config_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config keys the user gave as flags."""
    keys = flags(cls)
    return {k: v for k, v in vars(args).items() if k in keys}


def report(result: RunResult) -> int:
    """Say how the run ended and what to do next (rank 0 only); the exit status."""
    out, step = result.out, result.step
    if not result.is_main:
        return INTERRUPTED if result.interrupted else 0
    if result.finished_before:
        print(
            f"the run in {out} has already finished (step {step}); "
            "raise --max-iters or --max-time to train further"
        )
        return 0
    if result.interrupted:
        print(
            f"interrupted at step {step}; saved a checkpoint in {out}. "
            f"Resume with: learngpt train --out {out} --resume",
            file=sys.stderr,
        )
        return INTERRUPTED
    best = result.best
    print(
        f"done at step {step}: val loss {result.val_loss:.4f} "
        f"(best {best.get('val_loss', math.nan):.4f} at step {best.get('step', '?')}). "
        f"Sample with: learngpt sample --out {out}",
        file=sys.stderr,
    )
    return 0
