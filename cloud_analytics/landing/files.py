"""What "a complete landed event file" is, in one place: the file sensor launches a stream run
for them, and the audit recounts their lines independently of the pipeline.

Producers write ``.name.tmp`` (or ``_name``) first and rename when done, so a hidden name is a
file still being written; only ``*.jsonl`` regular files count.
"""

from __future__ import annotations

from pathlib import Path


def is_complete_event_file(path: Path) -> bool:
    return path.suffix == ".jsonl" and not path.name.startswith((".", "_")) and path.is_file()


def complete_event_files(folder: Path) -> list[Path]:
    """The complete event files directly in ``folder``, sorted by path ([] when it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if is_complete_event_file(p))
