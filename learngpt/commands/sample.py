"""`learngpt sample`: continue a prompt with a trained model, printing text as it is generated.

    learngpt sample --out DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T]
                    [--top-k K] [--top-p P] [--num-samples N] [--seed S] [--no-kv-cache]

The same seed gives the same text, with the KV cache or without it (the cache changes only how
fast the model computes the same logits).
"""

from __future__ import annotations

import argparse
import sys

import torch

from learngpt.commands.advice import checkpoint_advice, other_checkpoint
from learngpt.commands.arguments import add_max_new_tokens, non_negative, positive
from learngpt.engine import Sampling, encode_prompt, sample, stream_text, token_chunks
from learngpt.errors import UserError
from learngpt.runs import load_run


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sample", help="generate text from a trained run")
    p.add_argument("--out", required=True, help="the run directory that `learngpt train` wrote")
    p.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    add_max_new_tokens(p)
    p.add_argument(
        "--temperature", type=non_negative(float), default=1.0, help="0 is greedy (default 1)"
    )
    p.add_argument("--top-k", type=positive(int), default=None, help="sample from the K likeliest")
    p.add_argument("--top-p", type=float, default=None, help="nucleus sampling, in (0, 1]")
    p.add_argument(
        "--num-samples",
        type=positive(int),
        default=1,
        metavar="N",
        help="how many texts (default 1)",
    )
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


def run(args: argparse.Namespace) -> int:
    settings = Sampling(
        args.max_new_tokens,
        args.temperature,
        args.top_k,
        args.top_p,
        args.seed,
        not args.no_kv_cache,
    )
    problem = settings.problem()
    if problem:
        raise UserError(f"--{problem[0].replace('_', '-')} {problem[1]}")
    with checkpoint_advice(other_checkpoint(args.checkpoint)):
        loaded = load_run(args.out, args.checkpoint, args.device)
    manifest = loaded.manifest
    val = manifest.get("val_loss")
    print(
        f"sampling from the {loaded.which} checkpoint of {args.out} (step {manifest['step']}"
        + (f", val loss {val:.4f})" if isinstance(val, (int, float)) else ")"),
        file=sys.stderr,
    )
    prompt_ids = encode_prompt(loaded.tokenizer, args.prompt, args.drop_unknown)
    generator = torch.Generator(loaded.device).manual_seed(settings.seed)  # one for every sample
    for i in range(args.num_samples):
        if i:
            sys.stdout.write("\n---------------\n")
        sys.stdout.write(loaded.tokenizer.decode(prompt_ids) if args.prompt else "")
        steps = sample(loaded.model, prompt_ids, settings, generator)
        chunk = 1 if loaded.device.type == "cpu" else 16  # see token_chunks
        for piece in stream_text(loaded.tokenizer, prompt_ids, token_chunks(steps, chunk)):
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
    return 0
