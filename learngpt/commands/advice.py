"""The advice a damaged checkpoint's error ends with, as fits the command that met it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from learngpt.checkpoint import CorruptCheckpoint


@contextlib.contextmanager
def checkpoint_advice(advice: str | None) -> Iterator[None]:
    """Within the block, a CorruptCheckpoint ends with `advice` (None: the plain "retrain")."""
    try:
        yield
    except CorruptCheckpoint as exc:
        if advice is None:
            raise
        raise exc.advised(advice) from None


def other_checkpoint(which: str) -> str:
    """For sample and eval: the run's other checkpoint may be intact."""
    other = "latest" if which == "best" else "best"
    return f"try the other checkpoint (--checkpoint {other}) or retrain"


RESUME = (
    "--resume continues from the latest checkpoint, so it cannot; start afresh with --overwrite "
    "(or train into another --out)"
)
