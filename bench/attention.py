"""Causal attention's forward + backward on a CPU in bfloat16 autocast: written out vs torch's SDPA.

What learngpt.model.explicit_causal_attention is for: in a CPU training step under bf16 autocast
(the recipe's), torch's scaled_dot_product_attention kernels (math, flash) are slower than the
four plain ops. Each kernel runs the same (B, H, T, hs) inputs in turns, so load hits all alike;
the ratio is against the explicit version, measured in the same run.

    .venv/bin/python bench/attention.py               # the recipe's shape at T = 64, 128, 256
    .venv/bin/python bench/attention.py --tokens 3072 --heads 4 --head-size 32
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from learngpt.model import explicit_causal_attention


def sdpa(backend: SDPBackend):
    def attention(q, k, v):
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    return attention


KERNELS = {
    "explicit": explicit_causal_attention,
    "sdpa math": sdpa(SDPBackend.MATH),
    "sdpa flash": sdpa(SDPBackend.FLASH_ATTENTION),
}


def forward_backward(attention, q, k, v) -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = attention(q, k, v)
    y.float().square().mean().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=3072, help="B x T per batch")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--head-size", type=int, default=32)
    parser.add_argument("--blocks", type=int, nargs="+", default=[64, 128, 256], help="T values")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} threads; times per forward + backward of one layer")
    for T in args.blocks:
        shape = (args.tokens // T, args.heads, T, args.head_size)
        q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
        seconds = dict.fromkeys(KERNELS, 0.0)
        for round_ in range(args.rounds + 1):  # round 0 warms up
            for name, attention in KERNELS.items():
                start = time.perf_counter()
                for _ in range(5):
                    forward_backward(attention, q, k, v)
                if round_:
                    seconds[name] += time.perf_counter() - start
        base = seconds["explicit"]
        cells = [
            f"{n} {1000 * s / (5 * args.rounds):6.2f} ms ({s / base:4.2f}x its time)"
            for n, s in seconds.items()
        ]
        print(f"T={T:4d} B={shape[0]:3d}: " + "   ".join(cells))


if __name__ == "__main__":
    main()
