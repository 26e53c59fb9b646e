"""Matplotlib without a window, and atomic PNG writes."""

from __future__ import annotations

from pathlib import Path

from learngpt.fileio import atomic_write


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, works without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=90))
    pyplot().close(fig)
