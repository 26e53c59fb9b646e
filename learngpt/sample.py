"""`learngpt sample`: continue a prompt with a trained model, printing text as it is generated.

    learngpt sample --out DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T]
                    [--top-k K] [--top-p P] [--num-samples N] [--seed S] [--no-kv-cache]

The same seed gives the same text, with the KV cache or without it (the cache changes only how
fast the model computes the same logits).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import torch

from learngpt.errors import UserError
from learngpt.rundir import load_run
from learngpt.tokenizers import Tokenizer


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sample", help="generate text from a trained run")
    p.add_argument("--out", required=True, help="the run directory that `learngpt train` wrote")
    p.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    p.add_argument("--max-new-tokens", type=non_negative(int), default=500, metavar="N")
    p.add_argument(
        "--temperature", type=non_negative(float), default=1.0, help="0 is greedy (default 1)"
    )
    p.add_argument("--top-k", type=positive(int), default=None, help="sample from the K likeliest")
    p.add_argument("--top-p", type=float, default=None, help="nucleus sampling, in (0, 1]")
    p.add_argument("--num-samples", type=positive(int), default=1, metavar="N")
    p.add_argument("--seed", type=int, default=0, help="same seed, same text (default 0)")
    p.add_argument("--no-kv-cache", action="store_true", help="recompute the whole context")
    p.add_argument(
        "--checkpoint", choices=("best", "latest"), default="best", help="default: best val loss"
    )
    p.add_argument(
        "--drop-unknown",
        action="store_true",
        help="drop prompt characters the tokenizer does not know instead of stopping",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.set_defaults(run=run)


def non_negative(kind):
    def parse(text: str):
        value = _number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def positive(kind):
    def parse(text: str):
        value = _number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _number(kind, text: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None


def unknown_chars(tokenizer: Tokenizer, text: str) -> list[str]:
    """Characters of `text` the tokenizer cannot encode (a byte-level BPE knows them all)."""
    return tokenizer.unknown_chars(text) if hasattr(tokenizer, "unknown_chars") else []


def encode_prompt(tokenizer: Tokenizer, prompt: str, drop_unknown: bool) -> list[int]:
    """The prompt's token ids; unknown characters are an error naming them, or dropped."""
    unknown = unknown_chars(tokenizer, prompt)
    if unknown and not drop_unknown:
        shown = ", ".join(repr(c) for c in unknown)
        raise UserError(
            f"the prompt has characters the tokenizer does not know: {shown}; "
            "remove them or pass --drop-unknown"
        )
    prompt = "".join(ch for ch in prompt if ch not in unknown)
    if prompt:
        return tokenizer.encode(prompt)
    # no prompt: start from a new line if the vocabulary has one, else from token 0
    return [0] if unknown_chars(tokenizer, "\n") else tokenizer.encode("\n")


def stream_text(tokenizer: Tokenizer, prompt_ids: list[int], new_ids: Iterator[int]):
    """Yield the text of each new token as soon as it is printable.

    Decoding token by token is wrong for byte-level BPE, where one character may span two
    tokens; so decode everything so far and yield what was added, holding back an incomplete
    character (shown as U+FFFD) until the next token completes it.
    """
    ids = list(prompt_ids)
    shown = len(tokenizer.decode(ids))
    for token in new_ids:
        ids.append(token)
        text = tokenizer.decode(ids)
        end = len(text.rstrip("\ufffd"))
        if end > shown:
            yield text[shown:end]
            shown = end
    text = tokenizer.decode(ids)
    if len(text) > shown:
        yield text[shown:]


def run(args: argparse.Namespace) -> int:
    if args.top_p is not None and not 0 < args.top_p <= 1:
        raise UserError(f"--top-p must be in (0, 1], got {args.top_p}")
    loaded = load_run(args.out, args.checkpoint, args.device)
    manifest = loaded.manifest
    val = manifest.get("val_loss")
    print(
        f"sampling from the {loaded.which} checkpoint of {args.out} (step {manifest['step']}"
        + (f", val loss {val:.4f})" if isinstance(val, (int, float)) else ")"),
        file=sys.stderr,
    )
    prompt_ids = encode_prompt(loaded.tokenizer, args.prompt, args.drop_unknown)
    generator = torch.Generator(loaded.device).manual_seed(args.seed)
    context = torch.tensor([prompt_ids], dtype=torch.long, device=loaded.device)  # (1, T)
    for i in range(args.num_samples):
        if i:
            sys.stdout.write("\n---------------\n")
        sys.stdout.write(loaded.tokenizer.decode(prompt_ids) if args.prompt else "")
        steps = loaded.model.generate(
            context,
            args.max_new_tokens,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            use_kv_cache=not args.no_kv_cache,
            generator=generator,
        )
        for piece in stream_text(loaded.tokenizer, prompt_ids, (int(t[0]) for t in steps)):
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
    return 0
