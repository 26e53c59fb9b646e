"""--resume and a run's config.yaml: the run continues with the config its checkpoint holds, and
config.yaml is rewritten from it; an edit there would be lost without a word, so say so."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from learngpt.config import TrainConfig, config_from_dict
from learngpt.errors import UserError
from learngpt.fileio import read_text
from learngpt.runs import CONFIG, RunDir


def config_edit_warning(config_path: Path, saved: TrainConfig) -> str | None:
    """A one-line warning if `config_path` differs from the run's `saved` config (None if not)."""
    if not config_path.exists():
        return None
    ignored = "--resume continues with the config in the run's checkpoint and rewrites it"
    try:
        values = yaml.safe_load(read_text(config_path, "config file")) or {}
        if not isinstance(values, dict):
            raise UserError("not a mapping")
        edited = config_from_dict({**saved.to_dict(), **values}, TrainConfig)
    except (OSError, ValueError, UserError, yaml.YAMLError):
        return f"warning: {config_path} cannot be read as a config; {ignored}"
    before, after = saved.flat(), edited.flat()  # (the model's keys named one by one)
    changes = [(key, old, after[key]) for key, old in before.items() if after[key] != old]
    if not changes:
        return None
    shown = ", ".join(f"{key} {old!r} -> {new!r}" for key, old, new in changes[:3])
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return (
        f"warning: {config_path} differs from the checkpoint's config ({shown}{more}); "
        f"{ignored}: pass changes as flags (--KEY VALUE) or with --config FILE"
    )


def warn_config_edits(run_dir: RunDir, saved: TrainConfig) -> None:
    """Print config_edit_warning on stderr (the caller is the one process that should: rank 0)."""
    warning = config_edit_warning(run_dir.path / CONFIG, saved)
    if warning:
        print(warning, file=sys.stderr)
