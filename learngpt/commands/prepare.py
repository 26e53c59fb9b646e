"""`learngpt prepare`: text files -> token files that `learngpt train --data DIR` reads in place.

learngpt prepare --data FILE... --out DIR [--tokenizer char|bpe|gpt2] [--vocab-size N]
                 [--gpt2-dir DIR] [--tokenizer-from DIR_OR_RUN] [--val-ratio R]
                 [--chunk-mb X] [--sample-mb X] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import time

from learngpt.commands.arguments import non_negative, positive
from learngpt.prepare import PrepareOptions, prepare
from learngpt.prepare.cuts import MAX_UNCUT
from learngpt.prepare.encode import worker_count
from learngpt.prepare.stop import Interrupted, stop_on_signals


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "prepare",
        help="encode text files into token files for training (streamed, in parallel)",
        description=(
            "Encode text files into DIR/train.bin and DIR/val.bin (uint16 or uint32 ids, "
            "nanoGPT's layout), DIR/meta.json and DIR/tokenizer.json, streaming the text "
            "(memory stays bounded) and encoding on every core. Train with: "
            "learngpt train --data DIR"
        ),
    )
    p.add_argument(
        "--data", nargs="+", required=True, help="UTF-8 text files, directories or globs"
    )
    p.add_argument("--out", required=True, help="the directory to write (must not exist)")
    p.add_argument(
        "--tokenizer",
        choices=("char", "bpe", "gpt2"),
        default="bpe",
        help="bpe (learned from a sample of the text, GPT-2's split pattern), char, or gpt2 "
        "(GPT-2's own, from --gpt2-dir); default bpe",
    )
    p.add_argument("--vocab-size", type=positive(int), default=4096, help="BPE only (default 4096)")
    p.add_argument("--gpt2-dir", help="with --tokenizer gpt2: the folder of vocab.json, merges.txt")
    p.add_argument(
        "--tokenizer-from",
        metavar="DIR_OR_RUN",
        help="reuse the tokenizer.json of a prepared directory or a run",
    )
    p.add_argument(
        "--val-ratio",
        type=float,
        default=0.1,
        help="the last fraction of the ids that goes to val.bin (default 0.1)",
    )
    p.add_argument(
        "--chunk-mb",
        type=float,
        default=1.0,
        help="MB of text per piece encoded in parallel, 0.001 to 16 (default 1); the ids never "
        "depend on it",
    )
    p.add_argument(
        "--sample-mb",
        type=float,
        default=4.0,
        help="MB of text, in windows spread over the training part, that a BPE vocabulary is "
        "learned from (default 4)",
    )
    p.add_argument(
        "--workers",
        type=non_negative(int),
        default=0,
        help="encoding processes (0: one a core; never more than the cores)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    workers = worker_count(args.workers)
    if args.workers > workers:
        print(
            f"warning: --workers {args.workers} is more than this machine's {workers} cores; "
            f"using {workers}",
            file=sys.stderr,
        )
    options = PrepareOptions(
        data=args.data,
        out=args.out,
        tokenizer=args.tokenizer,
        vocab_size=args.vocab_size,
        gpt2_dir=args.gpt2_dir,
        tokenizer_from=args.tokenizer_from,
        val_ratio=args.val_ratio,
        chunk_mb=args.chunk_mb,
        sample_mb=args.sample_mb,
        workers=workers,
    )
    started = time.perf_counter()
    with stop_on_signals():  # SIGINT, SIGTERM, SIGHUP: the workers and the partial output go
        try:
            meta = prepare(options)
        except Interrupted as stop:
            print(f"error: stopped by {stop.name}; nothing was written", file=sys.stderr)
            return 128 + stop.signum
    seconds = time.perf_counter() - started
    warn_about(options, meta)
    megabytes = sum(f["bytes"] for f in meta["files"]) / 1e6
    tokens = meta["tokens"]
    print(
        f"prepared {len(meta['files'])} files, {megabytes:.1f} MB in {seconds:.1f} s "
        f"({megabytes / seconds:.1f} MB/s): {tokens['train']} train and {tokens['val']} val "
        f"tokens ({meta['dtype']}, vocabulary {meta['vocab_size']}) in {args.out}. "
        f"Train with: learngpt train --data {args.out}",
        file=sys.stderr,
    )
    return 0


def warn_about(options: PrepareOptions, meta: dict) -> None:
    """What the user asked for and did not quite get: one `warning:` line each."""
    learned = options.tokenizer == "bpe" and not options.tokenizer_from
    if learned and meta["vocab_size"] < options.vocab_size:
        print(
            f"warning: the vocabulary has {meta['vocab_size']:,} tokens, not the "
            f"{options.vocab_size:,} --vocab-size asked for: in the sample of the text "
            f"(--sample-mb {options.sample_mb:g}) every word became one token, with no pair left "
            "to merge; a larger --sample-mb may learn more",
            file=sys.stderr,
        )
    for file in meta["files"]:
        if file["forced_cuts"]:
            print(
                f"warning: data file {file['path']} has {file['forced_cuts']} runs of over "
                f"{MAX_UNCUT:,} characters with no safe place to cut (no space, and no change "
                "between letters, digits and punctuation); each was cut anyway, and its ids "
                "there may differ from those of the whole text",
                file=sys.stderr,
            )
