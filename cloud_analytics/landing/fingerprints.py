"""Content fingerprints of what landed, so a run can tell "nothing new" without Spark.

- A CSV file: SHA-256 of its bytes (the files are small; a renamed copy with the same bytes is
  the same content).
- A month-partitioned CSV (billing): one fingerprint per month partition, over the header and
  the lines whose month column falls in that month, in file order; lines whose month cannot be
  read share the ``invalid`` bucket, like the ingest's reject partition.
- The event folder: the listing of complete files (name, size, modification time). Landed event
  files are immutable once renamed into place (``landing.files``), and hashing gigabytes of
  JSON lines on every plan would cost more than the run it saves.

Fingerprints are short hex strings (16 characters) so they fit in a run tag.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Iterable

from cloud_analytics.landing.files import complete_event_files

MISSING = "missing"
INVALID = "invalid"
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})")
_CHUNK = 1 << 20


def _short(digest: "hashlib._Hash") -> str:
    return digest.hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes (``missing`` when there is no file)."""
    path = Path(path)
    if not path.is_file():
        return MISSING
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return _short(digest)


def files_fingerprint(paths: Iterable[Path]) -> str:
    """One fingerprint over several files' names and contents."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(f"{path.name}={file_fingerprint(path)};".encode())
    return _short(digest)


def listing_fingerprint(folder: Path) -> str:
    """The complete event files in ``folder``: names, sizes and modification times."""
    digest = hashlib.sha256()
    for path in complete_event_files(Path(folder)):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return _short(digest)


def month_fingerprints(path: Path, month_column: str) -> dict[str, str]:
    """``{"YYYY-MM-01": fingerprint}`` per month of ``month_column`` (``invalid`` for lines whose
    month cannot be read); ``{}`` for a missing or empty file."""
    path = Path(path)
    if not path.is_file():
        return {}
    raw = path.read_bytes()
    lines = raw.splitlines(keepends=True)
    if not lines:
        return {}
    header = lines[0]
    names = next(csv.reader([header.decode("utf-8", "replace")]), [])
    try:
        position = [n.strip() for n in names].index(month_column)
    except ValueError:
        return {INVALID: _short(hashlib.sha256(raw))}  # no month column: the ingest rejects every line
    digests: dict[str, "hashlib._Hash"] = {}
    for line in lines[1:]:
        fields = next(csv.reader(io.StringIO(line.decode("utf-8", "replace"))), [])
        value = fields[position] if position < len(fields) else ""
        match = _MONTH.match(value)
        month = f"{match.group(1)}-{match.group(2)}-01" if match else INVALID
        if month not in digests:
            digests[month] = hashlib.sha256(header)
        digests[month].update(line)
    return {month: _short(digest) for month, digest in sorted(digests.items())}
