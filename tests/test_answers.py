"""The answers to the course's questions (learngpt/assets/course/<lang>/answers.md) match the code.

Every cheap table the answers quote is recomputed here through the same functions that
`learngpt answers` prints it with, and compared with the table in both languages' answers (the
English one cell for cell; the Korean one, whose headers and labels are Korean, number for
number): when the code changes, the answers must be regenerated, or these tests fail. The timings
are not compared (they depend on the machine); the training experiments are compared with
docs/experiments.json, the results file of the run that docs/experiments.md reports. Then the
answers as a learner reads them: `learngpt course answers N`, for the terminal.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import pytest
from test_lessons import named_files

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
from learngpt.exercises.catalog import LANGS, text
from learngpt.exercises.workspace import start
from learngpt.experiments import ResultsFile, format_markdown
from learngpt.measure import count_parameters
from learngpt.resources import asset

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = {lang: asset("course", lang, "answers.md") for lang in LANGS}
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
HANGUL = re.compile("[\uac00-\ud7a3]")


def section(doc: str, question: str) -> str:
    """The text of question `question` ("7a") of an answers file, up to the next heading."""
    start_at = doc.index(f"### {question}.")
    end = re.search(r"^##", doc[start_at + 4 :], re.MULTILINE)
    return doc[start_at : start_at + 4 + end.start()] if end else doc[start_at:]


def doc_table(lang: str, question: str, index: int = 0) -> list[list[str]]:
    """The rows (header included) of the `index`-th Markdown table under question `question`."""
    lines = section(ANSWERS[lang].read_text(encoding="utf-8"), question).splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("|---")]
    assert len(starts) > index, f"{lang}: question {question} has no table {index}"
    rows = [lines[starts[index] - 1]]
    for line in lines[starts[index] + 1 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


def same_numbers(expected: str, written: str, rel: float) -> bool:
    """The same numbers, in the same order, equal within `rel` (exact when rel is 0)."""
    a, b = NUMBER.findall(expected), NUMBER.findall(written)
    return len(a) == len(b) and all(
        math.isclose(float(x.replace(",", "")), float(y.replace(",", "")), rel_tol=rel)
        for x, y in zip(a, b, strict=True)
    )


def same_cell(expected: str, written: str, rel: float) -> bool:
    """Equal text around the numbers, and numbers equal within `rel` (exact when rel is 0)."""
    return NUMBER.sub("#", expected) == NUMBER.sub("#", written) and same_numbers(
        expected, written, rel
    )


def assert_table_in_answers(question: str, rows: list[list[str]], rel=0.0, index=0) -> None:
    """`rows` are the table of `question`: in English word for word; in Korean, whose headers
    and row labels are Korean words, the same shape and the same numbers in every value."""
    for lang in LANGS:
        written = doc_table(lang, question, index)
        assert len(written) == len(rows), f"{lang}: table {question} has other rows"
        for i, (expected_row, written_row) in enumerate(zip(rows, written, strict=True)):
            assert len(expected_row) == len(written_row), (lang, written_row)
            pairs = list(zip(expected_row, written_row, strict=True))
            if lang == "en":
                assert all(same_cell(a, b, rel) for a, b in pairs), (lang, written_row)
            elif i:  # the values, not the Korean header or row label
                assert all(same_numbers(a, b, rel) for a, b in pairs[1:]), (lang, written_row)


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
    assert_table_in_answers("7a", cost_rows())


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
    assert_table_in_answers("7c", profile_rows())


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
    assert_table_in_answers("9a", layer_norm_rows(), rel=1e-2)


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
    assert_table_in_answers("9b", gradient_rows(gradient_profiles), rel=0.1)


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
    assert_table_in_answers("10b", dropout_rows(), rel=1e-3)


# ----------------------------------------------------------------------------------------------
# 7b, 8a, 8b, 9c, 10c: the experiments, as docs/experiments.json holds them

EXPERIMENTS_JSON = ROOT / "docs" / "experiments.json"


def test_experiment_tables_in_the_answers_match_the_results_file():
    saved = ResultsFile.read(EXPERIMENTS_JSON)
    assert {r.experiment.name for r in saved.results} == set(QUESTIONS), "all five, please"
    for result in saved.results:
        assert len(result.seeds) == 5
        assert_table_in_answers(QUESTIONS[result.experiment.name], claim_rows(result))


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


# ----------------------------------------------------------------------------------------------
# Numbers in the answers' text come from the results file (docs/experiments.json)

SET_UP = {
    "en": re.compile(r"([\d,]+) steps at learning rate ([\d.]+)"),
    "ko": re.compile(r"learning rate ([\d.]+)로 ([\d,]+) step"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_answers_quote_the_set_up_and_margins_of_the_results_file(lang):
    doc = ANSWERS[lang].read_text(encoding="utf-8")
    saved = ResultsFile.read(EXPERIMENTS_JSON)
    for result in saved.results:
        quote = re.sub(r"\s+", " ", section(doc, QUESTIONS[result.experiment.name]))
        quoted = SET_UP[lang].search(quote)  # on one line: a quote may wrap
        steps, rate = (quoted[1], quoted[2]) if lang == "en" else (quoted[2], quoted[1])
        assert int(steps.replace(",", "")) == result.config.max_iters, result.experiment.name
        assert float(rate) == result.config.learning_rate, result.experiment.name
    multi_head = next(r for r in saved.results if r.experiment.name == "multi-head")
    margins = [s.val_margin for s in multi_head.seeds]
    low, high = f"{min(margins):.2f}", f"{max(margins):.2f}"
    quote = re.sub(r"\s+", " ", section(doc, "7b"))  # one line: a quote may wrap
    assert re.search(rf"{low} (to|~) {high} nats", quote), (low, high)
    # Every signed margin the answers quote is one the experiments page (the results file and
    # the experiments' notes) reports.
    page = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    for margin in set(re.findall(r"[-+]0\.\d{3}\b", doc)):
        assert margin in page, margin


# ----------------------------------------------------------------------------------------------
# `learngpt course answers N`: the answers for the terminal


def columns(line: str) -> int:
    """The columns a terminal gives `line`: two for a wide character (Hangul), else one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def course_answers(capsys, *argv: str) -> str:
    assert main(["course", "answers", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("lang", LANGS)
def test_answers_fit_an_80_column_terminal_with_no_markdown_left(monkeypatch, capsys, lang):
    monkeypatch.setenv("COLUMNS", "80")
    for step in (7, 8, 9, 10):
        out = course_answers(capsys, str(step), "--lang", lang)
        lines = out.splitlines()
        assert max(columns(line) for line in lines) <= 80, (step, max(lines, key=columns))
        for syntax in ("**", "![", "](", "|---", "---|", "`", "### "):
            assert syntax not in out, (step, syntax)
        assert all(line == line.rstrip() for line in lines)  # no padding to the width
        assert any(line.startswith(f"{step}a. ") for line in lines)  # its first question
        assert lines[0].startswith({"en": f"Step {step}: ", "ko": f"{step}단계: "}[lang])
        assert "Step" not in out if lang == "ko" else not HANGUL.search(out)


def test_korean_answers_speak_korean_in_headings_and_tables_and_name_no_build_machine(
    monkeypatch, capsys
):
    monkeypatch.setenv("COLUMNS", "80")
    out = course_answers(capsys, "9")  # outside a workspace: Korean
    assert out.splitlines()[0] == "9단계: LayerNorm"
    for korean in ("위치별 평균", "위치별 분산", "입력", "block당 비율", "구성: BlockVer1"):
        assert korean in out, korean
    for english in ("per-position mean", "factor per block", "holds on seeds", "stack:"):
        assert english not in out, english
    assert "그림: answers/img/answer_grad_norm.png" in out
    everything = "".join(course_answers(capsys, str(step)) for step in (7, 8, 9, 10))
    for remark in ("빌드 머신", "load average", "이 기계", "우리 측정"):
        assert remark not in everything, remark


def test_a_table_that_fits_is_printed_as_aligned_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "160")
    out = course_answers(capsys, "9", "--lang", "en")
    header = next(line for line in out.splitlines() if line.startswith("stack "))
    assert re.match(r"stack +block 1 +block 5 +block 10 .*factor per block$", header)
    lines = out.splitlines()
    rows = lines[lines.index(header) + 2 :][:4]  # under the header and its rule
    assert [row[:9] for row in rows] == [f"BlockVer{v}" for v in (1, 1, 2, 3)]
    at = header.index("block 20")
    assert [row[at : at + 4].strip() for row in rows] == ["1.4", "1.6", "0.33", "0.17"]
    assert max(columns(line) for line in out.splitlines()) > 80  # the width is used
    monkeypatch.setenv("COLUMNS", "80")  # too narrow for 8 columns: one record per row
    narrow = course_answers(capsys, "9", "--lang", "en").splitlines()
    record = narrow.index("stack: BlockVer1 (no residual, no LayerNorm)")
    assert re.fullmatch(r"  block 1 +4\.7e-22", narrow[record + 1])


def test_every_file_the_answers_name_is_in_the_workspace(tmp_path, capsys):
    for lang in LANGS:
        workspace = tmp_path / lang
        start(workspace, lang=lang)
        for step in (7, 8, 9, 10):
            out = course_answers(capsys, str(step), "--dir", str(workspace))
            names = named_files(out)
            assert names, step
            for name in names:
                assert (workspace / name).is_file(), f"{lang}, step {step}: {name}"
            for figure in re.findall(r"answers/img/\S+\.png", out):
                assert (workspace / figure).is_file(), figure


def test_course_answers_of_a_step_without_questions_says_where_they_are(capsys):
    assert course_answers(capsys, "2").strip() == text("answers.none", "ko", step=2)
    assert course_answers(capsys, "2", "--lang", "en").strip() == text("answers.none", "en", step=2)
