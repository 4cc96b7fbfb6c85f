"""Import ``cloud_provider_challenge_dataset_v1.zip`` into the landing folder.

The zip holds the landing files under ``datalake/landing/`` (plus a README.txt at its root).
The seven CSVs and the ``usage_events_stream/*.jsonl`` files found there are copied into
``landing_dir``, each written to a hidden temp file and renamed, so a reader never sees a
half-written file. Landing is immutable: a file that already exists with the same bytes is
skipped (re-importing is a no-op); one with different bytes is refused before anything is
written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from cloud_analytics.landing.generator import EVENTS_DIR, EXPECTED_FILES

ZIP_PREFIX = "datalake/landing/"
_CHUNK = 1 << 20


class LandingImportError(Exception):
    """The zip is missing, unreadable, incomplete, or conflicts with the landing folder."""


def import_zip(zip_path: str | os.PathLike, landing_dir: str | os.PathLike) -> list[str]:
    """Extract the landing files of ``zip_path`` into ``landing_dir``.

    Returns the paths written, relative to ``landing_dir`` (POSIX style), in zip order;
    files already present with identical content are not listed."""
    path, landing = Path(zip_path), Path(landing_dir)
    if not path.is_file():
        raise LandingImportError(f"landing zip not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = _landing_members(archive, path)
            pending = [(rel, info) for rel, info in members
                       if not _same_as_existing(archive, info, landing / rel)]
            for rel, info in pending:
                _extract_atomic(archive, info, landing / rel)
    except zipfile.BadZipFile as exc:
        raise LandingImportError(f"{path} is not a readable zip file: {exc}") from exc
    return [rel for rel, _ in pending]


def _landing_members(archive: zipfile.ZipFile, path: Path) -> list[tuple[str, zipfile.ZipInfo]]:
    """(relative path, member) of the landing files; raise if any expected file is missing."""
    members = []
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(ZIP_PREFIX):
            continue
        rel = PurePosixPath(info.filename[len(ZIP_PREFIX):])
        is_csv = len(rel.parts) == 1 and rel.name in EXPECTED_FILES
        is_events = (len(rel.parts) == 2 and rel.parts[0] == EVENTS_DIR and rel.suffix == ".jsonl"
                     and not rel.name.startswith("."))
        if is_csv or is_events:
            members.append((str(rel), info))
    found = {rel for rel, _ in members}
    missing = [f"{ZIP_PREFIX}{name}" for name in EXPECTED_FILES if name not in found]
    if not any(rel.startswith(f"{EVENTS_DIR}/") for rel in found):
        missing.append(f"{ZIP_PREFIX}{EVENTS_DIR}/*.jsonl")
    if missing:
        raise LandingImportError(f"{path} is not a landing dataset zip; missing: {', '.join(missing)}")
    return members


def _digest(stream) -> str:
    sha = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


def _same_as_existing(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> bool:
    """False if ``target`` is absent; True if it holds the member's bytes; raise otherwise."""
    if not target.exists():
        return False
    if target.is_file() and target.stat().st_size == info.file_size:
        with archive.open(info) as member, open(target, "rb") as existing:
            if _digest(member) == _digest(existing):
                return True
    raise LandingImportError(
        f"refusing to overwrite {target} with different content from {info.filename} "
        "(landing files are immutable; move the existing file away to re-import)")


def _extract_atomic(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with archive.open(info) as member, open(tmp, "wb") as out:
            shutil.copyfileobj(member, out, _CHUNK)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
