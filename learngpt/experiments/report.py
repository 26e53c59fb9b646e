"""Results for people: a text table for the terminal, a markdown page with plots for docs/."""

from __future__ import annotations

import math
from pathlib import Path

from learngpt.experiments.results import ExperimentResult
from learngpt.fileio import atomic_write_text
from learngpt.plots import pyplot, save_png
from learngpt.tables import markdown_table, text_table


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def table_rows(result: ExperimentResult) -> list[list[str]]:
    """Header and rows: per seed the final losses of both models, the margins, and the means."""
    e = result.experiment
    header = [
        "seed",
        f"{e.baseline.label} train",
        f"{e.variant.label} train",
        f"{e.baseline.label} val",
        f"{e.variant.label} val",
        "val margin",
        "holds",
    ]
    seeds = result.seeds
    losses = {  # column -> one final loss per seed
        (model, split): [getattr(s, model).final[split] for s in seeds]
        for split in ("train", "val")
        for model in ("baseline", "variant")
    }
    rows = [header]
    for i, s in enumerate(seeds):
        cells = [f"{column[i]:.3f}" for column in losses.values()]
        rows.append(
            [str(s.seed), *cells, f"{s.val_margin:+.3f}", "yes" if result.holds(s) else "NO"]
        )
    means = [f"{mean(column):.3f}" for column in losses.values()]
    margin = mean([s.val_margin for s in seeds])
    rows.append(["mean", *means, f"{margin:+.3f}", f"{result.holds_on}/{len(seeds)}"])
    return rows


def format_table(result: ExperimentResult) -> str:
    e = result.experiment
    need = f"val margin >= {e.min_margin}"
    if e.variant_trains_worse:
        need += f" and train loss higher by >= {e.min_margin}"
    title = f"{e.claim}: {e.variant.label} vs {e.baseline.label} (holds when {need})"
    return title + "\n" + text_table(table_rows(result))


def format_markdown(result: ExperimentResult) -> str:
    return markdown_table(table_rows(result))


def plot(result: ExperimentResult, path: Path) -> None:
    """Save the train and validation loss curves of every seed and both models as a PNG."""
    plt = pyplot()
    e = result.experiment
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for split, ax in zip(("train", "val"), axes, strict=True):
        curves = {"baseline": [], "variant": []}  # model -> (steps, losses) per seed
        for s in result.seeds:
            for model in curves:
                history = getattr(s, model)
                losses = history.train_loss if split == "train" else history.val_loss
                curves[model].append((history.steps, losses))
        for model, colour in (("baseline", "tab:red"), ("variant", "tab:blue")):
            label = getattr(e, model).label
            for i, (steps, losses) in enumerate(curves[model]):
                ax.plot(steps, losses, color=colour, alpha=0.7, label=label if i == 0 else None)
        # Zoom in on the trained part: the loss at step 0 (about ln V) would squash the rest.
        trained = [
            loss
            for runs in curves.values()
            for _, losses in runs
            for loss in losses[1:]
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
    save_png(fig, path, dpi=80)


def write_markdown(path: Path, results: list[ExperimentResult], command: str) -> None:
    """The results as a markdown page, plots in img/experiment_NAME.png beside it."""
    path = Path(path)
    img_dir = path.parent / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    parts = [MARKDOWN_INTRO.format(command=command)]
    for result in results:
        e = result.experiment
        png = img_dir / f"experiment_{e.name}.png"
        plot(result, png)
        parts.append(f"## {e.name}: {e.claim}\n")
        parts.append(
            f"{e.variant.label} vs {e.baseline.label}. This run: {describe_setup(result)}\n"
        )
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
    if "n_layers" in e.baseline.label:
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
better). The numbers, with every loss curve, are in the JSON file the command's --json wrote.
"""
