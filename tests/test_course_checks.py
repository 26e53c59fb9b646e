"""Checks that never mislead a learner (issues 26 and 32): each case a learner met, as `course
check` runs: a named mistake only on the failure it explains, with its file; correct code in the
course's own style passes; edge cases, time-outs and files that cannot be loaded said as such.

The `course check` runs (each a fresh pytest) are prepared once and run two at a time by the
`checked` fixture; each test then asserts on its own. A run checks only the tests it needs.
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from learngpt.commands import course, main
from learngpt.exercises import catalog, integrity, limits
from learngpt.exercises.check import check, format_result, step_status, todo_status
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import files_of
from learngpt.exercises.testkit import assert_close
from learngpt.exercises.tutor import progress_table
from learngpt.exercises.workspace import start
from tests.test_mistakes import learner_package

EQUAL_SCORES = "test_masked_softmax_of_equal_scores_is_an_average"
LN_TORCH = "test_layer_norm_matches_torch"
LN_EPS = "test_layer_norm_puts_eps_inside_the_square_root"
LN_STATS = "test_layer_norm_features_dim_is_properly_normalized"
MHA_EQUAL = "test_multi_head_ver_1_and_multi_head_ver_2_are_logically_equal"
LOOP = "        for _ in range(max_new_tokens):"
# BlockVer4 as the course's own reference writes it (nn.Sequential wrappers, a new FeedForward)
REFERENCE_BLOCK_V4 = Path(__file__).parent / "course_alternatives" / "block_v4.py"
BLOCK_V4_TESTS = [
    "test_block_ver_4_output_is_always_different_in_train_mode",
    "test_block_ver_4_output_is_always_the_same_in_eval_mode",
    "test_block_ver_4_drops_only_what_the_sublayers_add",
]


def edit(workspace: Path, name: str, old: str, new: str) -> None:
    path = workspace / "mygpt" / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def edits(*changes: tuple[str, str, str]) -> Callable[[Path], None]:
    """A preparation that makes each (file, old, new) edit in turn."""
    return lambda workspace: [edit(workspace, *change) for change in changes]


@dataclass
class Run:
    lang: str
    prepare: Callable[[Path], None]
    step: int
    select: list[str] | None = None
    timeout: float = 60.0
    solutions: bool = True  # made from the answer key (else from the stubs)


def run_checks(
    runs: dict[str, Run], copy_of: Callable[[Run], Path], tmp_path_factory
) -> dict[str, tuple[Path, object, str]]:
    """{run: (its workspace, the StepResult, what `course check` prints)}: each workspace a copy
    of `copy_of(run)`, prepared; the checks two at a time."""
    workspaces = {}
    for name, run in runs.items():
        workspaces[name] = tmp_path_factory.mktemp("run") / "ws"
        shutil.copytree(copy_of(run), workspaces[name])
        run.prepare(workspaces[name])

    def one(name: str):
        run = runs[name]
        result = check(workspaces[name], run.step, timeout=run.timeout, select=run.select)
        return workspaces[name], result, format_result(result, run.lang)

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(runs, pool.map(one, runs), strict=True))


RUNS = {
    "mask inverted, ko": Run(
        "ko",
        lambda w: edit(w, "head_v3.py", "masked_fill(future,", "masked_fill(~future,"),
        4,
        [EQUAL_SCORES],
    ),  # fmt: skip
    "mask inverted, en": Run(
        "en",
        lambda w: edit(w, "head_v3.py", "masked_fill(future,", "masked_fill(~future,"),
        4,
        [EQUAL_SCORES],
    ),  # fmt: skip
    "unbiased variance, ko": Run(
        "ko",
        lambda w: edit(w, "layer_normalization.py", "unbiased=False", "unbiased=True"),
        9,
        [LN_TORCH],
    ),  # fmt: skip
    "endless generate, ko": Run(
        "ko", lambda w: edit(w, "gpt_v1.py", LOOP, "        while True:"), 1, timeout=2
    ),
    "endless, signals ignored": Run(
        "en",
        lambda w: edit(
            w,
            "gpt_v1.py",
            LOOP,
            (
                "        import signal, subprocess\n"
                "        subprocess.Popen(['sleep', '321'])\n"
                "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                "        while True:"
            ),
        ),
        1,
        ["test_generate_continues_the_context"],
        timeout=2,
    ),
    "syntax error in gpt_v3, step 6": Run(
        "en", lambda w: edit(w, "gpt_v3.py", "T = idx.shape[1]", "T = = idx.shape[1]"), 6
    ),  # fmt: skip
    "2-1 wrong, 2-2 right": Run(
        "en",
        lambda w: edit(w, "head_v1.py", "].mean(dim=0)", "].sum(dim=0)"),
        2,
        ["test_head_ver_1_is_the_prefix_average", "test_gpt_ver_2_logits_have_the_right_shape"],
    ),  # fmt: skip
    "the reference's BlockVer4": Run(
        "en",
        lambda w: shutil.copy(REFERENCE_BLOCK_V4, w / "mygpt" / "block_v4.py"),
        10,
        BLOCK_V4_TESTS,
    ),
    # A HeadVer1 that reads the future (step 2) and a LayerNorm that never subtracts the mean:
    # step 9's failure is the LayerNorm's, and no probe explains it.
    "HeadVer1 leak, LayerNorm without the mean": Run(
        "en",
        edits(
            ("head_v1.py", "x[b, : t + 1].mean(dim=0)", "x[b].mean(dim=0)"),
            ("layer_normalization.py", "(x - mean) / torch.sqrt", "x / torch.sqrt"),
        ),
        9,
        [LN_STATS, LN_TORCH],
    ),  # fmt: skip
    # torch.std (unbiased) and eps outside the root, as the course's own LayerNorm has them
    "two LayerNorm mistakes, ko": Run(
        "ko",
        edits(
            (
                "layer_normalization.py",
                "var = x.var(dim=-1, keepdim=True, unbiased=False)",
                "std = x.std(dim=-1, keepdim=True)",
            ),
            ("layer_normalization.py", "torch.sqrt(var + self.eps)", "(std + self.eps)"),
        ),
        9,
        [LN_TORCH, LN_EPS],
    ),  # fmt: skip
    # v2 divided by block_size - 1 and v4's cos of every angle, as the course's own code has
    # them (and its HeadVer4 scaled by embed_size, which these tests never run)
    "step 6 edge cases": Run(
        "en",
        edits(
            ("gpt_v3.py", "pos / max(block_size - 1, 1)", "pos / (block_size - 1)"),
            ("gpt_v3.py", "torch.cos(angle[:, : embed_size // 2])", "torch.cos(angle)"),
            ("head_v4.py", "* self.head_size**-0.5", "* x.shape[-1] ** -0.5"),
        ),
        6,
        ["test_encodings_are_block_size_by_embed_size"],
    ),  # fmt: skip
    "HeadVer2 without tril": Run(
        "en",
        edits(
            (
                "head_v2.py",
                "torch.tril(torch.ones(T, T, device=x.device, dtype=x.dtype))",
                "torch.ones(T, T, device=x.device, dtype=x.dtype)",
            )
        ),
        3,
        ["test_head_ver_2_is_identical_to_head_ver_1"],
    ),  # fmt: skip
    "crop_context unused, step 2": Run(
        "en",
        edits(("gpt_v1.py", "self.logits(self.crop_context(idx))", "self.logits(idx)")),
        2,
        ["test_generate_reads_only_the_last_block_size_tokens"],
    ),
    # ... and MultiHeadVer1 raising an AttributeError of its own: that is not HeadVer4's doing
    "an error that is not HeadVer4's, step 7": Run(
        "en",
        edits(
            ("head_v4.py", "* self.head_size**-0.5", "* x.shape[-1] ** -0.5"),
            ("multi_head_v1.py", "return self.proj(out)", "return self.projection(out)"),
        ),
        7,
        [MHA_EQUAL],
    ),  # fmt: skip
    "syntax error in head_v2, step 4": Run(
        "en", edits(("head_v2.py", "wei = wei / wei.sum", "wei = wei / / wei.sum")), 4
    ),
}


@pytest.fixture(scope="module")
def answer_keys(tmp_path_factory) -> dict[str, Path]:
    keys = {}
    for lang in catalog.LANGS:
        keys[lang] = tmp_path_factory.mktemp(f"key_{lang}")
        start(keys[lang], solutions=True, lang=lang)
    return keys


@pytest.fixture(scope="module")
def checked(answer_keys, tmp_path_factory) -> dict[str, tuple[Path, object, str]]:
    """{run: (its workspace, the StepResult, what `course check` prints)}, two runs at a time."""
    return run_checks(RUNS, lambda run: answer_keys[run.lang], tmp_path_factory)


def test_a_named_mistake_in_the_learners_language(checked):
    for name, key, lang in (("mask inverted, ko", "4-1.mask_inverted", "ko"),
                            ("mask inverted, en", "4-1.mask_inverted", "en"),
                            ("unbiased variance, ko", "9-1.unbiased_variance", "ko")):  # fmt: skip
        _, result, out = checked[name]
        assert not result.passed
        assert catalog.text(f"mistakes.{key}", lang) in out, out
        others = [k for k in catalog.catalog(lang) if k.startswith("mistakes.") and k[9:] != key]
        assert not any(catalog.text(k, lang) in out for k in others), out  # one mistake only
        assert "raised" not in out and "IndexError" not in out


def test_nan_and_odd_values_are_named_never_crash_the_helper(monkeypatch):
    monkeypatch.setenv("LEARNGPT_LANG", "en")
    hidden = torch.ones(4, 4, dtype=torch.bool).tril()  # an inverted mask: row 3 hides all
    wei = torch.softmax(torch.zeros(4, 4).masked_fill(hidden, float("-inf")), dim=-1)
    nan = float("nan")
    cases = (
        (wei, torch.full((4, 4), 0.25), ["NaN", "index (3, 0)", "row (3,)", "every position"]),
        (torch.tensor([1.0, float("inf")]), torch.ones(2), ["infinite", "index (1,)"]),
        (None, torch.ones(2), ["expected a tensor", "NoneType"]),
        (torch.tensor([1, 3]), torch.ones(2), ["differ by up to 2 at index (1,)"]),
        (torch.ones(2), torch.tensor([nan, 1.0]), ["differ by up to nan at index (0,)"]),
    )
    for actual, expected, words in cases:
        with pytest.raises(AssertionError) as failure:
            assert_close(actual, expected, "x")
        assert all(w in str(failure.value) for w in words), str(failure.value)


def test_a_loop_that_never_ends_is_stopped_where_it_is(checked):
    _, result, out = checked["endless generate, ko"]
    first, endless = result.tests  # the step stops at its first test that runs out of time
    assert first.passed and not endless.passed
    # First the likely cause, then where the code was, and more time only as the alternative.
    loop = out.index(catalog.text("check.timeout", "ko", seconds="2"))
    where = re.search(r"mygpt/gpt_v1\.py:\d+", out)
    more = out.index(catalog.text("check.timeout_more", "ko", step=1))
    assert where and loop < where.start() < more, out
    verdict = catalog.text("result.not_yet", "ko")  # test_1.py has 7 tests: 5 never ran
    summary = dict(passed=1, total=2, not_run=5, step=1, verdict=verdict)
    assert catalog.text("result.summary_not_run", "ko", **summary) in out, out


def test_code_that_ignores_the_soft_limit_is_ended_and_leaves_no_process(checked):
    _, result, out = checked["endless, signals ignored"]
    (test,) = result.tests
    assert not test.passed and "did not finish in 2 s: perhaps a loop that never ends" in out
    assert "mygpt/gpt_v1.py:" in out, out
    alive = [p for p in Path("/proc").glob("[0-9]*") if _cmdline(p) == "sleep 321"]
    assert not alive, "the learner's child process outlived the check"


def _cmdline(process: Path) -> str:
    try:
        return (process / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_a_syntax_error_fails_only_the_steps_that_use_the_file(checked):
    workspace, result, out = checked["syntax error in gpt_v3, step 6"]
    with learner_package(workspace) as mygpt:  # what step 3's tests import still loads
        assert mygpt.HeadVer1 and mygpt.HeadVer2 and mygpt.HeadVer4
        with pytest.raises(SyntaxError):
            getattr(mygpt, "GPTVer3")  # noqa: B009 - the lazy import is what is tested
    assert not result.passed
    assert "mygpt/gpt_v3.py cannot be loaded: SyntaxError" in out and "(line 2" in out, out
    assert "T = = idx.shape[1]" in out and re.search(r"^\s+\^$", out, re.MULTILINE), out
    assert "E   " not in out


def test_progress_marks_each_todo_by_the_tests_that_exercise_it(checked):
    workspace, result, _ = checked["2-1 wrong, 2-2 right"]
    assert not result.passed and step_status(workspace, 2) == "failing"
    assert todo_status(workspace, "2-1") == "failing"
    assert todo_status(workspace, "2-2") == "done"


def test_the_course_references_block_ver_4_passes_with_no_mistake_named(checked):
    _, result, out = checked["the reference's BlockVer4"]
    assert result.passed and len(result.tests) == 3, out
    assert "likely mistake" not in out


def _named(out: str, lang: str) -> list[str]:
    """The named mistakes in `course check`'s output."""
    keys = [k for k in catalog.catalog(lang) if k.startswith("mistakes.")]
    return [k[len("mistakes.") :] for k in keys if catalog.text(k, lang) in out]


def test_a_mistake_is_named_only_on_a_failure_it_explains(checked):
    _, result, out = checked["HeadVer1 leak, LayerNorm without the mean"]
    assert not result.passed and all(not t.passed for t in result.tests), out
    assert _named(out, "en") == [] and "likely mistake" not in out, out  # no probe explains it


def test_two_mistakes_in_one_class_are_both_named_once(checked):
    _, result, out = checked["two LayerNorm mistakes, ko"]
    assert not result.passed
    assert _named(out, "ko") == ["9-1.unbiased_variance", "9-1.eps_outside_the_root"], out
    for key in _named(out, "ko"):
        line = catalog.text("check.mistake", "ko", file="mygpt/layer_normalization.py",
                            mistake=catalog.text(f"mistakes.{key}", "ko"))  # fmt: skip
        assert out.count(line) == 1, out  # at the first failure only, in the catalog's words


def test_the_edge_cases_a_test_uses_are_named_when_it_fails_there(checked):
    _, result, out = checked["step 6 edge cases"]
    failed = {t.test for t in result.tests if not t.passed}
    assert failed == {
        "test_encodings_are_block_size_by_embed_size[1-4-v2]",
        "test_encodings_are_block_size_by_embed_size[50-7-v4]",
    }, out
    assert catalog.text("tests.6.block_size_one", "en") in out, out
    odd = catalog.text("tests.6.odd_embed_size", "en", embed_size=7, sin=4, cos=3)
    assert odd in out and "your code raised RuntimeError" in out and "mygpt/gpt_v3.py:" in out
    assert "likely mistake" not in out, out  # HeadVer4's mistake explains none of it


def test_the_future_leak_is_named_at_step_3_as_at_step_2(checked):
    _, result, out = checked["HeadVer2 without tril"]
    assert not result.passed
    mistake = catalog.text("mistakes.3-1.future_included", "en")
    assert f"likely mistake: in mygpt/head_v2.py, {mistake}" in out, out


def test_a_mistake_of_an_earlier_step_names_its_file_and_step(checked):
    _, _, out = checked["crop_context unused, step 2"]
    mistake = catalog.text("mistakes.1-1.crop_context_unused", "en")
    assert f"likely mistake: in mygpt/gpt_v1.py (step 1), {mistake}" in out, out
    assert catalog.text("tests.2.crop", "en") in out and "mygpt/gpt_v1.py, step 1" in out


def test_an_error_in_another_file_names_no_mistake_of_this_one(checked):
    _, result, out = checked["an error that is not HeadVer4's, step 7"]
    assert not result.passed and "your code raised AttributeError" in out, out
    assert "mygpt/multi_head_v1.py" in out and "likely mistake" not in out, out


def test_progress_waits_on_the_earlier_file_that_cannot_be_loaded(checked):
    workspace, result, out = checked["syntax error in head_v2, step 4"]
    assert not result.passed and "mygpt/head_v2.py cannot be loaded" in out, out
    assert step_status(workspace, 4) == "waiting"
    assert {todo_status(workspace, t) for t in ("4-1", "4-2")} == {"waiting"}
    check(workspace, 3, lang="en")  # step 3's own file is the broken one: it fails
    assert step_status(workspace, 3) == "failing"
    rows = progress_table(workspace, "en").splitlines()
    waiting = [row for row in rows if "waiting on step 3 (mygpt/head_v2.py)" in row]
    assert [row.split()[0] for row in waiting] == ["4", "4-1", "4-2"], rows
    assert re.search(r"^3\s+failing", "\n".join(rows), re.MULTILINE), rows
    korean = catalog.text("status.waiting_on", "ko", step=3, file="mygpt/head_v2.py")
    assert progress_table(workspace, "ko").count(korean) == 3


def test_changed_or_missing_tests_fail_the_check_until_restored(answer_keys, tmp_path, capsys):
    workspace = tmp_path / "ws"
    shutil.copytree(answer_keys["en"], workspace)
    mygpt = {p.name: p.read_bytes() for p in (workspace / "mygpt").glob("*.py")}
    test_3 = workspace / "tests" / "test_3.py"
    test_3.write_text("def test_head_ver_2_is_identical_to_head_ver_1():\n    assert True\n")
    (workspace / "tests" / "test_4.py").unlink()
    (workspace / "conftest.py").write_text("# fixtures of my own\n")
    for step, file in ((3, "tests/test_3.py"), (4, "tests/test_4.py"), (5, "conftest.py")):
        result = check(workspace, step)
        assert not result.passed
        why = result.tests[0].reason
        assert file in why and "learngpt course restore" in why

    assert main(["course", "restore", "--dir", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert "tests/test_3.py" in out and "tests/test_4.py" in out and ".backup/" in out
    assert integrity.changed(workspace) == []
    assert {p.name: p.read_bytes() for p in (workspace / "mygpt").glob("*.py")} == mygpt
    (kept,) = (workspace / ".backup").iterdir()
    assert "assert True" in (kept / "tests" / "test_3.py").read_text()
    assert (kept / "conftest.py").is_file()
    assert main(["course", "restore", "--dir", str(workspace)]) == 0
    assert "nothing to restore" in capsys.readouterr().out


def test_reset_and_start_force_keep_the_learners_code(answer_keys, tmp_path, capsys):
    workspace = tmp_path / "ws"
    shutil.copytree(answer_keys["ko"], workspace)
    head_v2 = workspace / "mygpt" / "head_v2.py"
    mine = head_v2.read_text() + "# my own note\n"
    head_v2.write_text(mine)
    assert main(["course", "reset", "3", "--dir", str(workspace)]) == 0
    out = capsys.readouterr().out
    (stub,) = files_of(3)
    assert head_v2.read_text() == workspace_source(stub, lang="ko")
    kept = re.search(r"\S*\.backup/\S+", out)[0]
    assert Path(kept, "mygpt", "head_v2.py").read_text() == mine

    head_v2.write_text(mine)
    capsys.readouterr()
    assert main(["course", "start", str(workspace), "--force"]) == 0
    out = capsys.readouterr().out
    assert "raise NotImplementedError(" in head_v2.read_text()
    kept = re.search(r"\S*\.backup/\S+", out)[0]
    assert Path(kept, "mygpt", "head_v2.py").read_text() == mine


def test_timeout_must_be_a_number_of_seconds(capsys):
    for command in ("check", "watch"):
        assert main(["course", command, "--timeout", "0", "--lang", "en"]) == 2
        assert "not a number of seconds above 0" in capsys.readouterr().err
        assert main(["course", command, "--timeout", "nan", "--lang", "ko"]) == 2
        assert catalog.text("errors.timeout", "ko", value="nan") in capsys.readouterr().err


def test_a_timeout_beyond_a_day_is_refused_not_run(tmp_path, capsys):
    for argv in (["course", "check", "1"], ["course", "watch"], ["course", "report", str(tmp_path),
                                                                  "--verify"]):  # fmt: skip
        assert main([*argv, "--timeout", "1e308", "--lang", "en"]) == 2
        line = catalog.text("limits.timeout_too_long", "en", value="1e308", max=limits.MAX_S)
        assert capsys.readouterr().err == f"error: {line}\n"
    namespace = argparse.Namespace(timeout="86400", lang="en", dir=None)
    assert course.timeout_of(namespace) == limits.MAX_S == 86400


def _refused(argv: list[str], capsys) -> str:
    """The one `error:` line a course command printed as it exited with 2."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    return captured.err[len("error: ") : -1]


def _damaged(path: Path, lang: str, problem: str, fix: str, **fields) -> str:
    what = catalog.text(problem, lang, **fields)
    fix_text = catalog.text(fix, lang, path=path)
    return catalog.text("state.damaged", lang, file=path, problem=what, fix=fix_text)


def test_a_damaged_workspace_json_is_named_never_a_switch_of_language(tmp_path, capsys):
    workspace = tmp_path / "ws"
    start(workspace, lang="en")
    state = workspace / ".learngpt" / "workspace.json"
    cases = (
        (b"[]", "state.not_object", {}),
        (b"\xff\xfe{\x00", "state.not_utf8", {}),
        (b'{"lang": "en"', "state.not_json", {"line": 1}),  # cut short: it was English
        (b'{"lang": "fr"}', "state.bad_lang", {"value": '"fr"', "langs": "ko, en"}),
        (b'{"solutions": false}', "state.bad_lang", {"value": "null", "langs": "ko, en"}),
    )
    for data, problem, fields in cases:
        state.write_bytes(data)
        # its language unknown: Korean, the course's, with the fix (--lang would choose)
        expected = _damaged(state, "ko", problem, "state.fix_workspace", **fields)
        for action in (["progress"], ["hint", "1"], ["check", "1"], ["reset", "1"]):
            assert _refused(["course", *action, "--dir", str(workspace)], capsys) == expected
        assert state.read_bytes() == data  # nothing lost: the file is as it was
        assert not (workspace / ".learngpt" / "hints.json").exists()
        assert main(["course", "progress", "--dir", str(workspace), "--lang", "en"]) == 0
        assert "not started" in capsys.readouterr().out  # --lang says which: it goes on
        assert main(["course", "reset", "1", "--dir", str(workspace), "--lang", "en"]) == 0
        assert "step 1's files are stubs again" in capsys.readouterr().out  # reset too
        assert state.read_bytes() == data


def test_damaged_hints_and_checks_are_named_in_the_workspaces_language(tmp_path, capsys):
    workspace = tmp_path / "ws"
    start(workspace, lang="en")
    hints = workspace / ".learngpt" / "hints.json"
    for data, problem, fields in (
        (b'{"1": -5}', "state.bad_hints", {"step": "1", "value": "-5"}),
        (b'{"1": "two"}', "state.bad_hints", {"step": "1", "value": '"two"'}),
        (b'{"1": true}', "state.bad_hints", {"step": "1", "value": "true"}),
        (b"[1, 2]", "state.not_object", {}),
        (b'"hints"', "state.not_object", {}),
        (b"\xff", "state.not_utf8", {}),
    ):
        hints.write_bytes(data)
        expected = _damaged(hints, "en", problem, "state.fix_hints", **fields)
        assert _refused(["course", "hint", "1", "--dir", str(workspace)], capsys) == expected
        assert hints.read_bytes() == data
    hints.unlink()  # as the message says: the hints start again from the first
    assert main(["course", "hint", "1", "--dir", str(workspace)]) == 0
    assert "1/" in capsys.readouterr().out

    checks = workspace / ".learngpt" / "checks.json"
    for data, problem, fields in (
        (b"[]", "state.not_object", {}),
        (b'{"1": 5}', "state.bad_checks", {"step": "1"}),
        (b'{"1": {"passed": "yes", "fingerprint": "x"}}', "state.bad_checks", {"step": "1"}),
        (b"{", "state.not_json", {"line": 1}),
    ):
        checks.write_bytes(data)
        expected = _damaged(checks, "en", problem, "state.fix_checks", **fields)
        assert _refused(["course", "progress", "--dir", str(workspace)], capsys) == expected
        assert checks.read_bytes() == data
