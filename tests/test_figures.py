"""The seven course figures in the learner's language (learngpt/figures.py, tools/draw_figures.py).

Each language's PNGs ship in the package, drawn once with a font that has the language's glyphs
(the PNG records which), so no test here needs the Hangul font: the shipped files are read, the
English ones are drawn again, and the Korean ones are refused where no font has their glyphs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import pytest
from PIL import Image

from learngpt import figures
from learngpt.exercises.catalog import LANGS
from learngpt.exercises.workspace import start
from learngpt.figures import DOCS_NAMES, LATIN_FONT, FontMissing, draw_all, drawn_with, img_folder
from learngpt.resources import asset

ROOT = Path(__file__).resolve().parent.parent
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"  # no Hangul


def shipped(lang: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in img_folder(lang).glob("*.png")}


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_ships_the_seven_figures_drawn_in_its_own_labels(lang):
    assert sorted(shipped(lang)) == sorted(DOCS_NAMES)
    for name in DOCS_NAMES:
        recorded = drawn_with(img_folder(lang) / name)
        assert recorded["lang"] == lang, name
        # Korean needs a font with Hangul: DejaVu Sans has none, and would have drawn boxes
        assert (recorded["font"] == LATIN_FONT) == (lang == "en"), (name, recorded)


def test_at_least_five_of_the_seven_figures_differ_between_languages():
    ko, en = shipped("ko"), shipped("en")
    assert sum(ko[name] != en[name] for name in DOCS_NAMES) >= 5


def test_the_course_text_in_docs_shows_the_english_figures_under_its_own_names():
    en = shipped("en")
    for name, docs_name in DOCS_NAMES.items():
        assert (ROOT / "docs" / "course" / "img" / docs_name).read_bytes() == en[name], docs_name


def test_a_workspace_gets_the_figures_of_its_language_and_the_answers_figures(tmp_path):
    answers = {p.name: p.read_bytes() for p in asset("course", "answers", "img").glob("*.png")}
    assert len(answers) >= 7
    for lang in LANGS:
        start(tmp_path / lang, lang=lang)
        copied = {p.name: p.read_bytes() for p in (tmp_path / lang / "img").glob("*.png")}
        assert copied == shipped(lang)
        answers_copied = (tmp_path / lang / "answers" / "img").glob("*.png")
        assert {p.name: p.read_bytes() for p in answers_copied} == answers


def test_the_answers_experiment_figures_are_the_ones_the_experiments_page_shows():
    for png in asset("course", "answers", "img").glob("experiment_*.png"):
        assert png.read_bytes() == (ROOT / "docs" / "img" / png.name).read_bytes(), png.name


def test_the_one_source_draws_the_english_figures_as_shipped(tmp_path):
    drawn = draw_all(tmp_path, "en")
    assert sorted(p.name for p in drawn) == sorted(DOCS_NAMES)
    for path in drawn:
        assert drawn_with(path) == {"lang": "en", "font": LATIN_FONT}
        with Image.open(path) as image, Image.open(img_folder("en") / path.name) as ship:
            # the same layout (a pixel's slack: another matplotlib may round a box differently)
            assert all(abs(a - b) <= 2 for a, b in zip(image.size, ship.size, strict=True))


def test_korean_figures_are_refused_without_a_font_that_has_their_glyphs(monkeypatch, tmp_path):
    monkeypatch.setattr(figures, "HANGUL_FONTS", [(None, str(tmp_path / "none.ttf"))])
    with pytest.raises(FontMissing, match="koreanize-matplotlib"):
        draw_all(tmp_path / "ko", "ko")
    monkeypatch.setattr(figures, "HANGUL_FONTS", [(None, str(DEJAVU))])
    with pytest.raises(FontMissing, match="no glyph for '.*입"):
        draw_all(tmp_path / "ko", "ko")
    assert not list(tmp_path.rglob("*.png"))  # nothing drawn with empty boxes


def draw_figures_tool():
    spec = importlib.util.spec_from_file_location(
        "draw_figures", ROOT / "tools" / "draw_figures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_the_tool_draws_into_a_folder_and_says_why_it_cannot(monkeypatch, tmp_path, capsys):
    main = draw_figures_tool()
    assert main(["--lang", "en", "--out", str(tmp_path), "--docs", str(tmp_path / "docs")]) == 0
    assert sorted(p.name for p in (tmp_path / "en").glob("*.png")) == sorted(DOCS_NAMES)
    assert sorted(p.name for p in (tmp_path / "docs").glob("*.png")) == sorted(DOCS_NAMES.values())
    monkeypatch.setattr(figures, "HANGUL_FONTS", [])
    assert main(["--lang", "ko", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Hangul font" in err[0]
