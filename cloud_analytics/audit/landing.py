"""The landing side of law 1, counted with Python alone (the ``csv`` module, the raw bytes of
the JSONL files), never with Spark's or the ingest's own numbers, so a bug in the ingest cannot
hide itself. Only the definition of a complete landed file is shared with the pipeline (the
file sensor's, ``landing.files``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote

from cloud_analytics.landing.files import complete_event_files


@dataclass(frozen=True)
class CsvLanding:
    records: int  # data lines of the file (header excluded), by the csv module
    invalid: int  # lines that cannot be rows (wrong width, undecodable, no key, unusable month)
    duplicates: int  # valid lines that exactly repeat an earlier valid line


def csv_landing(path: Path, source, month_floor: date | None = None) -> CsvLanding:
    """Count a landing CSV with the csv module alone, applying the documented bronze contract
    (README "Bronze: what is guaranteed"): a line is invalid when its width differs from the
    header's, it holds bytes that are not UTF-8, a key column is empty, or (month-partitioned
    sources) its month is not a date or is before ``month_floor``; exact copies of a valid line
    are duplicates. ``source``: the bronze CSV source (its ``key`` and ``partitioning``)."""
    if not path.is_file() or path.stat().st_size == 0:
        return CsvLanding(0, 0, 0)
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, None) or []]
        rows = [row for row in reader if row]
    keys = [header.index(k) for k in source.key if k in header]
    month = header.index(source.partitioning) if source.partitioning in header else None
    seen: set[tuple[str, ...]] = set()
    invalid = duplicates = 0
    for row in rows:
        bad = (len(row) != len(header) or any("\ufffd" in v for v in row)
               or any(row[k].strip(" ") == "" for k in keys))
        if not bad and month is not None:
            try:
                day = date.fromisoformat(row[month].strip(" "))
                bad = month_floor is not None and day < month_floor
            except ValueError:
                bad = True
        if bad:
            invalid += 1
        elif tuple(row) in seen:
            duplicates += 1
        else:
            seen.add(tuple(row))
    return CsvLanding(len(rows), invalid, duplicates)


def jsonl_lines(path: Path) -> int:
    """Non-blank lines of a landing JSONL file, from its bytes (lines end with \\n, \\r\\n or
    \\r, as Spark's text reader splits them; a line of spaces only is not a record)."""
    return sum(1 for line in path.read_bytes().splitlines() if line.strip(b" "))


def landed_event_files(events_dir: Path) -> list[Path]:
    """The files the stream reads: the complete landed event files (the sensor's definition)."""
    return complete_event_files(events_dir)


@dataclass(frozen=True)
class EventFiles:
    ingested: list[Path]  # files the stream's ledger lists that are still in landing (resolved)
    gone: list[str]  # files the ledger lists that are no longer there, as listed
    pending: list[Path]  # complete landed files no stream run has read yet


def event_files(listed: list[str], lake: Path | str, events_dir: Path) -> EventFiles:
    """Split the landed event files into ingested (listed by the ledger) and pending ones.
    Listed paths are absolute, or relative to a local lake (landing inside it), possibly URL-quoted."""
    ingested: set[Path] = set()
    gone: list[str] = []
    for name in listed:
        path = Path(name) if name.startswith("/") else Path(lake) / name
        if not path.is_file() and Path(unquote(str(path))).is_file():
            path = Path(unquote(str(path)))
        if path.is_file():
            ingested.add(path.resolve())
        else:
            gone.append(name)
    pending = [p for p in landed_event_files(events_dir) if p.resolve() not in ingested]
    return EventFiles(sorted(ingested), gone, pending)
