"""The check's own explanations of a failed test: out of time, a file that can't be loaded, the
named mistakes. (`check.reason` explains the rest: TODOs, assertions, errors.)"""

from __future__ import annotations

from learngpt.exercises.catalog import text
from learngpt.exercises.syllabus import get_todo


def timeout(record: dict, lang: str, step: int) -> str:
    """Most likely a loop that never ends, so that first, with where the code was; a slow
    computer only as the alternative."""
    seconds = f"{record.get('seconds', 0):g}"
    if not record.get("where"):
        lines = [text("check.timeout_outside", lang, seconds=seconds)]
    else:
        lines = [text("check.timeout", lang, seconds=seconds),
                 text("check.timeout_where", lang, where=record["where"])]  # fmt: skip
        if record.get("code"):
            lines.append(f"    {record['code'].strip()}")
        if len(record.get("frames", [])) > 1:
            lines.append(text("check.timeout_frames", lang, frames=" -> ".join(record["frames"])))
    lines.append(text("check.timeout_more", lang, step=step))
    return "\n".join(lines)


def load(record: dict, lang: str) -> str:
    """A learner file that can't be loaded: the error, the file and line, the code and a caret."""
    lines = [text("check.load", lang, file=record["file"], line=record["line"],
                  error=record["message"])]  # fmt: skip
    if record.get("code"):
        lines.append(f"    {record['code']}")
        if record.get("caret"):
            lines.append(f"    {record['caret']}")
    lines.append(text("check.load_only", lang, file=record["file"]))
    return "\n".join(lines)


def special(record: dict, lang: str, step: int) -> str | None:
    """The explanation of a timeout or a load failure; None for the other kinds."""
    if record.get("kind") == "timeout":
        return timeout(record, lang, step)
    if record.get("kind") == "load":
        return load(record, lang)
    return None


def mistake_line(key: str, lang: str, step: int) -> str:
    """ "likely mistake: ..." with the file it is in, and its step when that is an earlier one."""
    todo = get_todo(key.split(".")[0])  # a mistake's key is <TODO>.<name>
    mistake = text(f"mistakes.{key}", lang)
    if todo.step == step:
        return text("check.mistake", lang, file=todo.file, mistake=mistake)
    return text("check.mistake_earlier", lang, file=todo.file, step=todo.step, mistake=mistake)


def with_mistakes(keys: list[str], why: str, lang: str, step: int) -> str:
    """`why`, after one line for each named mistake the diagnosis found."""
    return "\n".join([*(mistake_line(key, lang, step) for key in keys), why])
