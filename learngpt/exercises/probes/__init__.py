"""The probes of the named mistakes, one module per part of the course; each registers itself.

A probe runs the learner's class on a small input and says whether the output is exactly what
its mistake computes (a formula of its own, not the learner's code or the reference's). The
registry (`MISTAKES`, `mistake`, `same`) is in registry.py, which the probe modules import;
importing this package imports every probe module, so `MISTAKES` holds them all.
"""

from learngpt.exercises.probes import attention, averages, blocks, generation, positions
from learngpt.exercises.probes.registry import MISTAKES, Mistake, get_mistake, mistake, same

__all__ = [
    "MISTAKES",
    "Mistake",
    "attention",
    "averages",
    "blocks",
    "generation",
    "get_mistake",
    "mistake",
    "positions",
    "same",
]
