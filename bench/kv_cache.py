"""KV-cache generation vs recomputing the whole context, in one run.

500 new tokens at block_size 256 (the default GPTConfig size), one sequence, same seed: both
modes must give the same tokens; the script prints the time of each and the speed-up (goal: at
least 5x). The weights are random: the cost of a step does not depend on what the model knows.

    .venv/bin/python bench/kv_cache.py [--new-tokens 500] [--block-size 256] [--repeats 3]
"""

from __future__ import annotations

import argparse

import torch

from learngpt.engine import generate
from learngpt.measure import timed
from learngpt.model import GPT, GPTConfig


def timed_generation(model: GPT, prompt: torch.Tensor, new_tokens: int, use_kv_cache: bool):
    generator = torch.Generator(prompt.device).manual_seed(0)

    def run() -> torch.Tensor:
        out = list(
            generate(model, prompt, new_tokens, use_kv_cache=use_kv_cache, generator=generator)
        )
        return torch.stack(out, dim=1).cpu()  # waits for the device to finish

    return timed(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=500)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="best time of this many runs")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=args.block_size)).to(args.device).eval()
    prompt = torch.zeros(1, 1, dtype=torch.long, device=args.device)
    timed_generation(model, prompt, 20, True)  # warm up the allocator and kernels
    times = {True: [], False: []}
    tokens = {}
    for _ in range(args.repeats):  # alternate the two modes so that machine load hits both
        for use_kv_cache in (True, False):
            seconds, tokens[use_kv_cache] = timed_generation(
                model, prompt, args.new_tokens, use_kv_cache
            )
            times[use_kv_cache].append(seconds)
    assert torch.equal(tokens[True], tokens[False]), "cached and uncached generation differ"
    cached_s, uncached_s = min(times[True]), min(times[False])
    print(
        f"model: {model.num_parameters():,} parameters, block_size {args.block_size}, "
        f"{args.device}, {torch.get_num_threads()} threads; "
        f"{args.new_tokens} new tokens, best of {args.repeats}"
    )
    for name, seconds in (("recompute the context", uncached_s), ("KV cache", cached_s)):
        print(f"{name:22s} {seconds:6.2f} s  ({args.new_tokens / seconds:7.1f} tokens/s)")
    print("same tokens: yes")
    print(f"speed-up: {uncached_s / cached_s:.1f}x (goal >= 5x)")


if __name__ == "__main__":
    main()
