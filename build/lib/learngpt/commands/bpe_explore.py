"""`learngpt bpe-explore`: the course's BPE exploration, watching the vocabulary grow and shrink."""

from __future__ import annotations

import argparse
from pathlib import Path

from learngpt.bpe_explore import PRINT_EVERY, format_step, read_words, save_plot
from learngpt.errors import UserError
from learngpt.tokenizers.word_bpe import learn_word_bpe

DEFAULT_PLOT = "runs/bpe_vocab.png"


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "bpe-explore",
        help="word-level BPE on the course's word list: the vocabulary grows, then shrinks",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--words", metavar="FILE", help="a file of words separated by whitespace")
    source.add_argument("--data", metavar="FILE", help="a text whose words to use")
    p.add_argument(
        "--merges", type=int, default=None, metavar="N",
        help="stop after N merges (default: when every word is one symbol)",
    )  # fmt: skip
    p.add_argument(
        "--plot", default=DEFAULT_PLOT, metavar="FILE",
        help="where to save the plot of vocabulary size against merge (default: %(default)s)",
    )  # fmt: skip
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    if args.merges is not None and args.merges < 0:
        raise UserError(f"--merges must be 0 or more, got {args.merges}")
    plot = Path(args.plot)
    if plot.parent != Path(DEFAULT_PLOT).parent and not plot.parent.is_dir():
        raise UserError(f"cannot save the plot: folder {plot.parent} does not exist")
    steps = learn_word_bpe(read_words(args.words, args.data), args.merges)
    for step in steps:
        if step.merge % PRINT_EVERY == 0 or step is steps[-1]:
            print(format_step(step))
    sizes = [len(s.vocab) for s in steps]
    peak = sizes.index(max(sizes))
    print(
        f"vocabulary size: {sizes[0]} at the start, peak {sizes[peak]} after merge {peak}, "
        f"{sizes[-1]} after {len(steps) - 1} merges"
    )
    plot.parent.mkdir(parents=True, exist_ok=True)
    save_plot(steps, plot)
    print(f"plot saved to {plot}")
