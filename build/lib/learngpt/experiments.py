"""The course's "X helps" claims, checked on several seeds (`learngpt experiment`).

Each experiment trains two models that differ in one thing (HeadVer4 vs MultiHeadVer1, with or
without residual connections, ...) on exactly the same batches: for a given seed both models
start from `torch.manual_seed(seed)` and train() draws its batches from generators seeded with
the same seed. The claim holds on a seed when the variant beats the baseline by a clear margin.
The course's tests (learngpt/assets/course/tests/test_7.py ... test_10.py, in a learner's
workspace) call `run_experiment` with one seed, on models built from the learner's classes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import learngpt.course
from learngpt.config import CourseConfig
from learngpt.errors import UserError
from learngpt.fileio import atomic_write, atomic_write_text
from learngpt.training.loop import History, train_model

# A model builder: (config, vocab_size) -> a fresh, untrained model.
Builder = Callable[[CourseConfig, int], nn.Module]


# ----------------------------------------------------------------------------------------------
# The models the claims compare. Every one is a GPTVer4; only its contextualizer differs.


class CourseModels:
    """Builders of the compared models from one set of course classes.

    `course` is anything with the course's classes as attributes: learngpt.course (the
    reference) or a learner's `mygpt` package, whose tests run the same experiments.
    """

    def __init__(self, course=learngpt.course):
        self.course = course

    def gpt(self, config: CourseConfig, vocab_size: int, contextualizer: nn.Module) -> nn.Module:
        C, T = config.embed_size, config.block_size
        return self.course.GPTVer4(contextualizer, vocab_size, T, C)

    def single_head(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """One HeadVer4 as wide as the embedding (head_size = C)."""
        C = config.embed_size
        return self.gpt(config, vocab_size, self.course.HeadVer4(config.block_size, C, C))

    def multi_head(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """MultiHeadVer1: n_heads heads of size C / n_heads, then a projection."""
        head = self.course.MultiHeadVer1(config.block_size, config.embed_size, config.n_heads)
        return self.gpt(config, vocab_size, head)

    def attention(self, config: CourseConfig) -> nn.Module:
        return self.course.MultiHeadVer2(config.block_size, config.embed_size, config.n_heads)

    def attention_only(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """MultiHeadVer2 alone (no feed-forward)."""
        return self.gpt(config, vocab_size, self.attention(config))

    def attention_then_ffn(self, config: CourseConfig, vocab_size: int) -> nn.Module:
        """One BlockVer1: MultiHeadVer2, then the feed-forward network."""
        block = self.course.BlockVer1(self.attention(config), config.embed_size)
        return self.gpt(config, vocab_size, block)

    def deep_stack(self, block_name: str) -> Builder:
        """A builder of GPTVer4 over config.n_layers blocks of one kind, each with a MultiHeadVer2.

        With BlockVer4 (which also takes config.dropout) that is the course's NanoGPT.
        """

        def build(config: CourseConfig, vocab_size: int) -> nn.Module:
            block = getattr(self.course, block_name)
            extra = (config.dropout,) if block_name == "BlockVer4" else ()
            blocks = nn.Sequential(
                *(
                    block(self.attention(config), config.embed_size, *extra)
                    for _ in range(config.n_layers)
                )
            )
            return self.gpt(config, vocab_size, blocks)

        return build


REFERENCE = CourseModels()
single_head = REFERENCE.single_head
multi_head = REFERENCE.multi_head
attention_only = REFERENCE.attention_only
attention_then_ffn = REFERENCE.attention_then_ffn


# ----------------------------------------------------------------------------------------------
# The experiments.


@dataclass(frozen=True)
class Experiment:
    """Two models, one claim: `variant` does better than `baseline`.

    "Better" is a lower final validation loss by at least `min_margin` (in nats). The dropout
    claim asks for more: with dropout the final train loss is also higher (less memorised).
    """

    name: str
    claim: str
    baseline_name: str
    baseline: Builder
    variant_name: str
    variant: Builder
    min_margin: float
    # The course's own set-up for this claim, on top of configs/course.yaml.
    course_changes: dict = dataclasses.field(default_factory=dict)
    # What the tests use instead (fewer iterations, fewer evaluation batches), on top of that.
    test_changes: dict = dataclasses.field(default_factory=dict)
    # Train on only this fraction of the text (its beginning), to make the model overfit.
    train_fraction: float | None = None
    variant_trains_worse: bool = False  # the dropout claim: higher train loss with the variant
    note: str = ""  # anything a reader of docs/experiments.md should know about the set-up

    def config(self, base: CourseConfig, setup: str = "course") -> CourseConfig:
        """`base` (configs/course.yaml) with this experiment's changes for `setup`."""
        if setup not in SETUPS:
            raise UserError(f"unknown setup '{setup}'; use one of: {', '.join(SETUPS)}")
        changes = dict(self.course_changes)
        if setup == "test":
            changes.update(self.test_changes)
        return base.replace(**changes)


def make_experiments(models: CourseModels = REFERENCE) -> dict[str, Experiment]:
    """The course's claims, comparing models built from `models`' course classes."""
    return {e.name: e for e in _experiments(models)}


def _experiments(models: CourseModels) -> tuple[Experiment, ...]:
    return (
        Experiment(
            name="multi-head",
            claim="multi-head attention helps",
            baseline_name="HeadVer4",
            baseline=models.single_head,
            variant_name="MultiHeadVer1",
            variant=models.multi_head,
            min_margin=0.02,
            test_changes=dict(),  # small models: the tests afford the course's full set-up
        ),
        Experiment(
            name="ffn",
            claim="the feed-forward network helps",
            baseline_name="MultiHeadVer2",
            baseline=models.attention_only,
            variant_name="BlockVer1",
            variant=models.attention_then_ffn,
            min_margin=0.02,
            test_changes=dict(max_iters=2000),
        ),
        Experiment(
            name="residual",
            claim="residual connections help when the network is deep",
            baseline_name="BlockVer1 x n_layers",
            baseline=models.deep_stack("BlockVer1"),
            variant_name="BlockVer2 x n_layers",
            variant=models.deep_stack("BlockVer2"),
            min_margin=0.1,
            test_changes=dict(max_iters=500, eval_interval=100, eval_iters=50),
        ),
        Experiment(
            name="layer-norm",
            claim="LayerNorm helps when the network is deep",
            baseline_name="BlockVer2 x n_layers",
            baseline=models.deep_stack("BlockVer2"),
            variant_name="BlockVer3 x n_layers",
            variant=models.deep_stack("BlockVer3"),
            min_margin=0.1,
            # At the course's learning rate ten blocks of width 16 train as well without LayerNorm
            # (see the note); at the higher rate of the course's step 10 they fail without it.
            test_changes=dict(learning_rate=0.005, max_iters=500, eval_interval=100, eval_iters=50),
            note=(
                "At the course's own set-up (learning rate 0.001, 5000 steps) LayerNorm made no "
                "difference in our runs: `learngpt experiment layer-norm --setup course --seeds 0 "
                "1` gave val margins -0.009 and +0.001 (final val losses about 2.16 for both). "
                "Ten residual blocks of width 16 are not deep enough to hurt at that rate, and "
                "GPTVer4's final LayerNorm already rescales what lm_head reads. The claim shows at "
                "the higher learning rate the course itself uses in step 10 (0.005): without "
                "LayerNorm the deep stack stalls near 3.1-3.3 (the text's character entropy, the "
                "loss of a model that ignores the context, is 3.31), while with it the stack "
                "learns."
            ),
        ),
        Experiment(
            name="dropout",
            claim="dropout mitigates overfitting",
            baseline_name="BlockVer3 x n_layers",
            baseline=models.deep_stack("BlockVer3"),
            variant_name="BlockVer4 x n_layers",
            variant=models.deep_stack("BlockVer4"),  # NanoGPT: BlockVer3 with dropout
            min_margin=0.05,
            course_changes=dict(max_iters=10000, learning_rate=0.005),
            # Overfitting starts within a few hundred steps; by 500 both effects are clear.
            test_changes=dict(max_iters=500, eval_interval=100, eval_iters=50),
            train_fraction=0.001,
            variant_trains_worse=True,
        ),
    )


EXPERIMENTS = make_experiments()
SETUPS = ("course", "test")


@dataclass
class SeedResult:
    seed: int
    baseline: History
    variant: History

    @property
    def val_margin(self) -> float:
        """How much lower the variant's final validation loss is (positive: the claim holds)."""
        return _final(self.baseline, "val") - _final(self.variant, "val")

    @property
    def train_margin(self) -> float:
        """How much lower the variant's final train loss is."""
        return _final(self.baseline, "train") - _final(self.variant, "train")


def _final(history: History, split: str) -> float:
    """The final loss; a model that diverged (nan) counts as infinitely bad."""
    loss = history.final[split]
    return math.inf if math.isnan(loss) else loss


@dataclass
class ExperimentResult:
    experiment: Experiment
    config: CourseConfig
    seeds: list[SeedResult]

    def holds(self, seed_result: SeedResult) -> bool:
        """Whether the claim holds on one seed, with the experiment's margin."""
        e = self.experiment
        ok = seed_result.val_margin >= e.min_margin
        if e.variant_trains_worse:
            ok = ok and -seed_result.train_margin >= e.min_margin
        return ok

    @property
    def holds_on(self) -> int:
        """On how many seeds the claim holds."""
        return sum(self.holds(s) for s in self.seeds)


@contextlib.contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run torch on one CPU thread, then restore the setting.

    The course's models are tiny: splitting a 32 x 8 x 16 matrix product across threads costs
    more in hand-offs than it saves, and on a busy machine extra threads only wait for a core.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    only its seed is replaced. Both models of a seed start from the same torch seed and see the
    same batches, so the difference between them is the one thing the claim is about.
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
            for label, build in (
                (experiment.baseline_name, experiment.baseline),
                (experiment.variant_name, experiment.variant),
            ):
                if progress:
                    progress(f"{experiment.name}: seed {seed}: training {label}")
                torch.manual_seed(seed)
                model = build(seeded, vocab_size).to(device)
                histories.append(train_model(model, train_data, val_data, seeded))
            results.append(SeedResult(seed, *histories))
    return ExperimentResult(experiment, config, results)


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UserError(f"unknown experiment '{name}'; choose one of: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


# ----------------------------------------------------------------------------------------------
# Measurements the course's other claims need: computation, speed, gradients.


def count_flops(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Floating-point operations of the matrix products in one forward pass of `module`."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    return counter.get_total_flops()


def best_time(fn: Callable[[], object], repeats: int = 5, number: int = 20) -> float:
    """Seconds per call of `fn`: the best of `repeats` rounds of `number` calls.

    The best round is the one least disturbed by other work on the machine.
    """
    fn()  # warm up (first-call allocations)
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


def gradient_ratio(
    n_layers: int, width: int, layer_norm: Callable[[int], nn.Module] | None, seed: int = 0
) -> float:
    """|gradient of the first layer| / |gradient of the last layer| in a deep tanh network.

    The network is n_layers x (Linear -> [layer_norm(width)] -> tanh), regressing random targets
    (`layer_norm` is a LayerNorm class, or None for none). With PyTorch's default initialisation
    each Linear shrinks its input (weights of variance 1 / (3 * fan_in)), so without
    normalisation the signal, and on the way back the gradient, shrinks layer after layer: the
    first layers hardly learn (the gradient vanishes). A LayerNorm after each Linear rescales the
    signal to unit variance, and its backward pass scales the gradient up by the same factor.
    """
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for _ in range(n_layers):
        layers.append(nn.Linear(width, width))
        if layer_norm is not None:
            layers.append(layer_norm(width))
        layers.append(nn.Tanh())
    net = nn.Sequential(*layers)
    x, target = torch.randn(64, width), torch.randn(64, width)
    nn.functional.mse_loss(net(x), target).backward()
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return (linears[0].weight.grad.norm() / linears[-1].weight.grad.norm()).item()


# ----------------------------------------------------------------------------------------------
# Reporting: a text table, a markdown section, a plot of the loss curves.


def table_rows(result: ExperimentResult) -> list[list[str]]:
    """Header and rows: per seed the final losses of both models, the margins, and the means."""
    e = result.experiment
    header = [
        "seed",
        f"{e.baseline_name} train",
        f"{e.variant_name} train",
        f"{e.baseline_name} val",
        f"{e.variant_name} val",
        "val margin",
        "holds",
    ]
    rows = [header]
    for s in result.seeds:
        rows.append(
            [
                str(s.seed),
                f"{s.baseline.final['train']:.3f}",
                f"{s.variant.final['train']:.3f}",
                f"{s.baseline.final['val']:.3f}",
                f"{s.variant.final['val']:.3f}",
                f"{s.val_margin:+.3f}",
                "yes" if result.holds(s) else "NO",
            ]
        )

    def mean(values: list[float]) -> str:
        return f"{sum(values) / len(values):.3f}"

    rows.append(
        [
            "mean",
            mean([s.baseline.final["train"] for s in result.seeds]),
            mean([s.variant.final["train"] for s in result.seeds]),
            mean([s.baseline.final["val"] for s in result.seeds]),
            mean([s.variant.final["val"] for s in result.seeds]),
            f"{sum(s.val_margin for s in result.seeds) / len(result.seeds):+.3f}",
            f"{result.holds_on}/{len(result.seeds)}",
        ]
    )
    return rows


def format_table(result: ExperimentResult) -> str:
    rows = table_rows(result)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    e = result.experiment
    need = f"val margin >= {e.min_margin}"
    if e.variant_trains_worse:
        need += f" and train loss higher by >= {e.min_margin}"
    return "\n".join(
        [f"{e.claim}: {e.variant_name} vs {e.baseline_name} (holds when {need})", *lines]
    )


def format_markdown(result: ExperimentResult) -> str:
    rows = table_rows(result)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def plot(result: ExperimentResult, path: Path) -> None:
    """Save the train and validation loss curves of every seed and both models as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    e = result.experiment
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for split, ax in zip(("train", "val"), axes, strict=True):
        for label, colour, pick in (
            (e.baseline_name, "tab:red", lambda s: s.baseline),
            (e.variant_name, "tab:blue", lambda s: s.variant),
        ):
            for i, s in enumerate(result.seeds):
                history = pick(s)
                losses = history.train_loss if split == "train" else history.val_loss
                ax.plot(
                    history.steps, losses, color=colour, alpha=0.7, label=label if i == 0 else None
                )
        # Zoom in on the trained part: the loss at step 0 (about ln V) would squash the rest.
        trained = [
            loss
            for s in result.seeds
            for h in (s.baseline, s.variant)
            for loss in (h.train_loss if split == "train" else h.val_loss)[1:]
            if math.isfinite(loss)
        ]
        if trained:
            ax.set_ylim(min(trained) - 0.05, max(trained) + 0.05)
        ax.set_title(f"{split} loss")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cross-entropy (nats)")
    axes[0].legend()
    seeds = ", ".join(str(s.seed) for s in result.seeds)
    fig.suptitle(f"{e.claim} (seeds {seeds})")
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=80))
    plt.close(fig)


def write_markdown(path: Path, results: list[ExperimentResult], command: str) -> None:
    """The results as a markdown page, plots in img/experiment_NAME.png beside it."""
    img_dir = path.parent / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    parts = [MARKDOWN_INTRO.format(command=command)]
    for result in results:
        e = result.experiment
        png = img_dir / f"experiment_{e.name}.png"
        plot(result, png)
        parts.append(f"## {e.name}: {e.claim}\n")
        parts.append(f"{e.variant_name} vs {e.baseline_name}. This run: {describe_setup(result)}\n")
        parts.append(
            f"The course's set-up: configs/course.yaml with {e.course_changes or 'no changes'}; "
            f"the test changes {e.test_changes or 'nothing'} on top of that.\n"
        )
        if e.note:
            parts.append(e.note + "\n")
        parts.append(format_markdown(result) + "\n")
        parts.append(f"![{e.name} loss curves](img/{png.name})\n")
    atomic_write_text(path, "\n".join(parts))


def describe_setup(result: ExperimentResult) -> str:
    c, e = result.config, result.experiment
    text = (
        f"batch {c.batch_size}, block {c.block_size}, embed {c.embed_size}, "
        f"{c.n_heads} heads, lr {c.learning_rate}, {c.max_iters} iterations, "
        f"loss of {c.eval_iters} batches every {c.eval_interval}"
    )
    if "n_layers" in e.baseline_name:
        text += f", n_layers {c.n_layers}"
    if e.variant_trains_worse:
        text += f", dropout {c.dropout}, trained on the first {e.train_fraction:.1%} of the text"
    return text + "."


MARKDOWN_INTRO = """# Experiments: the course's "X helps" claims on five seeds

Generated by:

```bash
{command}
```

Each experiment trains two models on exactly the same batches (per seed: the same torch seed
before building each model, and train()'s batch generators seeded with the same seed). The
margin is the baseline's final validation loss minus the variant's (positive: the variant is
better).
"""
