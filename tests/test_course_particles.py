"""No "은(는)" in what the course says (issue 33, item 5): failing checks, damaged state and the
other commands of a Korean workspace, each particle chosen for the name before it."""

from __future__ import annotations

import shutil

import pytest

from learngpt.commands import main
from learngpt.exercises.workspace import start
from tests.test_catalog import FALLBACKS

HEAD_V2 = "mygpt/head_v2.py"
RETURN = "        return wei @ x"


@pytest.fixture(scope="module")
def answer_key(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("key") / "ws"
    start(workspace, lang="ko", solutions=True)
    return workspace


def said(argv: list[str], capsys) -> str:
    main(argv)
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_failing_checks_choose_their_particles(answer_key, tmp_path, capsys):
    outputs = {}
    broken = tmp_path / "broken"  # a syntax error: the file cannot be loaded
    shutil.copytree(answer_key, broken)
    (broken / HEAD_V2).write_text("def forward(:\n", encoding="utf-8")
    outputs["load"] = said(["course", "check", "3", "--dir", str(broken)], capsys)
    assert f"{HEAD_V2}를 불러올 수 없습니다" in outputs["load"]
    assert f"고칠 때까지 {HEAD_V2}를 사용하는 단계만 실패합니다" in outputs["load"]

    wrong = tmp_path / "wrong"  # twice the average: not HeadVer1's
    shutil.copytree(answer_key, wrong)
    head_v2 = wrong / HEAD_V2
    head_v2.write_text(head_v2.read_text().replace(RETURN, "        return 2 * (wei @ x)"))
    outputs["wrong"] = said(["course", "check", "3", "--dir", str(wrong)], capsys)
    assert "HeadVer2는 같은 입력에서" in outputs["wrong"]

    fresh = tmp_path / "fresh"
    start(fresh, lang="ko")
    for action in (["check"], ["progress"], ["hint"], ["answers"], ["solution"], ["reset", "1"],
                   ["restore"], ["restore", "--backup"]):  # fmt: skip
        outputs[" ".join(action)] = said(["course", *action, "--dir", str(fresh)], capsys)
    state = fresh / ".learngpt" / "workspace.json"
    state.write_text("[]")
    outputs["damaged"] = said(["course", "progress", "--dir", str(fresh)], capsys)
    assert f"{state}이 손상되었습니다" in outputs["damaged"]  # 제이슨이

    for name, out in outputs.items():
        assert not [f for f in FALLBACKS if f in out], (name, out)
