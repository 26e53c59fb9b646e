"""`learngpt experiment`: the course's "X helps" claims, checked on several seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from learngpt.config import load_config
from learngpt.data import encode_splits, load_text
from learngpt.errors import UserError
from learngpt.experiments import (
    EXPERIMENTS,
    SETUPS,
    format_table,
    get_experiment,
    plot,
    run_experiment,
    write_markdown,
)
from learngpt.resources import course_config_path, shakespeare_path
from learngpt.tokenizers import CharTokenizer


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "experiment",
        help="check one of the course's 'X helps' claims on several seeds",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("name", choices=[*EXPERIMENTS, "all"], help="which claim ('all': every one)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--max-iters", type=int, help="override the number of training steps")
    p.add_argument(
        "--setup",
        choices=SETUPS,
        default="course",
        help="'course': the course's set-up; 'test': the shorter one the tests use",
    )
    p.add_argument("--data", help="a UTF-8 text file (default: the shipped Shakespeare)")
    p.add_argument("--config", help="the course's set-up as YAML (default: the shipped one)")
    p.add_argument("--plot", help="save the loss curves as this PNG (one experiment only)")
    p.add_argument(
        "--markdown",
        help="write the tables and plots (beside it, in img/) into this markdown file",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    if args.plot and len(names) > 1:
        raise UserError("--plot takes one experiment; use --markdown to plot them all")
    if args.max_iters is not None and args.max_iters <= 0:
        raise UserError("--max-iters must be a positive integer")
    base = load_config(args.config or course_config_path())
    text = load_text(args.data or shakespeare_path())
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = encode_splits(text, tokenizer, base.train_ratio)
    results = []
    for name in names:
        experiment = get_experiment(name)
        config = experiment.config(base, args.setup)
        if args.max_iters is not None:
            config = config.replace(
                max_iters=args.max_iters, eval_interval=min(config.eval_interval, args.max_iters)
            )
        result = run_experiment(
            experiment, config, train_data, val_data, tokenizer.vocab_size, args.seeds, _log
        )
        print(format_table(result), flush=True)
        print()
        if args.plot:
            plot(result, Path(args.plot))
        results.append(result)
    if args.markdown:
        command = "learngpt experiment " + " ".join(
            [args.name, "--setup", args.setup, "--seeds", *map(str, args.seeds)]
            + (["--max-iters", str(args.max_iters)] if args.max_iters is not None else [])
            + ["--markdown", str(args.markdown)]
        )
        write_markdown(Path(args.markdown), results, command)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
