"""The learning rate at each step: linear warmup, then a decay whose shape is data.

The budget is max_iters steps, or, with a time budget (max_time > 0), max_time seconds,
whichever is further spent; the decay follows that fraction. A shape maps it to
the rate between the peak (learning_rate) and the floor (min_lr_ratio * learning_rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def cosine(peak: float, floor: float, progress: float, config: Any) -> float:
    """Half a cosine from the peak to the floor over the whole budget."""
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def wsd(peak: float, floor: float, progress: float, config: Any) -> float:
    """Warmup-stable-decay (the speed-runs'): the peak, then linear to the floor over the last
    decay_ratio of the budget."""
    decay = min(1.0, max(0.0, (progress - 1 + config.decay_ratio) / config.decay_ratio))
    return peak - (peak - floor) * decay


# The shapes by config.lr_schedule's name (TrainConfig.validate checks against these).
SHAPES: dict[str, Callable[[float, float, float, Any], float]] = {
    "cosine": cosine,
    "wsd": wsd,
}


def lr_schedule(config: Any) -> Callable[[int, float], float]:
    """lr_at(step, elapsed_s): the learning rate of the next step, by config.lr_schedule."""
    peak, floor = config.learning_rate, config.learning_rate * config.min_lr_ratio
    shape = SHAPES[config.lr_schedule]

    def lr_at(step: int, elapsed: float) -> float:
        progress = step / config.max_iters
        if config.max_time > 0:
            progress = max(progress, elapsed / config.max_time)
        warmup = min(1.0, (step + 1) / (config.warmup_iters + 1))
        return shape(peak, floor, progress, config) * warmup

    return lr_at
