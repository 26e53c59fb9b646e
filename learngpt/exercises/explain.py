"""The check's own explanations of a failed test: out of time, a file that can't be loaded, a
named mistake. (`check.reason` explains the rest: TODOs, assertions, errors.)"""

from __future__ import annotations

from learngpt.exercises.catalog import text


def timeout(record: dict, lang: str) -> str:
    lines = [text("check.timeout", lang, seconds=f"{record.get('seconds', 0):g}")]
    if record.get("where"):
        lines.append(text("check.timeout_where", lang, where=record["where"]))
        if record.get("code"):
            lines.append(f"    {record['code'].strip()}")
        if len(record.get("frames", [])) > 1:
            lines.append(text("check.timeout_frames", lang, frames=" -> ".join(record["frames"])))
    else:
        lines.append(text("check.timeout_outside", lang))
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


def special(record: dict, lang: str) -> str | None:
    """The explanation of a timeout or a load failure; None for the other kinds."""
    if record.get("kind") == "timeout":
        return timeout(record, lang)
    if record.get("kind") == "load":
        return load(record, lang)
    return None


def with_mistake(record: dict, why: str, lang: str) -> str:
    """`why`, after the named mistake the diagnosis found, if it found one."""
    key = record.get("mistake")
    if not key:
        return why
    return text("check.mistake", lang, mistake=text(f"mistakes.{key}", lang)) + "\n" + why
