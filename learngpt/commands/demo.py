"""`learngpt demo` (`make demo`): train the default NanoGPT for about 3 minutes, print samples.

It is `learngpt train` with a time budget, then `learngpt sample`: the same code a user runs.
"""

from __future__ import annotations

import argparse

from learngpt.commands import sample, train
from learngpt.commands.arguments import ArgumentParser, add_max_new_tokens, positive

DEMO_OUT = "runs/demo"


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("demo", help="train NanoGPT on Shakespeare for ~3 minutes, sample")
    p.add_argument("--data", help="text file (default: the shipped Shakespeare)")
    p.add_argument("--out", default=DEMO_OUT, help="run directory (default %(default)s)")
    p.add_argument(
        "--max-time", type=positive(float), default=180.0, help="seconds of training (default 180)"
    )
    add_max_new_tokens(p)
    p.set_defaults(run=run)


def train_and_sample_parser() -> ArgumentParser:
    """The two commands the demo runs, parsed as `learngpt` parses them."""
    parser = ArgumentParser(prog="learngpt")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    train.add_command(commands)
    sample.add_command(commands)
    return parser


def run(args: argparse.Namespace) -> int:
    parser = train_and_sample_parser()
    train_argv = ["train", "--out", args.out, "--overwrite"]
    train_argv += ["--data", args.data] if args.data else []
    # a time budget with an iteration budget out of reach: the schedule follows the clock
    train_argv += ["--max-time", str(args.max_time), "--max-iters", "1000000000"]
    train_args = parser.parse_args(train_argv)
    status = train_args.run(train_args)
    if status:
        return status
    sample_argv = ["sample", "--out", args.out, "--max-new-tokens", str(args.max_new_tokens)]
    sample_argv += ["--num-samples", "2", "--top-k", "40", "--temperature", "0.8"]
    sample_args = parser.parse_args(sample_argv)
    return sample_args.run(sample_args)
