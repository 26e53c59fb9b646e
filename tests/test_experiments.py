"""`learngpt experiment`: fair comparisons, the claim logic, and the command line."""

import math

import pytest
import torch

from learngpt.commands import main
from learngpt.errors import UserError
from learngpt.experiments import (
    EXPERIMENTS,
    Experiment,
    ExperimentResult,
    Model,
    ResultsFile,
    SeedResult,
    attention_only,
    experiment_data,
    format_markdown,
    format_table,
    run_experiment,
)
from learngpt.training.loop import History

TINY_CONFIG = """\
batch_size: 4
block_size: 8
max_iters: 4
eval_iters: 2
eval_interval: 2
learning_rate: 0.001
embed_size: 16
n_layers: 2
n_heads: 4
dropout: 0.1
train_ratio: 0.9
"""


@pytest.fixture
def tiny_files(tmp_path, shakespeare):
    """A small text file and a config small enough to run every experiment in seconds."""
    data = tmp_path / "tiny.txt"
    data.write_text(shakespeare[:20_000], encoding="utf-8")
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG, encoding="utf-8")
    return data, config


def tiny(course_config):
    return course_config.replace(
        batch_size=4, max_iters=6, eval_iters=2, eval_interval=3, n_layers=2, n_heads=4
    )


def test_both_models_of_a_seed_see_the_same_batches(course_config, char_splits, char_tokenizer):
    # Two copies of the same model: if they saw different data or started differently, their
    # losses would differ. Only then does a difference between two models mean something.
    same = Experiment(
        "same", "claim", Model("a", attention_only), Model("b", attention_only), min_margin=0.0
    )
    result = run_experiment(same, tiny(course_config), *char_splits, char_tokenizer.vocab_size)
    (seed,) = result.seeds
    assert seed.baseline == seed.variant
    assert seed.val_margin == 0.0


def test_same_seed_same_result_and_other_seeds_differ(course_config, char_splits, char_tokenizer):
    config = tiny(course_config)
    vocab_size = char_tokenizer.vocab_size
    first = run_experiment("ffn", config, *char_splits, vocab_size, seeds=[0, 1]).seeds
    again = run_experiment("ffn", config, *char_splits, vocab_size, seeds=[0]).seeds
    assert first[0] == again[0]
    assert first[1].baseline != first[0].baseline


@pytest.mark.parametrize("name", ["multi-head", "dropout"])  # dropout: the global generator
def test_fast_gives_the_final_losses_of_the_plain_runs(
    name, course_config, char_splits, char_tokenizer
):
    """The course's tests train a claim's two models at once (one in a forked child) and
    estimate only their final losses: that must change nothing but the time."""
    config = tiny(course_config).replace(max_iters=20, eval_interval=10, eval_iters=4)
    vocab_size = char_tokenizer.vocab_size
    (plain,) = run_experiment(name, config, *char_splits, vocab_size).seeds
    (fast,) = run_experiment(name, config, *char_splits, vocab_size, fast=True).seeds
    assert plain.baseline.steps == [0, 10, 20] and fast.baseline.steps == [20]
    assert fast.baseline.final == plain.baseline.final
    assert fast.variant.final == plain.variant.final
    assert fast.baseline.final != fast.variant.final  # two different models


def test_a_model_that_fails_in_the_child_fails_here_with_its_own_error(
    course_config, char_splits, char_tokenizer
):
    def broken(config, vocab_size):
        raise ValueError("the learner's baseline is broken")

    experiment = Experiment("broken", "claim", Model("a", broken), Model("b", attention_only))
    with pytest.raises(ValueError, match="the learner's baseline is broken"):
        run_experiment(
            experiment, tiny(course_config), *char_splits, char_tokenizer.vocab_size, fast=True,
        )  # fmt: skip


def test_the_overfitting_set_up_stays_inside_the_dropout_experiment(course_config, char_splits):
    train_data, val_data = char_splits
    dropout = EXPERIMENTS["dropout"]
    assert dropout.config(course_config).learning_rate == 0.005
    assert dropout.config(course_config).max_iters == 10000
    assert course_config.learning_rate == 0.001  # the fixture's config is untouched
    tiny_train, same_val = experiment_data(dropout, train_data, val_data)
    assert len(tiny_train) == int(0.001 * (len(train_data) + len(val_data)))
    assert torch.equal(tiny_train, train_data[: len(tiny_train)]) and same_val is val_data
    for name in ("multi-head", "ffn", "residual", "layer-norm"):
        experiment = EXPERIMENTS[name]
        assert experiment.config(course_config).learning_rate == 0.001
        assert experiment_data(experiment, train_data, val_data)[0] is train_data


def history(train: float, val: float) -> History:
    h = History()
    h.add(0, {"train": train, "val": val})
    return h


@pytest.mark.parametrize(
    ("name", "baseline", "variant", "holds"),
    [
        ("ffn", (2.5, 2.5), (2.4, 2.4), True),
        ("ffn", (2.5, 2.5), (2.49, 2.49), False),  # below the margin
        ("ffn", (2.4, 2.4), (2.5, 2.5), False),
        ("ffn", (math.nan, math.nan), (2.5, 2.5), True),  # a diverged baseline loses
        ("ffn", (2.5, 2.5), (math.nan, math.nan), False),
        ("dropout", (0.5, 5.0), (0.7, 4.5), True),  # higher train loss, lower val loss
        ("dropout", (0.5, 5.0), (0.4, 4.5), False),  # lower val loss alone is not the claim
        ("dropout", (0.5, 5.0), (0.7, 5.5), False),
    ],
)
def test_when_a_claim_holds(name, baseline, variant, holds, course_config):
    result = ExperimentResult(
        EXPERIMENTS[name], course_config, [SeedResult(0, history(*baseline), history(*variant))]
    )
    assert result.holds(result.seeds[0]) is holds
    assert result.holds_on == int(holds)


def test_command_prints_the_table_and_saves_a_plot(tiny_files, tmp_path, capsys):
    data, config = tiny_files
    png = tmp_path / "ffn.png"
    argv = ["experiment", "ffn", "--seeds", "0", "1", "--max-iters", "3"]
    assert main([*argv, "--data", str(data), "--config", str(config), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    assert [row[0] for row in rows if row and row[0] in ("0", "1", "mean")] == ["0", "1", "mean"]
    assert "MultiHeadVer2" in out and "BlockVer1" in out
    assert png.read_bytes().startswith(b"\x89PNG")


def test_command_writes_the_results_and_the_markdown_page(tiny_files, tmp_path, capsys):
    data, config = tiny_files
    page, results = tmp_path / "doc" / "experiments.md", tmp_path / "doc" / "experiments.json"
    page.parent.mkdir()
    argv = ["experiment", "all", "--seeds", "3", "--setup", "test", "--max-iters", "2"]
    argv += ["--data", str(data), "--config", str(config)]
    assert main([*argv, "--json", str(results), "--markdown", str(page)]) == 0
    printed = capsys.readouterr().out
    saved = ResultsFile.read(results)
    assert saved.command.startswith("learngpt experiment all --setup test --seeds 3 --max-iters 2")
    assert [r.experiment.name for r in saved.results] == list(EXPERIMENTS)
    text = page.read_text(encoding="utf-8")
    assert saved.command in text
    for result in saved.results:
        # the file holds what was printed, and the page is drawn from the same numbers
        assert format_table(result) in printed
        assert format_markdown(result) in text
        assert len(result.seeds[0].baseline.steps) >= 2  # the whole loss curve, not just the end
        name = result.experiment.name
        assert f"(img/experiment_{name}.png)" in text
        assert (page.parent / "img" / f"experiment_{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_results_file_round_trip(course_config):
    seeds = [SeedResult(0, history(2.5, float("nan")), history(2.4, 2.3))]
    result = ExperimentResult(EXPERIMENTS["ffn"], course_config.replace(max_iters=7), seeds)
    again = ResultsFile.from_json(ResultsFile("cmd", [result]).to_json())
    assert again.command == "cmd"
    (loaded,) = again.results
    assert loaded.experiment is EXPERIMENTS["ffn"] and loaded.config == result.config
    assert loaded.seeds[0].variant == seeds[0].variant
    assert math.isnan(loaded.seeds[0].baseline.final["val"])  # a diverged run stays diverged


def test_reading_a_missing_or_foreign_results_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ResultsFile.read(tmp_path / "none.json")
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(UserError, match="not a results file"):
        ResultsFile.read(other)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-claim"], "invalid choice"),
        (["all", "--plot", "x.png"], "--plot takes one experiment"),
        (["ffn", "--max-iters", "0"], "--max-iters must be a positive integer"),
        (["ffn", "--data", "/no/such/file.txt"], "does not exist"),
        (["ffn", "--json", "/no/such/folder/r.json"], "folder /no/such/folder does not exist"),
    ],
)
def test_command_user_errors(args, message, capsys):
    assert main(["experiment", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1
