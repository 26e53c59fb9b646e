"""`learngpt course report`: the class report for instructors (issue 36).

The class: alice solved steps 1-3 and checked them; bob's state claims all ten steps with stub
code (and his own test_2.py and conftest.py make everything pass); carol has just started; notes/
is not a workspace. The reports read them as `course progress` does; --verify runs `course check`
again where the learners cannot reach, and leaves their folders byte for byte as they were.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from learngpt.commands import main
from learngpt.exercises import check as checker
from learngpt.exercises.catalog import text
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, TODOS, files_of
from learngpt.exercises.workspace import start
from learngpt.instructor import classreport

TODO_MARK = re.compile(r"TODO \d+-\d+: ")
HEAD_V1_MEAN = "x[b, : t + 1].mean(dim=0)"


def solve(workspace: Path, *steps: int) -> None:
    """The answer key's code for `steps`, as the learner would have written it."""
    for step in steps:
        for f in files_of(step):
            source = workspace_source(f, solutions=True, lang="en")
            (workspace / "mygpt" / f.name).write_text(source, encoding="utf-8")


def record_passed(workspace: Path, *steps: int) -> None:
    """The state `course check N` keeps when step N passes on the code now in the folder."""
    for step in steps:
        checker.remember(
            workspace, checker.StepResult(step, [checker.TestResult(f"test_{step}", True)])
        )


def edit(workspace: Path, name: str, old: str, new: str) -> None:
    path = workspace / "mygpt" / name
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, (name, old)
    path.write_text(source.replace(old, new), encoding="utf-8")


def make_class(root: Path) -> dict[str, Path]:
    people = {name: root / name for name in ("alice", "bob", "carol", "notes")}
    start(people["alice"], lang="en")
    solve(people["alice"], 1, 2, 3)
    record_passed(people["alice"], 1, 2, 3)
    (people["alice"] / ".learngpt" / "hints.json").write_text('{"2": 1, "3": 3}\n')
    start(people["bob"], lang="ko")
    for path in (people["bob"] / "mygpt").glob("*.py"):  # stubs: no TODO left, nothing works
        source = path.read_text(encoding="utf-8").replace("NotImplementedError", "RuntimeError")
        path.write_text(TODO_MARK.sub("", source), encoding="utf-8")
    record_passed(people["bob"], *(s.number for s in STEPS))
    (people["bob"] / "tests" / "test_2.py").write_text("def test_all_good():\n    pass\n")
    (people["bob"] / "conftest.py").write_text("# every test passes here\n")
    start(people["carol"], lang="en")
    people["notes"].mkdir()
    (people["notes"] / "plan.txt").write_text("week 2: teams 1 to 4\n")
    return people


def checksums(folder: Path) -> dict[str, str]:
    """Every file under `folder` (and every folder), by path: its sha256 (or "dir")."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("class")
    return root, make_class(root)


def report(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["course", "report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_csv_and_json_agree_and_change_nothing(klass, capsys):
    root, people = klass
    before = checksums(root)
    code, out, _ = report(capsys, str(root), "--format", "json", "--lang", "en")
    assert code == 0
    rows = json.loads(out)
    done = {}
    for row in rows:
        done.setdefault(row["learner"], 0)
        done[row["learner"]] += row["state"] == "done"
    assert done == {"alice": 3, "bob": 10, "carol": 0, "notes": 0}
    (stray,) = [r for r in rows if r["learner"] == "notes"]
    assert stray["step"] is None and stray["state"] == "not a workspace"
    alice = {r["step"]: r for r in rows if r["learner"] == "alice"}
    assert alice[2]["todos"] == {"2-1": "done", "2-2": "done"} and alice[3]["hints"] == 3
    assert alice[4]["state"] == "not started" and alice[1]["last_check"]
    bob = [r for r in rows if r["learner"] == "bob"]
    assert {r["lang"] for r in bob} == {"ko"}
    assert "tests/test_2.py" in bob[1]["edited"] and "conftest.py" in bob[1]["edited"]
    assert "tests/test_2.py" not in bob[2]["edited"]  # step 3's check does not read it

    code, out, _ = report(capsys, str(root), "--format", "csv", "--lang", "en")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["learner"], r["step"], r["state"]) for r in table] == [
        (r["learner"], str(r["step"] or ""), r["state"]) for r in rows
    ]
    assert table[0]["todos"] == "1-1=done"

    code, out, _ = report(capsys, str(root), "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["learner"])
    assert header.split()[:13] == ["learner", "lang", *map(str, range(1, 11)), "done"]
    shown = {line.split()[0]: line.split() for line in lines if line.split()[:1] == ["alice"]}
    for line in lines:
        words = line.split()
        if words and words[0] in ("bob", "carol"):
            shown[words[0]] = words
    assert {name: int(words[12]) for name, words in shown.items()} == {
        "alice": 3,
        "bob": 10,
        "carol": 0,
    }
    assert shown["alice"][2:6] == ["✓", "✓✓", "✓", "--"]
    assert "2:1 3:3" in next(line for line in lines if line.startswith("alice"))
    notes = next(line for line in lines if line.startswith("notes"))
    assert text("report.notes.not_a_workspace", "en") in notes
    assert "tests/test_2.py" in next(line for line in lines if line.startswith("bob"))
    assert checksums(root) == before


def test_the_week_2_view_and_a_korean_report(klass, capsys):
    root, _ = klass
    code, out, _ = report(capsys, str(root), "--by-step", "1-3", "--format", "json")
    assert {r["step"] for r in json.loads(out)} == {1, 2, 3, None}
    code, out, _ = report(capsys, str(root), "--by-step", "2-3")
    assert code == 0
    assert text("report.title", "ko") not in out  # the terminal table has no title line
    assert text("report.view.header", "ko", step=3, title=STEPS[2].title("ko")) in out
    done = text("status.done", "ko")
    assert (
        text("report.view.state", "ko", state=done, count=2, total=3, learners="alice, bob") in out
    )


def test_verify_confirms_real_work_and_flags_a_claim(klass, capsys):
    root, people = klass
    before = checksums(root)
    code, out, err = report(
        capsys, str(root), "--verify", "--step", "2", "--jobs", "2", "--format", "json",
        "--lang", "en",
    )  # fmt: skip
    assert code == 0, err  # the report is printed: mismatches are not an error
    rows = {r["learner"]: r for r in json.loads(out)}
    assert rows["alice"]["state"] == rows["alice"]["verified_state"] == "done"
    assert rows["alice"]["mismatch"] is False and rows["alice"]["verified_note"] is None
    assert rows["alice"]["verified_passed"] == rows["alice"]["verified_total"] > 3
    bob = rows["bob"]  # his own test_2.py passes; the course's does not
    assert bob["state"] == "done" and bob["verified_state"] == "failing" and bob["mismatch"]
    assert bob["verified_todos"] == {"2-1": "failing", "2-2": "failing"}
    assert "RuntimeError" in bob["verified_note"]
    assert rows["carol"]["verified_state"] == "not started" and not rows["carol"]["mismatch"]
    assert rows["notes"]["state"] == "not a workspace" and rows["notes"]["verified_state"] is None
    assert "alice" in err and "bob" in err  # who has been checked, as it goes
    assert checksums(root) == before  # nothing written into any learner's folder


def test_an_endless_loop_is_stopped_at_the_limit_for_that_learner_only(klass, tmp_path, capsys):
    _, people = klass
    dave = tmp_path / "dave"
    start(dave, lang="en")
    solve(dave, 1, 2)
    edit(dave, "head_v1.py", f"out[b, t] = {HEAD_V1_MEAN}", "while True:\n                    pass")
    before = checksums(dave)
    started = time.monotonic()
    code, out, _ = report(
        capsys, str(dave), str(people["bob"]), "--verify", "--step", "2", "--timeout", "2",
        "--format", "json", "--lang", "en",
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert code == 0
    rows = {r["learner"]: r for r in json.loads(out)}
    ran_out = text("check.timeout", "en", seconds="2")
    assert rows["dave"]["verified_state"] == "failing"
    assert ran_out in rows["dave"]["verified_note"], rows["dave"]
    assert (
        rows["bob"]["verified_state"] == "failing" and ran_out not in rows["bob"]["verified_note"]
    )
    assert seconds < 120  # the loop was stopped, not waited for
    assert checksums(dave) == before
    alive = [p for p in Path("/proc").glob("[0-9]*") if "learngpt-verify-" in _cwd(p)]
    assert not alive, "a learner's process outlived the report"


def _cwd(process: Path) -> str:
    try:
        return str((process / "cwd").resolve())
    except OSError:
        return ""


@pytest.fixture(scope="module")
def mistaken(klass, tmp_path_factory) -> Path:
    """alice, carol, and two learners whose HeadVer1 averages the future, checked for real."""
    root, people = klass
    group = tmp_path_factory.mktemp("group")
    for name in ("alice", "carol"):
        shutil.copytree(people[name], group / name)
    for name in ("erin", "frank"):
        start(group / name, lang="en")
        solve(group / name, 1, 2)
        edit(group / name, "head_v1.py", HEAD_V1_MEAN, "x[b].mean(dim=0)")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: checker.check(group / n, 2, "en"), ("erin", "frank")))
    assert not any(r.passed for r in results)
    return group


def test_step_2_counts_the_named_mistakes(mistaken, capsys):
    code, out, _ = report(capsys, str(mistaken), "--step", "2", "--lang", "en")
    assert code == 0
    mistake = text("mistakes.2-1.future_included", "en")
    assert (
        text("report.view.mistake", "en", count=2, mistake=mistake, learners="erin, frank") in out
    )
    assert "done (1/4): alice" in out and "failing (2/4): erin, frank" in out
    code, out, _ = report(capsys, str(mistaken), "--step", "2", "--format", "json")
    rows = {r["learner"]: r for r in json.loads(out)}
    assert rows["erin"]["mistakes"] == ["2-1.future_included"] and rows["alice"]["mistakes"] == []


def test_the_html_page_is_one_file_with_the_grid_and_loads_nothing(klass, tmp_path, capsys):
    from tests.test_web import chromium_page

    root, _ = klass
    code, out, _ = report(capsys, str(root), "--format", "html", "--step", "2")
    assert code == 0
    page_file = tmp_path / "class.html"
    page_file.write_text(out, encoding="utf-8")
    assert "<script" not in out and "http" not in out and "<link" not in out
    with chromium_page(tmp_path / "profile", "ko-KR") as page:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(page_file.as_uri())
        assert requested == [page_file.as_uri()]  # the page asks for nothing else
        assert page.title() == text("report.title", "ko")
        rows = page.locator("table.grid tbody tr")
        assert rows.count() == 4  # one per learner, the stray folder too
        todo_heads = page.locator("table.grid thead tr").nth(1).locator("th")
        assert todo_heads.all_inner_texts() == ["2-1", "2-2"]
        alice = rows.nth(0).locator("td")
        assert alice.nth(0).inner_text() == "alice"
        assert alice.nth(2).get_attribute("class") == "s-done"
        assert text("report.view.no_mistakes", "ko").strip() in page.content()


def test_the_whole_grid_has_a_column_per_todo(klass, capsys):
    root, _ = klass
    _, out, _ = report(capsys, str(root), "--format", "html", "--lang", "en")
    heads = re.findall(r"<th title=\"[^\"]*\">(\d+-\d+)</th>", out)
    assert heads == [t.id for t in TODOS]
    assert out.count("<tr>") == 2 + 4  # two header rows, one row per learner


def test_bad_input_is_one_row_or_one_error_line(klass, tmp_path, capsys):
    root, people = klass
    broken = tmp_path / "broken"
    shutil.copytree(people["alice"], broken)
    (broken / ".learngpt" / "checks.json").write_text("{ not json")
    (broken / ".learngpt" / "hints.json").write_text("[1, 2]")
    odd = tmp_path / "odd"
    shutil.copytree(people["alice"], odd)
    (odd / ".learngpt" / "checks.json").write_text('{"1": {"passed": true}, "2": 7}')
    (odd / ".learngpt" / "workspace.json").write_text('["en"]')
    missing = tmp_path / "missing"
    code, out, _ = report(
        capsys, str(broken), str(odd), str(missing), "--format", "json", "--lang", "en"
    )
    assert code == 0
    rows = json.loads(out)
    by = {(r["learner"], r["step"]): r for r in rows}
    assert ".learngpt/checks.json" in by["broken", 1]["problem"]
    assert ".learngpt/hints.json" in by["broken", 1]["problem"]
    assert by["broken", 1]["state"] == "unchecked" and by["broken", 5]["state"] == "not started"
    assert by["odd", 1]["state"] == by["odd", 2]["state"] == "unchecked"
    assert ".learngpt/checks.json" in by["odd", 1]["problem"] and by["odd", 1]["lang"] == "ko"
    assert ".learngpt/workspace.json" in by["odd", 1]["problem"]
    assert by["missing", None]["state"] == "not a workspace"

    for args in (
        [str(people["notes"])],
        [str(missing)],
        [str(root), "--by-step", "9-7"],
        [str(root), "--verify", "--jobs", "0"],
        [str(root), "--verify", "--timeout", "-1"],
    ):
        code, out, err = report(capsys, *args, "--lang", "en")
        assert code == 2 and out == "", args
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_learners_in_team_folders_are_found_and_told_apart(klass, tmp_path, capsys):
    _, people = klass
    for team in ("team1", "team2"):
        shutil.copytree(people["carol"], tmp_path / "week2" / team / "carol")
    shutil.copytree(people["alice"], tmp_path / "week2" / "team1" / "alice")
    code, out, _ = report(capsys, str(tmp_path / "week2"), "--format", "json", "--step", "1")
    assert [r["learner"] for r in json.loads(out)] == ["alice", "team1/carol", "team2/carol"]


def test_thirty_workspaces_are_reported_in_under_5_seconds(klass, tmp_path, capsys):
    """The report reads files only (bench/class_report.py prints the figure)."""
    _, people = klass
    for i in range(30):
        shutil.copytree(people["alice" if i % 2 else "bob"], tmp_path / f"learner{i:02}")
    started = time.perf_counter()
    learners = classreport.collect([tmp_path], [s.number for s in STEPS], "en")
    rendered = classreport.render(learners, [s.number for s in STEPS], "en", "table")
    seconds = time.perf_counter() - started
    assert len(learners) == 30 and "learner29" in rendered
    assert seconds < 5, f"{seconds:.1f} s"
    code, out, _ = report(capsys, str(tmp_path), "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 1 + 30 * len(STEPS)
