"""Bronze data-quality checks, computed independently of the ingest code they guard.

Landing counts come from Python's csv module (CSV) or a plain Spark text read of the files
the ledger lists (events), never from the numbers the ingest reported about itself.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.specs import CsvSource
from cloud_analytics.lib.windows import days_in


def landing_rows_in_window(path: Path, source: CsvSource, window: tuple[date, date]) -> int:
    """Records of the landing file that belong to the window, by the csv module alone."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        rows = [r for r in reader if r]
    if source.partitioning == "snapshot":
        return len(rows) * len(days_in(*window))
    col = header.index(source.partitioning) if source.partitioning in header else -1
    count = 0
    for row in rows:
        if len(row) != len(header) or any("\ufffd" in v for v in row):
            continue  # rejected as malformed: not part of any month
        try:
            month = date.fromisoformat(row[col].strip())
        except (ValueError, IndexError):
            continue
        count += window[0] <= month <= window[1]
    return count


def event_landing_rows(spark: SparkSession, files: list[str], lake_root: str) -> int:
    """Non-blank lines of the given landing files (paths relative to the lake or absolute)."""
    if not files:
        return 0
    paths = [f if f.startswith("/") or "://" in f else f"{lake_root.rstrip('/')}/{f}" for f in files]
    return spark.read.text(paths).filter(F.trim("value") != "").count()
