"""The course's seven figures, drawn with matplotlib: `python -m learngpt.figures`.

The course's text shows a week-1 overview, a self-attention head, multi-head attention and the
four blocks of week 2 (BlockVer1-4); its image files were never part of it, so they are drawn
here, from one source. They are written to learngpt/assets/course/img/ (shipped in the wheel and
copied into every workspace's img/) and to docs/course/img/ under the names the course's own
Markdown uses (`img/Multi-Head Attention.png`, `img/BlockVer1.png`, ...).

Each diagram is a column of boxes read from the bottom (the input) up, as in "Attention Is All
You Need"; an arrow that bypasses boxes is a residual connection, ending in a (+).
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

ASSETS = Path(__file__).parent / "assets" / "course" / "img"
# docs/course/*.md is the course's own text: its image names, beside it.
DOCS_NAMES = {
    "week1.png": "week1.png",
    "self_attention_head.png": "Self-Attention Head.png",
    "multi_head_attention.png": "Multi-Head Attention.png",
    "block_ver1.png": "BlockVer1.png",
    "block_ver2.png": "BlockVer2.png",
    "block_ver3.png": "BlockVer3.png",
    "block_ver4.png": "BlockVer4.png",
}
COLOURS = {
    "attention": "#f9d9a6",
    "ffn": "#bfe3f2",
    "norm": "#f2e6a0",
    "dropout": "#d9d9d9",
    "linear": "#d5e8c4",
    "io": "#ffffff",
    "op": "#f4c7d3",
}
BOX_W, BOX_H, GAP = 2.6, 0.55, 0.45


@dataclass
class Column:
    """Boxes stacked bottom-up at x = 0; `residuals` are (from box, to box) index pairs."""

    boxes: list[tuple[str, str]]  # (label, colour key)
    residuals: list[tuple[int, int]] = field(default_factory=list)
    title: str = ""


def _y(i: int) -> float:
    return i * (BOX_H + GAP)


def _box(ax, x: float, y: float, label: str, kind: str, width: float = BOX_W) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - BOX_H / 2),
            width,
            BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            facecolor=COLOURS[kind],
            edgecolor="#333333",
            linewidth=1.2,
        )  # fmt: skip
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=10)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333333", lw=1.2)
    )


def draw_column(column: Column, path: Path) -> None:
    """A vertical diagram: the boxes, an arrow between each pair, residual paths on the right."""
    n = len(column.boxes)
    fig, ax = plt.subplots(figsize=(3.6, 0.75 * n + 0.9))
    for i, (label, kind) in enumerate(column.boxes):
        if label == "+":
            ax.add_patch(Circle((0, _y(i)), 0.2, facecolor="white", edgecolor="#333333", lw=1.2))
            ax.text(0, _y(i), "+", ha="center", va="center", fontsize=13)
        else:
            _box(ax, 0, _y(i), label, kind)
        if i:
            below = 0.2 if column.boxes[i - 1][0] == "+" else BOX_H / 2
            above = 0.2 if label == "+" else BOX_H / 2
            _arrow(ax, (0, _y(i - 1) + below), (0, _y(i) - above))
    for start, end in column.residuals:
        x = BOX_W / 2 + 0.35
        y0 = (_y(start) + _y(start + 1)) / 2  # leaves from the arrow above box `start`
        ax.plot([0, x, x], [y0, y0, _y(end)], color="#333333", lw=1.2)
        _arrow(ax, (x, _y(end)), (0.2, _y(end)))
    ax.set_xlim(-BOX_W / 2 - 0.4, BOX_W / 2 + 0.8)
    ax.set_ylim(-BOX_H, _y(n - 1) + BOX_H + (0.5 if column.title else 0))
    if column.title:
        ax.text(
            0.2, _y(n - 1) + BOX_H + 0.15, column.title, ha="center", fontsize=12, weight="bold"
        )
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def block(version: int) -> Column:
    """BlockVer1-4 of week 2: each adds one thing to the one before."""
    sub = []
    for name, kind in (("Multi-Head Attention", "attention"), ("Feed Forward", "ffn")):
        if version >= 3:
            sub.append(("LayerNorm", "norm"))
        sub.append((name, kind))
        if version >= 4:
            sub.append(("Dropout", "dropout"))
        if version >= 2:
            sub.append(("+", "op"))
    boxes = [("x (B, T, C)", "io"), *sub, ("out (B, T, C)", "io")]
    residuals = []
    if version >= 2:  # from the input of each branch (the box below it) to its (+)
        plus = [i for i, (label, _) in enumerate(boxes) if label == "+"]
        residuals = [(0, plus[0]), (plus[0], plus[1])]
    return Column(boxes, residuals, f"BlockVer{version}")


def self_attention_head() -> Column:
    boxes = [
        ("x (B, T, C)", "io"),
        ("Linear: Q, K, V", "linear"),
        ("Q K^T  (B, T, T)", "op"),
        ("scale: / sqrt(d_k)", "op"),
        ("mask: future = -inf", "op"),
        ("softmax -> wei", "op"),
        ("wei @ V  (B, T, hs)", "op"),
    ]
    return Column(boxes, title="HeadVer4: one head")


def multi_head_attention(path: Path) -> None:
    """n_heads heads side by side on the same x, concatenated, then the projection."""
    fig, ax = plt.subplots(figsize=(4.4, 4.2))
    heads_y, x_y, cat_y, proj_y, out_y = _y(1), _y(0), _y(2), _y(3), _y(4)
    _box(ax, 0, x_y, "x (B, T, C)", "io")
    for hx in (-1.5, -0.5, 0.5, 1.5):
        _box(ax, hx, heads_y, "head" if hx != 1.5 else "...", "attention", width=0.85)
        _arrow(ax, (0, x_y + BOX_H / 2), (hx, heads_y - BOX_H / 2))
        _arrow(ax, (hx, heads_y + BOX_H / 2), (0, cat_y - BOX_H / 2))
    _box(ax, 0, cat_y, "Concat -> (B, T, C)", "op", width=3.6)
    _box(ax, 0, proj_y, "Linear (proj)", "linear")
    _box(ax, 0, out_y, "out (B, T, C)", "io")
    _arrow(ax, (0, cat_y + BOX_H / 2), (0, proj_y - BOX_H / 2))
    _arrow(ax, (0, proj_y + BOX_H / 2), (0, out_y - BOX_H / 2))
    ax.text(2.05, heads_y, "n_heads x\nHeadVer4\n(hs = C / n_heads)", va="center", fontsize=8)
    ax.text(
        0, out_y + BOX_H + 0.05, "Multi-Head Attention", ha="center", fontsize=12, weight="bold"
    )
    ax.set_xlim(-2.2, 3.0)
    ax.set_ylim(-BOX_H, out_y + BOX_H + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def week1(path: Path) -> None:
    """Week 1's road: from counting bigrams to one head of self-attention with positions."""
    stages = [  # (label, colour, the steps that build it)
        ("input.txt ->\nchar tokenizer", "io", ""),
        ("GPTVer1\nbigram", "linear", "step 1"),
        ("GPTVer2 + HeadVer1-3\naverage of the past", "ffn", "steps 2-4"),
        ("GPTVer2 + HeadVer4\nself-attention", "attention", "step 5"),
        ("GPTVer3\n+ positional encoding", "norm", "step 6"),
    ]
    fig, ax = plt.subplots(figsize=(13, 1.8))
    width, step = 2.5, 2.85
    for i, (label, kind, steps) in enumerate(stages):
        x = i * step
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, -0.45),
                width,
                0.9,
                boxstyle="round,pad=0.02",
                facecolor=COLOURS[kind],
                edgecolor="#333333",
                lw=1.2,
            )  # fmt: skip
        )
        ax.text(x, 0, label, ha="center", va="center", fontsize=9)
        ax.text(x, -0.65, steps, ha="center", va="top", fontsize=8)
        if i:
            _arrow(ax, (x - step + width / 2, 0), (x - width / 2, 0))
    ax.text(2 * step, 0.75, "week 1", ha="center", fontsize=12, weight="bold")
    ax.set_xlim(-width / 2 - 0.1, 4 * step + width / 2 + 0.1)
    ax.set_ylim(-0.95, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def draw_all(folder: Path = ASSETS) -> list[Path]:
    """The seven figures, into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    week1(folder / "week1.png")
    draw_column(self_attention_head(), folder / "self_attention_head.png")
    multi_head_attention(folder / "multi_head_attention.png")
    for version in (1, 2, 3, 4):
        draw_column(block(version), folder / f"block_ver{version}.png")
    return [folder / name for name in DOCS_NAMES]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--docs", type=Path, default=Path("docs/course/img"),
        help="also copy them here, under the course's names (default %(default)s)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for path in draw_all():
        args.docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, args.docs / DOCS_NAMES[path.name])
        print(f"{path} -> {args.docs / DOCS_NAMES[path.name]}")


if __name__ == "__main__":
    main()
