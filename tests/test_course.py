"""`learngpt course`: the workspace made from the reference, and the tools around it.

The course's tests live once, in the workspace (learngpt/assets/course/tests); here they run on
the answer key (`--solutions`), on deliberately different solutions (tests/course_alternatives),
on solutions in the styles learners write (tests/course_styles), and on workspaces with one step's
TODOs left, all with plain `pytest` as the course says.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from learngpt.commands import main
from learngpt.exercises.catalog import catalog, text
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, files_of, get_step, todos_of
from learngpt.exercises.workspace import start

ALTERNATIVES = Path(__file__).parent / "course_alternatives"
STYLES = Path(__file__).parent / "course_styles"
# The tests that train models: with the styles' code they compute what the answer key's does.
TRAINS = "helps or learns or beats"
FAILED = re.compile(r"^FAILED tests/test_(\d+)\.py::(\S+) - (.*)$", re.MULTILINE)


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *args, "-q", "-rf", "-p", "no:randomly",
            "-p", "no:cacheprovider"]  # fmt: skip


def run_two_at_a_time(jobs: dict) -> dict:
    """Run {key: (workspace, command)} as subprocesses, two at once (each uses one thread): the
    next starts as soon as one ends. Returns {key: (output, return code)}."""
    env = {**os.environ, "COLUMNS": "1000"}  # pytest's summary lines keep the whole message

    def run(key: str) -> tuple[str, int]:
        workspace, command = jobs[key]
        done = subprocess.run(command, cwd=workspace, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        return done.stdout, done.returncode

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


def number_pattern(key: str, lang: str) -> str:
    """A regex for the lines `numbers.<key>` prints: the template, each placeholder any text."""
    template = catalog(lang)[f"numbers.{key}"]
    return ".+?".join(re.escape(part) for part in re.split(r"\{[^}]*\}", template))


def leave_todos(workspace: Path, step: int) -> None:
    """Put back the TODOs of one step (the learner has not written them yet)."""
    for f in files_of(step):
        (workspace / "mygpt" / f.name).write_text(workspace_source(f, lang="en"), encoding="utf-8")


def test_the_answer_key_and_different_correct_solutions_pass_every_step(tmp_path):
    """Different solutions with plain `pytest` in the workspace, as the course runs its tests
    (the styles' without the trainings, which compute the answer key's functions); the (Korean)
    answer key with `learngpt course check --all`, which prints, for each passing step, what its
    tests measured (steps 1-6 too) and the course's questions (step 7: the cost question, both
    validation losses, parameters and FLOPs, Ver2's speed against Ver1's)."""
    answers, different, styles = tmp_path / "answers", tmp_path / "different", tmp_path / "styles"
    for workspace, solutions in ((answers, None), (different, ALTERNATIVES), (styles, STYLES)):
        start(workspace, solutions=True)
        for solution in solutions.glob("*.py") if solutions else ():
            shutil.copy(solution, workspace / "mygpt" / solution.name)
    assert len(list(ALTERNATIVES.glob("*.py"))) >= len(STEPS) + 1  # at least one per step
    # The alternatives in the multi-head claim's models (HeadVer4 by einsum, MultiHeadVer1 by
    # slices) create the reference's parameters in its order, so that claim's 2 x 5000 training
    # steps would repeat the answer key's up to rounding: skipped there, to save a minute.
    check_all = [sys.executable, "-m", "learngpt", "course", "check", "--all"]
    results = run_two_at_a_time({
        "answers": (answers, check_all),
        "different": (different, pytest_command("-k", "not test_multi_head_helps")),
        "styles": (styles, pytest_command("-k", f"not ({TRAINS})")),
    })  # fmt: skip
    for name, (out, returncode) in results.items():
        assert returncode == 0, f"{name}:\n{out[-3000:]}"
    for name in ("different", "styles"):
        out = results[name][0]
        assert re.search(r"\d+ passed", out) and "failed" not in out, out[-3000:]
    checked = results["answers"][0]
    assert checked.count(text("result.done", "ko")) == len(STEPS), checked[-3000:]
    measured = {  # what steps 1-6 print they measured, in Korean
        1: ["bigram"], 2: ["head_ver_1_learns"], 3: ["speedup"], 4: ["speedup"],
        5: ["score_variance", "softmax_peak", "attention_vs_average"], 6: ["encoding"],
    }  # fmt: skip
    for step, keys in measured.items():
        section = checked[checked.index(f"{step}단계: ") : checked.index(f"{step + 1}단계: ")]
        assert text("result.numbers", "ko") in section, section
        for key in keys:
            assert re.search(number_pattern(key, "ko"), section), (key, section)
    v4 = text(
        "numbers.encoding",
        "ko",
        version="v4",
        kept=", ".join(
            text(f"tests.6.props.{p}", "ko") for p in ("differs", "bounded", "length", "shift")
        ),
    )
    assert v4 in checked  # only v4 keeps all four
    step_7 = checked[checked.index("7단계: ") : checked.index("8단계: ")]
    assert get_step(7).questions("ko")[0] in step_7  # the cost question, in the course's words
    assert "파라미터: HeadVer4 768, MultiHeadVer1 1,040 (projection 272)" in step_7
    assert "행렬곱 FLOPs: HeadVer4 524,288, MultiHeadVer1 655,360" in step_7
    assert re.search(r"MultiHeadVer1 val loss \d\.\d{3} .*HeadVer4 val loss \d\.\d{3}", step_7)
    assert re.search(r"MultiHeadVer1 \d+ us, MultiHeadVer2 \d+ us: Ver2가 \d+\.\d\d배 빠름", step_7)


def test_each_step_fails_on_its_own_todo_until_it_is_written(tmp_path):
    """Steps 1..N-1 written (from the answer key), step N not: its tests fail on its TODOs.

    Never an ImportError or a crash elsewhere: the first failure is the NotImplementedError that
    carries the instruction of one of step N's TODOs. One workspace per step.
    """
    jobs = {}
    for step in STEPS:
        workspace = tmp_path / f"step{step.number}"
        start(workspace, solutions=True, lang="en" if step.number % 2 else "ko")
        leave_todos(workspace, step.number)
        jobs[step.number] = (workspace, pytest_command(f"tests/test_{step.number}.py", "-x"))
    for number, (out, returncode) in run_two_at_a_time(jobs).items():
        assert returncode == 1, out[-2000:]
        (failure,) = FAILED.findall(out)
        assert failure[2].startswith("NotImplementedError: TODO "), failure
        todo_id = failure[2].split()[2].rstrip(":")
        assert todo_id in {t.id for t in todos_of(number)}, failure


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_start_refuses_a_directory_in_use_and_changes_nothing(tmp_path, capsys):
    workspace = tmp_path / "ws"
    assert main(["course", "start", str(workspace), "--lang", "en"]) == 0
    gpt_v1 = workspace / "mygpt" / "gpt_v1.py"
    assert "raise NotImplementedError(" in gpt_v1.read_text()
    assert "TODO 1-1: Write `GPTVer1.generate`" in gpt_v1.read_text()  # English first
    gpt_v1.write_text(gpt_v1.read_text() + "# the learner's work\n")
    before = snapshot(workspace)
    capsys.readouterr()
    assert main(["course", "start", str(workspace)]) == 2  # Korean, as it was not told --lang en
    assert text("errors.not_empty", "ko", dir=workspace) in capsys.readouterr().err
    assert snapshot(workspace) == before
    # --force writes the course's files over the ones there, nothing else
    (workspace / "notes.txt").write_text("mine")
    assert main(["course", "start", str(workspace), "--force"]) == 0
    assert (workspace / "notes.txt").read_text() == "mine"
    assert "the learner's work" not in gpt_v1.read_text()
    assert "구현해주세요" in gpt_v1.read_text() and "Write" not in gpt_v1.read_text()  # ko only


def test_check_hint_solution_and_progress_walk_a_learner_through_step_3(tmp_path, capsys):
    start(tmp_path, solutions=True)
    leave_todos(tmp_path, 3)
    ws = ["--dir", str(tmp_path), "--lang", "en"]  # the workspace is Korean; --lang overrides
    assert main(["course", "check", "4", *ws]) == 1
    assert "finish step 3 first" in capsys.readouterr().out

    assert main(["course", "check", "3", *ws]) == 1
    out = capsys.readouterr().out
    assert "FAIL  test_head_ver_2_is_identical_to_head_ver_1" in out
    assert "TODO 3-1 is not written yet: Write `HeadVer2.forward`" in out
    assert "Traceback" not in out

    assert main(["course", "progress", *ws]) == 0
    progress = capsys.readouterr().out
    assert re.search(r"3-1\s+not started", progress)

    hints = []
    for _ in range(4):
        assert main(["course", "hint", "3", *ws]) == 0
        hints.append(capsys.readouterr().out)
    assert "hint 1/3" in hints[0] and "hint 2/3" not in hints[0]
    assert "hint 2/3" in hints[1] and "hint 3/3" in hints[2] and "solution 3" in hints[3]

    assert main(["course", "solution", "3"]) == 0
    answer = capsys.readouterr().out
    assert "torch.tril" in answer and "NotImplementedError" not in answer

    head_v2 = tmp_path / "mygpt" / "head_v2.py"
    head_v2.write_text(answer)
    assert main(["course", "check", "3", *ws]) == 0
    assert "step 3 done!" in capsys.readouterr().out
    assert main(["course", "progress", *ws]) == 0
    assert re.search(r"3-1\s+done", capsys.readouterr().out)


def test_check_explains_an_error_in_the_learners_code(tmp_path, capsys):
    start(tmp_path, solutions=True)
    head_v2 = tmp_path / "mygpt" / "head_v2.py"
    head_v2.write_text(head_v2.read_text().replace("wei @ x", "wei @ x.transpose(1, 2)"))
    assert main(["course", "check", "3", "--dir", str(tmp_path), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "your code raised RuntimeError" in out and "mygpt/head_v2.py" in out


def test_watch_rechecks_on_save_and_stops_cleanly_on_ctrl_c(tmp_path):
    start(tmp_path, solutions=True)
    leave_todos(tmp_path, 1)  # the current step is then step 1, which fails at once
    command = [sys.executable, "-m", "learngpt", "course", "watch", "--dir", str(tmp_path)]
    command += ["--lang", "en"]
    # A shell's background jobs ignore SIGINT, and children inherit that: restore the default,
    # as a terminal gives it, so that Python turns Ctrl-C into KeyboardInterrupt.
    watch = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watch.stdout), daemon=True)
    reader.start()

    def wait_for_checks(count: int) -> str:
        deadline = time.monotonic() + 120
        while "".join(lines).count("watching mygpt/") < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return "".join(lines)

    try:
        seen = wait_for_checks(1)
        assert "checking step 1" in seen and "TODO 1-1 is not written yet" in seen
        later = time.time() + 5  # a clearly newer mtime, as an editor's save makes
        os.utime(tmp_path / "mygpt" / "gpt_v1.py", (later, later))
        assert wait_for_checks(2).count("checking step 1") == 2
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=60)
        err = watch.stderr.read()
    assert watch.returncode in (0, 130)
    assert "Traceback" not in err
