"""The answers to the course's questions (docs/answers.md, docs/answers_kor.md) match the code.

Every cheap table the answers quote is recomputed here through the same functions that
`learngpt answers` prints it with, and compared with the table in both documents: when the code
changes, the answers must be regenerated, or these tests fail. The timings are not compared (they
depend on the machine); the training experiments are compared with docs/experiments.json, the
results file of the run that docs/experiments.md reports.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from learngpt.commands import main
from learngpt.evidence.cost import (
    COURSE_SIZE,
    KINDS,
    SIZES,
    analytic_flops,
    build,
    cost_rows,
    matmul_flops,
)
from learngpt.evidence.dropout import block_outputs, dropout_rows, dropout_stats
from learngpt.evidence.experiments import QUESTIONS, claim_rows
from learngpt.evidence.layer_norm import (
    STACKS,
    gradient_profile,
    gradient_rows,
    layer_norm_rows,
    normalisation_stats,
)
from learngpt.evidence.speed import build_pair, profile_forward, profile_rows
from learngpt.experiments import ResultsFile, format_markdown
from learngpt.measure import count_parameters

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "answers.md", ROOT / "docs" / "answers_kor.md"]
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


def doc_table(doc: Path, header: list[str]) -> list[list[str]]:
    """The rows (header included) of the markdown table in `doc` that starts with `header`."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    header_line = "| " + " | ".join(header) + " |"
    assert header_line in lines, f"{doc.name} has no table with the header {header_line}"
    start = lines.index(header_line)
    rows = []
    for line in lines[start + 2 :]:  # skip the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [header, *rows]


def same_cell(expected: str, written: str, rel: float) -> bool:
    """Equal text around the numbers, and numbers equal within `rel` (exact when rel is 0)."""
    if NUMBER.sub("#", expected) != NUMBER.sub("#", written):
        return False
    pairs = zip(NUMBER.findall(expected), NUMBER.findall(written), strict=True)
    return all(
        math.isclose(float(a.replace(",", "")), float(b.replace(",", "")), rel_tol=rel)
        for a, b in pairs
    )


def assert_table_in_docs(rows: list[list[str]], rel: float = 0.0) -> None:
    for doc in DOCS:
        written = doc_table(doc, rows[0])
        assert len(written) == len(rows), f"{doc.name}: table '{rows[0][0]}' has other rows"
        for expected_row, written_row in zip(rows, written, strict=True):
            assert len(expected_row) == len(written_row), (doc.name, written_row)
            for expected, cell in zip(expected_row, written_row, strict=True):
                assert same_cell(expected, cell, rel), (
                    f"{doc.name}: '{cell}' should be '{expected}'"
                )


# ----------------------------------------------------------------------------------------------
# 7a: cost


@pytest.mark.parametrize("size", SIZES, ids=lambda s: s.name)
def test_flop_counter_agrees_with_the_formula(size):
    for kind in KINDS:
        assert sum(matmul_flops(kind, size).values()) == sum(analytic_flops(kind, size).values())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: s.name)
def test_multi_head_ver_1_costs_head_ver_4_plus_the_projection(size):
    C = size.embed
    single, multi = build("HeadVer4", size), build("MultiHeadVer1", size)
    assert count_parameters(multi) - count_parameters(single) == C * C + C  # proj's W and b
    extra = sum(matmul_flops("MultiHeadVer1", size).values()) - sum(
        matmul_flops("HeadVer4", size).values()
    )
    assert extra == 2 * size.batch * size.block * C * C  # one (B*T, C) @ (C, C)


def test_cost_table_in_the_answers():
    assert_table_in_docs(cost_rows())


# ----------------------------------------------------------------------------------------------
# 7c: what the profiler records (deterministic: operator calls and matmul shapes; no timings)


def test_multi_head_ver_2_runs_fewer_and_larger_matmuls():
    v1, v2, x = build_pair(COURSE_SIZE)
    p1, p2 = profile_forward(v1, x), profile_forward(v2, x)
    H = COURSE_SIZE.heads
    assert sum(count for _, _, count in p1.matmuls) == 3 * H + 2 * H + 1  # q, k, v; 2 bmm; proj
    assert sum(count for _, _, count in p2.matmuls) == 3 + 2 + 1
    assert p1.operators > 4 * p2.operators


def test_profile_table_in_the_answers():
    assert_table_in_docs(profile_rows())


# ----------------------------------------------------------------------------------------------
# 9a, 9b: LayerNorm


def test_layer_norm_output_has_mean_0_and_variance_1_at_every_position():
    s = normalisation_stats()
    assert max(abs(m) for m in s["output"]["mean"]) < 1e-5
    low, high = s["output"]["var"]
    assert 0.99 < low <= high < 1 + 1e-5  # var / (var + eps): just under 1 for tiny variances
    assert s["input"]["var"][1] / s["input"]["var"][0] > 100  # the input really was off-scale
    assert s["max |ours - F.layer_norm|"] < 1e-4


def test_layer_norm_table_in_the_answers():
    assert_table_in_docs(layer_norm_rows(), rel=1e-2)


@pytest.fixture
def gradient_profiles(char_splits, char_tokenizer):
    train_data, _ = char_splits
    return {
        name: gradient_profile(block, train_data, char_tokenizer.vocab_size)
        for name, block in STACKS.items()
    }


def test_layer_norm_keeps_the_gradient_from_vanishing(gradient_profiles):
    def first_over_last(name: str) -> float:
        norms = gradient_profiles[name].grad_norms
        return norms[0] / norms[-1]

    plain, normed, residual, both = (first_over_last(name) for name in STACKS)
    assert plain < 1e-10  # no residual, no LayerNorm: the first block gets (almost) nothing
    assert normed > 1e-3  # the same stack with LayerNorm: the gradient arrives
    assert residual > 0.1 and both > 0.1


def test_gradient_table_in_the_answers(gradient_profiles):
    assert_table_in_docs(gradient_rows(gradient_profiles), rel=0.1)


# ----------------------------------------------------------------------------------------------
# 10a, 10b: dropout


def test_dropout_zeroes_about_p_and_scales_the_rest():
    s = dropout_stats(0.1)
    assert abs(s["zeroed"] - 0.1) < 0.002
    assert s["survivor min"] == pytest.approx(1 / 0.9) and s["survivor max"] == pytest.approx(
        1 / 0.9
    )
    o = block_outputs(0.1)
    assert o["train_max_difference"] > 0
    assert o["train_same_seed_identical"]
    assert o["eval_identical"]


def test_dropout_table_in_the_answers():
    assert_table_in_docs(dropout_rows(), rel=1e-3)


# ----------------------------------------------------------------------------------------------
# 7b, 8a, 8b, 9c, 10c: the experiments, as docs/experiments.json holds them

EXPERIMENTS_JSON = ROOT / "docs" / "experiments.json"


def test_experiment_tables_in_the_answers_match_the_results_file():
    saved = ResultsFile.read(EXPERIMENTS_JSON)
    assert {r.experiment.name for r in saved.results} == set(QUESTIONS), "all five, please"
    for result in saved.results:
        assert len(result.seeds) == 5
        assert_table_in_docs(claim_rows(result))


def test_experiments_page_shows_the_results_file():
    saved = ResultsFile.read(EXPERIMENTS_JSON)
    page = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    assert saved.command in page
    for result in saved.results:
        assert format_markdown(result) in page


# ----------------------------------------------------------------------------------------------
# the command


def test_answers_command_prints_the_tables_and_draws_the_figures(tmp_path, capsys):
    assert main(["answers", "--quick", "--no-experiments", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for rows in (cost_rows(), layer_norm_rows(), dropout_rows()):
        assert "| " + " | ".join(rows[0]) + " |" in out
    for png in ("answer_speed.png", "answer_grad_norm.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_answers_command_without_the_results_file_is_a_user_error(tmp_path, capsys):
    missing = tmp_path / "experiments.json"
    assert main(["answers", "--quick", "--out", str(tmp_path), "--experiments", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "learngpt experiment all" in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.png"))  # nothing done before the error
