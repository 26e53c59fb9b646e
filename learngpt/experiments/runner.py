"""Train both models of an experiment on exactly the same batches, once per seed.

For a given seed both models start from `torch.manual_seed(seed)`, and train_model() draws its
batches from generators seeded with the same seed: the one thing that differs between the two
runs is the thing the claim is about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from learngpt.config import CourseConfig
from learngpt.experiments.claims import Experiment, get_experiment
from learngpt.experiments.results import ExperimentResult, SeedResult
from learngpt.measure import one_cpu_thread
from learngpt.training.loop import train_model


def experiment_data(
    experiment: Experiment, train_data: torch.Tensor, val_data: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (train, val) token tensors the experiment trains on.

    The overfitting set-up keeps only the first `train_fraction` of the whole text for training
    (the course: 0.1 %); validation stays the usual held-out end of the text.
    """
    if experiment.train_fraction is None:
        return train_data, val_data
    n = int(experiment.train_fraction * (len(train_data) + len(val_data)))
    return train_data[:n], val_data


def run_experiment(
    experiment: Experiment | str,
    config: CourseConfig,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    vocab_size: int,
    seeds: Sequence[int] = (0,),
    progress: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Train the baseline and the variant of `experiment` with `config`, once per seed.

    `config` is used as given (get the experiment's set-up with `experiment.config(...)`);
    only its seed is replaced.
    """
    if isinstance(experiment, str):
        experiment = get_experiment(experiment)
    train_data, val_data = experiment_data(experiment, train_data, val_data)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = []
    with one_cpu_thread():
        for seed in seeds:
            seeded = config.replace(seed=seed)
            histories = []
            for model in (experiment.baseline, experiment.variant):
                if progress:
                    progress(f"{experiment.name}: seed {seed}: training {model.label}")
                torch.manual_seed(seed)
                built = model.build(seeded, vocab_size).to(device)
                histories.append(train_model(built, train_data, val_data, seeded))
            results.append(SeedResult(seed, *histories))
    return ExperimentResult(experiment, config, results)
