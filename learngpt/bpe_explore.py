"""The course's BPE exploration (`learngpt bpe-explore`): watching the vocabulary grow and shrink.

Runs word-level BPE (learngpt/tokenizers/word_bpe.py) on a stand-in for the course's word list
(COURSE_WORDS: the course's text does not show its main_bpe.py's words), on the words of
a word-list file (--words) or on the words of a text (--data), prints the vocabulary every 10
merges and plots the vocabulary size against the merge number.
"""

from __future__ import annotations

import re
from pathlib import Path

from learngpt.data import load_text
from learngpt.errors import UserError
from learngpt.plots import pyplot, save_png
from learngpt.tokenizers.word_bpe import COURSE_WORDS, WordBPEStep

PRINT_EVERY = 10
MAX_SHOWN = 80  # symbols printed per step; a big text's vocabulary would flood the screen


def read_words(words_file: str | None = None, text_file: str | None = None) -> list[str]:
    """The words of a word-list file, or of a text, or (neither given) the course's list."""
    if words_file is not None:
        words = load_text(words_file).split()
    elif text_file is not None:
        words = re.findall(r"\w+", load_text(text_file))  # punctuation is not part of a word
    else:
        words = list(COURSE_WORDS)
    if not words:
        raise UserError(f"{words_file or text_file} holds no words; pass a file with some words")
    return words


def format_step(step: WordBPEStep) -> str:
    merged = "" if step.pair is None else f"  merged {step.pair[0]} + {step.pair[1]}"
    symbols = sorted(step.vocab)
    shown = " ".join(symbols[:MAX_SHOWN])
    if len(symbols) > MAX_SHOWN:
        shown += f" ... ({len(symbols) - MAX_SHOWN} more)"
    return f"merge {step.merge:4d}  vocab size {len(symbols):4d}{merged}\n  {shown}"


def save_plot(steps: list[WordBPEStep], path: Path) -> None:
    fig, ax = pyplot().subplots(figsize=(6, 4))
    ax.plot([s.merge for s in steps], [len(s.vocab) for s in steps])
    ax.set_xlabel("merge")
    ax.set_ylabel("vocabulary size")
    ax.set_title("Word-level BPE: vocabulary size per merge")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, path, dpi=100)
