"""`learngpt answers`: the evidence behind the course's answers: print its tables, draw its figures.

Every table the answers quote is printed here in markdown, under the question it answers; the
figures are written as PNGs (default runs/answers/answer_*.png). The training experiments are not
rerun: their numbers are read from the JSON file `learngpt experiment all --json` wrote
(docs/experiments.json).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from learngpt.config import load_config
from learngpt.data import encode_splits, load_text
from learngpt.evidence.cost import COURSE_SIZE, cost_rows
from learngpt.evidence.dropout import dropout_rows
from learngpt.evidence.experiments import QUESTIONS, claim_rows
from learngpt.evidence.layer_norm import (
    DEPTH,
    gradient_profiles,
    gradient_rows,
    layer_norm_rows,
    plot_gradients,
)
from learngpt.evidence.speed import TIMING_LARGE_SIZE, measure, plot_speed, profile_rows, speed_rows
from learngpt.experiments import ResultsFile
from learngpt.measure import one_cpu_thread
from learngpt.resources import course_config_path, shakespeare_path
from learngpt.tables import markdown_table
from learngpt.tokenizers import CharTokenizer

DEFAULT_OUT = Path("runs") / "answers"
SPEED_FIGURE = "answer_speed.png"
GRADIENT_FIGURE = "answer_grad_norm.png"


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "answers",
        help="print the tables and draw the figures of the answers to the course's questions",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "--out", default=str(DEFAULT_OUT), help="folder for the PNGs (default %(default)s)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="time the course's size only, in fewer, shorter rounds (noisier)",
    )
    p.add_argument("--data", help="a UTF-8 text file (default: the shipped Shakespeare)")
    p.add_argument(
        "--experiments",
        help="the JSON file `learngpt experiment all --json` wrote, e.g. docs/experiments.json "
        "(default: none, left out)",
    )
    p.add_argument(
        "--no-experiments", action="store_true", help="leave out the training experiments"
    )
    p.set_defaults(run=run)


def section(title: str, rows: list[list[str]], note: str = "") -> None:
    print(f"### {title}\n")
    if note:
        print(note + "\n")
    print(markdown_table(rows) + "\n", flush=True)


def run(args: argparse.Namespace) -> None:
    saved = None
    if args.experiments and not args.no_experiments:
        saved = ResultsFile.read(Path(args.experiments))
    text = load_text(args.data or shakespeare_path())  # read before anything is written
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    section("7a: parameters and forward-pass matmul FLOPs", cost_rows())
    if saved is not None:
        print(f"The experiments: read from {args.experiments}, written by `{saved.command}`\n")
        results = {r.experiment.name: r for r in saved.results}
        for name, question in QUESTIONS.items():
            if name in results:
                section(f"{question}: `learngpt experiment {name}`", claim_rows(results[name]))

    _log("7c: timing MultiHeadVer1 and MultiHeadVer2 (one CPU thread)")
    sizes, rounds, min_seconds = (COURSE_SIZE, TIMING_LARGE_SIZE), 7, 0.3
    if args.quick:
        sizes, rounds, min_seconds = (COURSE_SIZE,), 2, 0.05
    with one_cpu_thread():  # as the course trains; a second thread only waits on a busy machine
        results = [measure(size, rounds, min_seconds) for size in sizes]
        section("7c: what torch.profiler records in one forward pass (course size)", profile_rows())
    section("7c: time per forward pass, best of the rounds", speed_rows(results))
    plot_speed(results, out / SPEED_FIGURE)

    section("9a: per-position statistics before and after LayerNorm", layer_norm_rows())

    tokenizer = CharTokenizer.from_text(text)
    train_ratio = load_config(course_config_path()).train_ratio
    train_data, _ = encode_splits(text, tokenizer, train_ratio)
    profiles = gradient_profiles(train_data, tokenizer.vocab_size, DEPTH)
    section(f"9b: gradient norm per block, {DEPTH} blocks deep", gradient_rows(profiles))
    plot_gradients(profiles, out / GRADIENT_FIGURE)

    section("10a, 10b: dropout in train and eval mode", dropout_rows())
    print(f"figures: {out / SPEED_FIGURE}, {out / GRADIENT_FIGURE}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads available")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
