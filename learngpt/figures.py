"""The course's seven figures, drawn with matplotlib in each of the course's languages.

The course's text shows a week-1 overview, a self-attention head, multi-head attention and the
four blocks of week 2 (BlockVer1-4); its image files were never part of it, so they are drawn
here, from one source, with the labels of the language's catalog (assets/course/<lang>/
figures.yaml). `tools/draw_figures.py` draws them at development time into
learngpt/assets/course/<lang>/img/ (shipped in the wheel; `course start` copies the workspace's
language's into its img/), and the English ones also into docs/course/img/ under the names the
course's own Markdown uses (`img/Multi-Head Attention.png`, `img/BlockVer1.png`, ...). So no
workspace depends on the fonts of the learner's machine.

Korean labels need a font with Hangul: NanumGothic from the koreanize-matplotlib wheel
(`pip install 'learngpt[figures]'`) or Debian's fonts-noto-cjk. Each PNG records the language and
the font it was drawn with in its "Description" text chunk (`drawn_with` reads it back), so a test
can tell a Korean figure drawn without Hangul glyphs without having the font itself.

Each diagram is a column of boxes read from the bottom (the input) up, as in "Attention Is All
You Need"; an arrow that bypasses boxes is a residual connection, ending in a (+). Week 1's road
reads from the top down, one stage per row, so that it stays narrow enough to be shown at nearly
its own size.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

from learngpt.exercises.catalog import LANGS, catalog, text  # noqa: E402
from learngpt.resources import asset  # noqa: E402

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
DPI = 110
LATIN_FONT = "DejaVu Sans"  # matplotlib's own: the English figures need nothing installed
# Fonts with Hangul, in the order they are looked for (a pip wheel first, then Debian's).
HANGUL_FONTS = [
    ("koreanize_matplotlib", "fonts/NanumGothic.ttf"),
    (None, "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
]


class FontMissing(RuntimeError):
    """No font here draws every character of a language's labels."""


def img_folder(lang: str) -> Path:
    """Where the shipped figures of `lang` live: learngpt/assets/course/<lang>/img/."""
    return asset("course", lang, "img")


@dataclass
class Column:
    """Boxes stacked bottom-up at x = 0; `residuals` are (from box, to box) index pairs."""

    boxes: list[tuple[str, str]]  # (label, colour key)
    residuals: list[tuple[int, int]] = field(default_factory=list)
    title: str = ""


def _y(i: int) -> float:
    return i * (BOX_H + GAP)


def _box(ax, x: float, y: float, caption: str, kind: str, width=BOX_W, height=BOX_H) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            facecolor=COLOURS[kind],
            edgecolor="#333333",
            linewidth=1.2,
        )  # fmt: skip
    )
    ax.text(x, y, caption, ha="center", va="center", fontsize=10)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333333", lw=1.2)
    )


def _save(fig, ax, path: Path, description: str) -> None:
    ax.set_aspect("equal")
    ax.axis("off")
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Description": description})
    plt.close(fig)


def draw_column(column: Column, path: Path, description: str) -> None:
    """A vertical diagram: the boxes, an arrow between each pair, residual paths on the right."""
    n = len(column.boxes)
    fig, ax = plt.subplots(figsize=(3.6, 0.75 * n + 0.9))
    for i, (text_, kind) in enumerate(column.boxes):
        if text_ == "+":
            ax.add_patch(Circle((0, _y(i)), 0.2, facecolor="white", edgecolor="#333333", lw=1.2))
            ax.text(0, _y(i), "+", ha="center", va="center", fontsize=13)
        else:
            _box(ax, 0, _y(i), text_, kind)
        if i:
            below = 0.2 if column.boxes[i - 1][0] == "+" else BOX_H / 2
            above = 0.2 if text_ == "+" else BOX_H / 2
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
    _save(fig, ax, path, description)


def block(version: int, lang: str) -> Column:
    """BlockVer1-4 of week 2: each adds one thing to the one before."""
    sub = []
    for name, kind in (("figures.multi_head", "attention"), ("figures.feed_forward", "ffn")):
        if version >= 3:
            sub.append((text("figures.layer_norm", lang), "norm"))
        sub.append((text(name, lang), kind))
        if version >= 4:
            sub.append((text("figures.dropout", lang), "dropout"))
        if version >= 2:
            sub.append(("+", "op"))
    boxes = [(text("figures.input", lang), "io"), *sub, (text("figures.output", lang), "io")]
    residuals = []
    if version >= 2:  # from the input of each branch (the box below it) to its (+)
        plus = [i for i, (text_, _) in enumerate(boxes) if text_ == "+"]
        residuals = [(0, plus[0]), (plus[0], plus[1])]
    return Column(boxes, residuals, f"BlockVer{version}")


def self_attention_head(lang: str) -> Column:
    keys = [("figures.input", "io"), ("figures.head.qkv", "linear")]
    keys += [("figures.head.scores", "op"), ("figures.head.scale", "op")]
    keys += [("figures.head.mask", "op"), ("figures.head.softmax", "op")]
    keys += [("figures.head.weighted", "op")]
    title = text("figures.head.title", lang)
    return Column([(text(key, lang), kind) for key, kind in keys], title=title)


def multi_head_attention(path: Path, lang: str, description: str) -> None:
    """n_heads heads side by side on the same x, concatenated, then the projection."""
    fig, ax = plt.subplots(figsize=(4.4, 4.2))
    heads_y, x_y, cat_y, proj_y, out_y = _y(1), _y(0), _y(2), _y(3), _y(4)
    _box(ax, 0, x_y, text("figures.input", lang), "io")
    for hx in (-1.5, -0.5, 0.5, 1.5):
        head = text("figures.multi.head", lang) if hx != 1.5 else "..."
        _box(ax, hx, heads_y, head, "attention", width=0.85)
        _arrow(ax, (0, x_y + BOX_H / 2), (hx, heads_y - BOX_H / 2))
        _arrow(ax, (hx, heads_y + BOX_H / 2), (0, cat_y - BOX_H / 2))
    _box(ax, 0, cat_y, text("figures.multi.concat", lang), "op", width=3.6)
    _box(ax, 0, proj_y, text("figures.multi.proj", lang), "linear")
    _box(ax, 0, out_y, text("figures.output", lang), "io")
    _arrow(ax, (0, cat_y + BOX_H / 2), (0, proj_y - BOX_H / 2))
    _arrow(ax, (0, proj_y + BOX_H / 2), (0, out_y - BOX_H / 2))
    ax.text(2.05, heads_y, text("figures.multi.note", lang), va="center", fontsize=8)
    title = text("figures.multi_head", lang)
    ax.text(0, out_y + BOX_H + 0.05, title, ha="center", fontsize=12, weight="bold")
    ax.set_xlim(-2.2, 3.0)
    ax.set_ylim(-BOX_H, out_y + BOX_H + 0.5)
    _save(fig, ax, path, description)


WEEK1_STAGES = [  # (catalog key, colour, the steps that build it)
    ("figures.week1.input", "io", ()),
    ("figures.week1.bigram", "linear", (1,)),
    ("figures.week1.average", "ffn", (2, 4)),
    ("figures.week1.attention", "attention", (5,)),
    ("figures.week1.positions", "norm", (6,)),
]


def week1(path: Path, lang: str, description: str) -> None:
    """Week 1's road, one stage per row, top down: from counting bigrams to one head of
    self-attention with positions; the steps that build each stage on its right."""
    width, height, step = 3.3, 0.9, 1.3
    fig, ax = plt.subplots(figsize=(4.6, 0.95 * len(WEEK1_STAGES) + 0.6))
    for i, (key, kind, steps) in enumerate(WEEK1_STAGES):
        y = -i * step
        _box(ax, 0, y, text(key, lang), kind, width=width, height=height)
        if steps:
            which = text("figures.week1.step", lang, n=steps[0])
            if len(steps) == 2:
                which = text("figures.week1.steps", lang, first=steps[0], last=steps[1])
            ax.text(width / 2 + 0.15, y, which, ha="left", va="center", fontsize=9)
        if i:
            _arrow(ax, (0, y + step - height / 2), (0, y + height / 2))
    top = height / 2 + 0.15
    title = text("figures.week1.title", lang)
    ax.text(0, top, title, ha="center", va="bottom", fontsize=12, weight="bold")
    ax.set_xlim(-width / 2 - 0.1, width / 2 + 1.3)
    ax.set_ylim(-(len(WEEK1_STAGES) - 1) * step - height / 2 - 0.1, top + 0.5)
    _save(fig, ax, path, description)


def hangul_font() -> Path | None:
    """A font file with Hangul from a package installed here, or None."""
    for package, relative in HANGUL_FONTS:
        if package is None:
            candidate = Path(relative)
        else:
            spec = importlib.util.find_spec(package)  # found, not imported: it sets rcParams
            if spec is None or not spec.submodule_search_locations:
                continue
            candidate = Path(spec.submodule_search_locations[0]) / relative
        if candidate.is_file():
            return candidate
    return None


def labels_of(lang: str) -> str:
    """Every character the figures of `lang` write."""
    values = [v for k, v in catalog(lang).items() if k.startswith("figures.")]
    return "".join(v if isinstance(v, str) else "".join(v) for v in values) + "+.0123456789"


def font_for(lang: str) -> str:
    """The family to draw `lang` in, registered with matplotlib; FontMissing if none has a
    glyph for every character of its labels (a figure of empty boxes is worse than none)."""
    if lang == "en":
        return LATIN_FONT
    path = hangul_font()
    if path is not None:
        font = FT2Font(str(path))
        missing = sorted({c for c in labels_of(lang) if not c.isspace()} - _covered(font, lang))
        if not missing:
            for face in path.parent.glob(f"{path.stem}*{path.suffix}"):  # the bold for titles
                font_manager.fontManager.addfont(str(face))
            return font_manager.FontProperties(fname=str(path)).get_name()
        raise FontMissing(f"{path} has no glyph for {''.join(missing)!r}")
    raise FontMissing(
        f"the {lang} figures need a Hangul font: pip install 'learngpt[figures]' "
        "(koreanize-matplotlib, NanumGothic) or apt-get install fonts-noto-cjk"
    )


def _covered(font: FT2Font, lang: str) -> set[str]:
    return {c for c in labels_of(lang) if font.get_char_index(ord(c))}


def draw_all(folder: Path, lang: str = "en") -> list[Path]:
    """The seven figures of `lang`, into `folder`; returns their paths."""
    if lang not in LANGS:
        raise ValueError(f"no figures for language {lang!r}; there are: {', '.join(LANGS)}")
    family = font_for(lang)
    description = f"learngpt course figure; lang={lang}; font={family}"
    folder.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"font.family": family}):
        week1(folder / "week1.png", lang, description)
        draw_column(self_attention_head(lang), folder / "self_attention_head.png", description)
        multi_head_attention(folder / "multi_head_attention.png", lang, description)
        for version in (1, 2, 3, 4):
            draw_column(block(version, lang), folder / f"block_ver{version}.png", description)
    return [folder / name for name in DOCS_NAMES]


def drawn_with(path: Path) -> dict[str, str]:
    """{'lang': ..., 'font': ...} as the figure at `path` recorded them (empty if it did not)."""
    with Image.open(path) as image:
        description = image.text.get("Description", "")
    pairs = (part.strip().partition("=") for part in description.split(";"))
    return {key: value for key, sep, value in pairs if sep}
