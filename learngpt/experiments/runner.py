"""Train both models of an experiment on exactly the same batches, once per seed.

For a given seed both models start from `torch.manual_seed(seed)`, and train_model() draws its
batches from generators seeded with the same seed: the one thing that differs between the two
runs is the thing the claim is about.

`fast` (the course's tests) changes nothing but the time, for callers that read only the final
losses: the two models of a seed train at once, the baseline in a forked child process, the
variant here, each on one thread (on a 2-core machine a claim takes half the time); and only
the final loss estimate is computed (the earlier ones only draw their batches from the
estimates' generator). Every process seeds torch itself before it builds its model and draws
its batches from its own generators, so the final losses are exactly those of the plain runs
(tests/test_experiments.py compares them); the histories hold only the final estimate.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import warnings
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

import torch

from learngpt.config import CourseConfig
from learngpt.experiments.claims import Experiment, Model, get_experiment
from learngpt.experiments.results import ExperimentResult, SeedResult
from learngpt.measure import one_cpu_thread
from learngpt.training.loop import train_model
from learngpt.training.state import History


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


def train_one(
    model: Model,
    config: CourseConfig,
    splits: tuple[torch.Tensor, torch.Tensor],
    vocab_size: int,
    device: str = "cpu",
    final_only: bool = False,
) -> History:
    """Build `model` from torch seeded with config.seed, train it, return its history."""
    torch.manual_seed(config.seed)
    built = model.build(config, vocab_size).to(device)
    return train_model(built, *splits, config, final_only=final_only)


def _train_in_child(send: Connection, model: Model, config, splits, vocab_size: int) -> None:
    try:
        torch.set_num_threads(1)
        history = train_one(model, config, splits, vocab_size, final_only=True)
        send.send(("ok", dataclasses.asdict(history)))
    except BaseException as exc:  # said in the parent, which trains that model again itself
        send.send(("failed", repr(exc)))
    finally:
        send.close()


def can_train_concurrently(device: str) -> bool:
    """On the CPU, where processes can fork (Linux): CUDA does not survive a fork."""
    return device == "cpu" and "fork" in multiprocessing.get_all_start_methods()


def train_pair(
    experiment: Experiment, config: CourseConfig, splits, vocab_size: int
) -> tuple[History, History]:
    """(baseline, variant) of one seed on the CPU, final estimates only: the baseline in a
    forked child while this process trains the variant. If the child fails (say, the learner's
    class raises), the baseline trains here afterwards: its error surfaces here, with its own
    traceback."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    args = (send, experiment.baseline, config, splits, vocab_size)
    child = context.Process(target=_train_in_child, args=args, daemon=True)
    with warnings.catch_warnings():  # Python 3.12+ warns of forking with threads alive: here
        # only the time limit's faulthandler watchdog, whose lock the child never takes
        warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
        child.start()
    send.close()
    try:
        variant = train_one(experiment.variant, config, splits, vocab_size, final_only=True)
        try:
            status, payload = receive.recv()
        except EOFError:  # the child died without a word
            status, payload = "failed", None
    finally:  # a time limit or an error here: the child must not outlive the claim
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if status == "ok":
        return History(**payload), variant
    return train_one(experiment.baseline, config, splits, vocab_size, final_only=True), variant


def run_experiment(
    experiment: Experiment | str,
    config: CourseConfig,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    vocab_size: int,
    seeds: Sequence[int] = (0,),
    progress: Callable[[str], None] | None = None,
    fast: bool = False,
) -> ExperimentResult:
    """Train the baseline and the variant of `experiment` with `config`, once per seed.

    `config` is used as given (get the experiment's set-up with `experiment.config(...)`);
    only its seed is replaced. `fast`: the same final losses in less time, the histories
    holding only them (see the module's docstring).
    """
    if isinstance(experiment, str):
        experiment = get_experiment(experiment)
    splits = experiment_data(experiment, train_data, val_data)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    concurrent = fast and can_train_concurrently(device)
    results = []
    with one_cpu_thread():
        for seed in seeds:
            seeded = config.replace(seed=seed)
            if concurrent:
                results.append(
                    SeedResult(seed, *train_pair(experiment, seeded, splits, vocab_size))
                )
                continue
            histories = []
            for model in (experiment.baseline, experiment.variant):
                if progress:
                    progress(f"{experiment.name}: seed {seed}: training {model.label}")
                histories.append(train_one(model, seeded, splits, vocab_size, device, fast))
            results.append(SeedResult(seed, *histories))
    return ExperimentResult(experiment, config, results)
