"""Matplotlib without a window, and PNGs written atomically."""

from __future__ import annotations

from pathlib import Path

from learngpt.fileio import atomic_write


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, works without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path, dpi: int = 90) -> None:
    """Write `fig` to `path` as a PNG (all or nothing), then free it."""
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
    pyplot().close(fig)
