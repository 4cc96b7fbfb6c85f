"""Helpers of the fault-injection suite: small landing data, expectations computed in plain
Python from the landing files (never from the pipeline's own numbers), Dagster steps on the
isolated fault lake, and table fingerprints that survive a rewrite of the same content."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from cloud_analytics.lib.lake import table_path

# Eight UTC days across the v1 → v2 switch (v2 from 2025-07-18): every file keeps its
# 6 events a day on these days only, so a file holds 48 events.
EVENT_DAYS = tuple(f"2025-07-{d:02d}" for d in range(15, 23))
EVENTS_SUBDIR = "usage_events_stream"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


# -- landing ---------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Land a file as a producer must: a hidden temp name first, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def trim_events(events_dir: Path, keep_files: int, days: Iterable[str] = EVENT_DAYS) -> list[Path]:
    """Keep the first ``keep_files`` generated event files, each cut down to ``days``."""
    days = set(days)
    files = sorted(events_dir.glob("events_part_*.jsonl"))
    for extra in files[keep_files:]:
        extra.unlink()
    kept = files[:keep_files]
    for path in kept:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if json.loads(line)["timestamp"][:10] in days]
        write_atomic(path, "".join(line + "\n" for line in lines).encode())
    return kept


def templates(files: Iterable[Path], day: str, count: int, version: int | None = None) -> list[dict]:
    """Real generated events of ``day`` (known org, resource, domains) to copy from."""
    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["timestamp"][:10] == day and (version is None or event["schema_version"] == version):
                found.append(event)
                if len(found) == count:
                    return found
    raise AssertionError(f"only {len(found)} events of {day} in the generated files")


# -- expectations from the landing files alone -----------------------------------------------


def split_lines(data: bytes) -> list[str]:
    """The lines a text reader sees: UTF-8 (bad bytes replaced), \\n, \\r\\n or \\r breaks."""
    text = data.decode("utf-8", errors="replace")
    parts = _LINE_BREAK.split(text)
    if parts and parts[-1] == "":
        parts.pop()  # the break after the last line ends it; it does not start a new one
    return parts


def line_verdict(line: str) -> str | None:
    """Why a line cannot be stored (the reason's prefix), "blank", or None for a good event.

    Written from the contract (README, bronze section): a record is a JSON object with an
    event_id and an ISO-8601 timestamp."""
    if not line.strip():
        return "blank"
    if "\ufffd" in line:  # bytes that were not UTF-8 (split_lines replaced them)
        return "invalid_utf8"
    try:
        obj = json.loads(line)
    except ValueError:
        return "invalid_json"
    if not isinstance(obj, dict):
        return "invalid_json"
    if obj.get("event_id") is None or str(obj["event_id"]).strip() == "":
        return "missing_event_id"
    if obj.get("timestamp") is None or str(obj["timestamp"]).strip() == "":
        return "missing_timestamp"
    try:
        datetime.fromisoformat(str(obj["timestamp"]).strip())
    except ValueError:
        return "invalid_timestamp"
    return None


@dataclass
class Landed:
    """What a set of event files holds, counted line by line in Python."""

    lines: int = 0  # non-blank
    good: int = 0
    rejects: Counter = field(default_factory=Counter)
    ids: dict[str, str] = field(default_factory=dict)  # event_id -> event date (first copy)

    @property
    def duplicates(self) -> int:
        return self.good - len(self.ids)

    def ids_on(self, days: Iterable[str]) -> set[str]:
        days = set(days)
        return {i for i, d in self.ids.items() if d in days}


def landed(files: Iterable[Path]) -> Landed:
    out = Landed()
    for path in files:
        for line in split_lines(path.read_bytes()):
            verdict = line_verdict(line)
            if verdict == "blank":
                continue
            out.lines += 1
            if verdict:
                out.rejects[verdict] += 1
                continue
            out.good += 1
            event = json.loads(line)
            ts = datetime.fromisoformat(str(event["timestamp"]).strip())
            out.ids.setdefault(str(event["event_id"]).strip(), ts.date().isoformat())
    return out


# -- Delta tables ---------------------------------------------------------------------------


def read(spark, settings, layer: str, table: str) -> DataFrame:
    return spark.read.format("delta").load(table_path(str(settings.lake), layer, table))


def delta_versions(path: str | Path) -> list[int]:
    """Committed versions of a Delta table, from its log folder (no Spark involved)."""
    log = Path(path) / "_delta_log"
    if not log.is_dir():
        return []
    return sorted(int(p.name[:20]) for p in log.glob("*.json") if p.name[:20].isdigit())


def delta_tables(root: Path) -> list[Path]:
    """Every Delta table under ``root`` (a folder holding a ``_delta_log``)."""
    return sorted(p.parent for p in root.rglob("_delta_log") if p.is_dir())


def normalized(df: DataFrame, drop: Iterable[str] = ()) -> DataFrame:
    """Columns in name order; doubles rounded to 1e-6 (float sums may differ in the last
    bit between two runs over the same rows); maps as sorted JSON (maps cannot be compared)."""
    out = []
    for f in sorted(df.schema.fields, key=lambda f: f.name):
        if f.name in set(drop):
            continue
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, (T.DoubleType, T.FloatType)):
            c = F.round(c, 6)
        elif isinstance(f.dataType, T.MapType):
            c = F.to_json(F.array_sort(F.map_entries(c)))
        out.append(c.alias(f.name))
    return df.select(*out)


def fingerprint(df: DataFrame, drop: Iterable[str] = ()) -> tuple[int, int]:
    """(rows, order-insensitive sum of row hashes): equal for equal multisets of rows."""
    norm = normalized(df, drop)
    row = norm.select(F.xxhash64(*[F.col(f"`{c}`") for c in norm.columns]).alias("h")).agg(
        F.count(F.lit(1)).alias("n"), F.sum(F.col("h").cast("decimal(38,0)")).alias("s")).first()
    return int(row["n"]), int(row["s"] or 0)


# -- the audit ------------------------------------------------------------------------------

def law_landing(source: str) -> str:
    return f"landing = bronze + rejects + duplicates: {source}"


def law_silver(table: str) -> str:
    return f"bronze = silver + quarantine: {table}"


def law_gold(mart: str) -> str:
    return f"gold = silver: {mart}"


def law_serving(table: str) -> str:
    return f"cassandra = gold: {table}"


# The laws the fault lake (see conftest.fault_lake) must satisfy: its sources, silver tables,
# the usage mart and its Cassandra table.
FAULT_LAKE_LAWS = (
    *[law_landing(s) for s in ("customers_orgs", "resources", "usage_events")],
    *[law_silver(s) for s in ("customers_orgs", "resources", "usage_events")],
    law_gold("org_daily_usage_by_service"),
    law_serving("org_daily_usage"),
)

_NOT_BUILT = re.compile(r"^\S+ does not exist: run the pipeline$")


def assert_audit_passes(settings, spark, required: Iterable[str], include_serving: bool = True,
                        cassandra_session=None):
    """The platform's own audit (``cloud_analytics.audit``) holds on this lake.

    A fault lake builds only the tables its tests need, so the audit's laws about tables it
    never built fail with "<table> does not exist": those, and only those, are tolerated.
    ``required`` names the laws that must be evaluated and hold (the tables this lake has)."""
    from cloud_analytics.audit import run_audit

    report = run_audit(settings, spark=spark, cassandra_session=cassandra_session, include_serving=include_serving)
    laws = {law.name: law for law in report.laws}
    absent = [name for name in required if name not in laws]
    assert not absent, f"audit did not evaluate {absent}:\n" + report.render()
    broken = [law for law in report.laws if not law.ok and (law.name in required or not _NOT_BUILT.match(law.detail))]
    assert not broken, "audit failed: " + "; ".join(f"{law.name}: {law.detail}" for law in broken) \
        + "\n" + report.render()
    return report


def silver_day_prints(spark, settings, day: str) -> dict[str, tuple[int, int]]:
    """Fingerprints of one day of silver usage events, its quarantine and its rule counts."""
    return {
        "silver": fingerprint(read(spark, settings, "silver", "usage_events").filter(f"event_date = '{day}'")),
        "quarantine": fingerprint(read(spark, settings, "quarantine", "usage_events")
                                  .filter(f"partition_date = '{day}'")),
        "metrics": fingerprint(read(spark, settings, "quarantine", "dq_metrics")
                               .filter(f"table = 'usage_events' AND partition_date = '{day}'")),
    }
