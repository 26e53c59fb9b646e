"""`learngpt bpe-explore`: the course's BPE exploration, watching the vocabulary grow and shrink.

Runs word-level BPE (learngpt/tokenizers/word_bpe.py) on the course's word list, on the words of
a word-list file (--words) or on the words of a text (--data), prints the vocabulary every 10
merges and plots the vocabulary size against the merge number.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from learngpt.data import load_text
from learngpt.errors import UserError
from learngpt.fileio import atomic_write
from learngpt.tokenizers.word_bpe import COURSE_WORDS, WordBPEStep, learn_word_bpe

PRINT_EVERY = 10
MAX_SHOWN = 80  # symbols printed per step; a big text's vocabulary would flood the screen


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
        "--plot", default="bpe_vocab.png", metavar="FILE",
        help="where to save the plot of vocabulary size against merge (default: %(default)s)",
    )  # fmt: skip
    p.set_defaults(run=run)


def read_words(args: argparse.Namespace) -> list[str]:
    if args.words is not None:
        words = load_text(args.words).split()
    elif args.data is not None:
        words = re.findall(r"\w+", load_text(args.data))  # punctuation is not part of a word
    else:
        words = list(COURSE_WORDS)
    if not words:
        raise UserError(f"{args.words or args.data} holds no words; pass a file with some words")
    return words


def format_step(step: WordBPEStep) -> str:
    merged = "" if step.pair is None else f"  merged {step.pair[0]} + {step.pair[1]}"
    symbols = sorted(step.vocab)
    shown = " ".join(symbols[:MAX_SHOWN])
    if len(symbols) > MAX_SHOWN:
        shown += f" ... ({len(symbols) - MAX_SHOWN} more)"
    return f"merge {step.merge:4d}  vocab size {len(symbols):4d}{merged}\n  {shown}"


def save_plot(steps: list[WordBPEStep], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([s.merge for s in steps], [len(s.vocab) for s in steps])
    ax.set_xlabel("merge")
    ax.set_ylabel("vocabulary size")
    ax.set_title("Word-level BPE: vocabulary size per merge")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def run(args: argparse.Namespace) -> None:
    if args.merges is not None and args.merges < 0:
        raise UserError(f"--merges must be 0 or more, got {args.merges}")
    plot = Path(args.plot)
    if not plot.parent.is_dir():
        raise UserError(f"cannot save the plot: folder {plot.parent} does not exist")
    steps = learn_word_bpe(read_words(args), args.merges)
    for step in steps:
        if step.merge % PRINT_EVERY == 0 or step is steps[-1]:
            print(format_step(step))
    sizes = [len(s.vocab) for s in steps]
    peak = sizes.index(max(sizes))
    print(
        f"vocabulary size: {sizes[0]} at the start, peak {sizes[peak]} after merge {peak}, "
        f"{sizes[-1]} after {len(steps) - 1} merges"
    )
    save_plot(steps, plot)
    print(f"plot saved to {plot}")
