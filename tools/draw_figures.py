"""Draw the course's seven figures in every language: `.venv/bin/python tools/draw_figures.py`.

A development-time step (the PNGs ship in the package, so no learner needs the fonts): each
language's figures go to learngpt/assets/course/<lang>/img/, and the English ones also to
docs/course/img/ under the names the course's own Markdown uses. The Korean labels need a Hangul
font: `.venv/bin/pip install 'koreanize-matplotlib>=0.1.1'` (or `pip install '.[figures]'`).
The drawing itself is learngpt/figures.py.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from learngpt.exercises.catalog import LANGS
from learngpt.figures import DOCS_NAMES, FontMissing, draw_all, img_folder

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang", choices=LANGS, action="append", help="only this language (repeatable)"
    )
    parser.add_argument(
        "--out", type=Path, help="draw into OUT/<lang>/ instead of the package's assets"
    )
    parser.add_argument(
        "--docs", type=Path, default=ROOT / "docs" / "course" / "img",
        help="where the English figures are copied under the course's names (default %(default)s)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for lang in args.lang or LANGS:
        try:
            drawn = draw_all(args.out / lang if args.out else img_folder(lang), lang)
        except FontMissing as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        for path in drawn:
            print(path)
            if lang == "en":
                args.docs.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, args.docs / DOCS_NAMES[path.name])
                print(f"  -> {args.docs / DOCS_NAMES[path.name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
