"""``cloud-analytics audit``: follow every record from landing to Cassandra and check that
nothing was lost or counted twice.

For each source (the seven CSVs and the usage events) the audit counts the records at every
stage, from sources that do not trust one another:

- **landing**: the files themselves, read with Python (the ``csv`` module, or the raw lines
  of the JSONL files), never Spark's or the ingest's own numbers;
- **bronze**, **rejects** (``bronze/csv_rejects``, ``bronze/usage_events_rejects``),
  **quarantine** (``<lake>/quarantine/<table>``, by rule id), **silver** and **gold**: the
  Delta tables, one aggregation pass per table;
- **duplicates removed**: for CSVs recomputed from the file (exact copies of a valid line);
  for events the stream's ledger (``bronze/_usage_events_ledger``), whose listed files are
  also what the landing lines are counted over;
- **cassandra**: the serving tables read back with the driver, one query per partition.

and checks each conservation law, in this order (the first that fails is named):

1. ``landing = bronze + rejects + duplicates`` per source: snapshot CSVs on their latest
   snapshot partition, billing over every month, events over every ingested file;
2. ``bronze = silver + quarantine`` per silver table, on the same window;
3. ``gold = silver``: the marts' counts and exact money sums equal silver's (events and cost
   of the usage marts, GenAI events/tokens/cost, invoices and revenue, tickets opened, the
   snapshot summaries' record counts, customer_360's orgs);
4. ``cassandra = gold`` per serving table: row count and a money (or count) total, and for
   ``org_daily_usage`` the event count.

Speed-layer rows (``source = 'speed'`` in ``org_daily_usage`` and ``genai_by_org_day``) are
provisional: they cover dates the batch layer has not loaded yet and are replaced by batch
rows later, so they have no gold counterpart. Cassandra is compared with gold on
``source = 'batch'`` rows only; speed rows are reported apart as "speed (provisional)".

Adding a table: a serving table is picked up from ``serving.assets.TABLES`` (give it an entry
in ``SERVING_AUDITS`` for a money total, otherwise rows are compared); a gold law is one
``GoldLaw`` in ``gold_laws``; a source is one entry of ``SOURCES``.

``table_fingerprints`` (used by the idempotence test) gives every lake table and serving table
a row count and an order-independent checksum without the columns a run stamps (``ingest_ts``,
``loaded_at``, ...), so two runs over the same input can be compared exactly.
"""

from __future__ import annotations

import csv
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any, Callable
from urllib.parse import unquote

from cloud_analytics.bronze.schemas import CSV_SOURCES, EVENTS_DIR, CsvSource
from cloud_analytics.config import Settings

STAGES = ("landing", "bronze", "rejects", "duplicates", "quarantine", "silver", "gold", "cassandra")
EVENTS = "usage_events"
SOURCES: tuple[str, ...] = (*[s.name for s in CSV_SOURCES], EVENTS)
NOTHING_TO_AUDIT = "nothing to audit: run the pipeline first"
LAKE_LAYERS = ("bronze", "silver", "gold", "quarantine")
# Columns a run stamps with its own time (or a date derived from it): never part of a
# fingerprint, since two runs over the same input differ there by design.
VOLATILE_COLUMNS = frozenset({"ingest_ts", "loaded_at", "ledger_date", "reject_date", "state_date", "late_date"})
PARALLEL_JOBS = 4  # Spark jobs in flight at once: small aggregations, so planning overlaps


# -- the report ---------------------------------------------------------------------------


@dataclass
class Law:
    name: str
    ok: bool
    detail: str


@dataclass
class ServingFigures:
    """One serving table: gold's side and Cassandra's (batch rows; speed rows apart)."""

    table: str
    mart: str
    total_column: str | None
    gold_rows: int | None = None
    gold_total: Any = None
    cassandra_rows: int | None = None
    cassandra_total: Any = None
    speed_rows: int = 0
    speed_total: Any = None
    extras: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # column -> (gold, cassandra)
    missing: str | None = None  # why one side could not be read


@dataclass
class AuditReport:
    laws: list[Law]
    counts: dict[str, dict[str, int | None]] = field(default_factory=dict)
    windows: dict[str, str] = field(default_factory=dict)
    quarantine_rules: dict[str, dict[str, int]] = field(default_factory=dict)
    gold: list[dict[str, Any]] = field(default_factory=list)
    serving: list[ServingFigures] = field(default_factory=list)
    speed_delta: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    lake: str = ""
    keyspace: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(law.ok for law in self.laws)

    @property
    def failures(self) -> list[Law]:
        return [law for law in self.laws if not law.ok]

    @property
    def first_failure(self) -> Law | None:
        return next((law for law in self.laws if not law.ok), None)

    def to_json(self) -> dict:
        return _plain({
            "ok": self.ok,
            "lake": self.lake,
            "keyspace": self.keyspace,
            "seconds": round(self.seconds, 1),
            "first_failure": self.first_failure.name if self.first_failure else None,
            "counts": self.counts,
            "windows": self.windows,
            "quarantine_by_rule": self.quarantine_rules,
            "gold": self.gold,
            "serving": [
                {"table": s.table, "mart": s.mart, "total_column": s.total_column, "gold_rows": s.gold_rows,
                 "cassandra_rows": s.cassandra_rows, "gold_total": s.gold_total,
                 "cassandra_total": s.cassandra_total,
                 "speed_provisional": {"rows": s.speed_rows, "total": s.speed_total},
                 "extras": {k: {"gold": g, "cassandra": c} for k, (g, c) in s.extras.items()},
                 "missing": s.missing}
                for s in self.serving
            ],
            "speed_delta_tables": self.speed_delta,
            "laws": [{"name": law.name, "ok": law.ok, "detail": law.detail} for law in self.laws],
            "notes": self.notes,
        })

    def render(self) -> str:
        out: list[str] = []
        where = self.lake + (f", keyspace {self.keyspace}" if self.keyspace else ", serving skipped")
        out.append(f"audit of {where} ({self.seconds:.1f} s)")
        if not self.counts:
            out += [law.detail for law in self.failures]
            return "\n".join(out)
        out.append("")
        head = ["source", "window", *STAGES]
        rows = [[source, self.windows.get(source, ""), *[_fmt(self.counts[source].get(s)) for s in STAGES]]
                for source in self.counts]
        out += _table(head, rows, {0, 1})
        fired = {t: r for t, r in self.quarantine_rules.items() if r}
        if fired:
            out.append("quarantine by rule: " + "; ".join(
                f"{t} " + ", ".join(f"{rule} {n:,}" for rule, n in sorted(r.items())) for t, r in fired.items()))
        if self.serving:
            out.append("")
            out.append("serving: Cassandra (source = batch) against gold; speed rows are provisional, not compared")
            head = ["table", "gold rows", "cassandra rows", "total of", "gold total", "cassandra total",
                    "speed (provisional)"]
            rows = [[s.table, _fmt(s.gold_rows), _fmt(s.cassandra_rows), s.total_column or "-", _fmt(s.gold_total),
                     _fmt(s.cassandra_total), f"{s.speed_rows:,} rows" + (f", {_fmt(s.speed_total)}"
                                                                         if s.speed_rows else "")]
                    for s in self.serving]
            out += _table(head, rows, {0, 3})
        if self.speed_delta:
            out.append("speed (provisional) Delta tables: " + ", ".join(
                f"{t} {n:,} rows" for t, n in sorted(self.speed_delta.items())))
        out.append("")
        out.append("laws")
        for law in self.laws:
            out.append(f"  {'ok  ' if law.ok else 'FAIL'}  {law.name}: {law.detail}")
        for note in self.notes:
            out.append(f"note: {note}")
        out.append("")
        if self.ok:
            out.append(f"audit: all {len(self.laws)} laws hold")
        else:
            first = self.first_failure
            out.append(f"audit FAILED: {len(self.failures)} of {len(self.laws)} laws broken; "
                       f"first: {first.name}: {first.detail}")
        return "\n".join(out)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value == value.quantize(Decimal("0.01")) else f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}"
    return str(value)


def _table(head: list[str], rows: list[list[str]], left: set[int]) -> list[str]:
    """Plain-text columns: ``left`` ones left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return [line(head), line(["-" * w for w in widths]), *[line(r) for r in rows]]


# -- independent landing counts (Python only) --------------------------------------------------


@dataclass(frozen=True)
class CsvLanding:
    records: int  # data lines of the file (header excluded), by the csv module
    invalid: int  # lines that cannot be rows (wrong width, undecodable, no key, unusable month)
    duplicates: int  # valid lines that exactly repeat an earlier valid line


def csv_landing(path: Path, source: CsvSource, month_floor: date | None = None) -> CsvLanding:
    """Count a landing CSV with the csv module alone, applying the documented bronze contract
    (README "Bronze: what is guaranteed"): a line is invalid when its width differs from the
    header's, it holds bytes that are not UTF-8, a key column is empty, or (month-partitioned
    sources) its month is not a date or is before ``month_floor``; exact copies of a valid line
    are duplicates."""
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
    """The files the stream reads: ``*.jsonl`` not hidden (``.x`` and ``_x`` are skipped, like
    temporary files being written)."""
    if not events_dir.is_dir():
        return []
    return sorted(p for p in events_dir.glob("*.jsonl") if p.is_file() and not p.name.startswith((".", "_")))


# -- reading the lake ---------------------------------------------------------------------------------


def delta_tables(settings: Settings, layer: str) -> list[str]:
    """Names of the Delta tables directly under ``<lake>/<layer>``."""
    folder = Path(settings.lake) / layer
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "_delta_log").is_dir())


class _Lake:
    def __init__(self, settings: Settings, spark):
        self.settings = settings
        self.spark = spark

    def path(self, layer: str, table: str) -> str:
        return self.settings.layer_path(layer, table)

    def exists(self, layer: str, table: str) -> bool:
        return (Path(self.path(layer, table)) / "_delta_log").is_dir()

    def read(self, layer: str, table: str):
        return self.spark.read.format("delta").load(self.path(layer, table)) if self.exists(layer, table) else None


def _run_parallel(tasks: dict[str, Callable[[], Any]], workers: int = PARALLEL_JOBS) -> dict[str, Any]:
    """Run small Spark jobs from a few threads (the driver plans one while another runs)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: future.result() for name, future in futures.items()}


# -- gold laws ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldLaw:
    """``gold`` measures of a mart must equal ``silver`` measures; both are plain values
    computed by the gather step (None: the table is missing)."""

    mart: str
    what: str
    gold: dict[str, Any]
    silver: dict[str, Any]
    against: str = "silver"


def _equal(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return a == b


# -- the audit ----------------------------------------------------------------------------------------------


def run_audit(settings: Settings, spark=None, cassandra_session=None, include_serving: bool = True) -> AuditReport:
    """Count every source at every stage and check the conservation laws (see the module doc).

    ``spark``: defaults to ``resources.spark.get_spark(settings)``. ``cassandra_session``: a
    driver session on the serving keyspace; when None and ``include_serving``, one is opened
    with ``CassandraResource.from_settings(settings).session()`` (an unreachable node raises
    ``CassandraUnavailableError`` naming host:port). An empty lake gives a report whose only
    (failed) law says there is nothing to audit.
    """
    started = time.monotonic()
    if not delta_tables(settings, "bronze"):
        report = AuditReport(laws=[Law("lake has tables", False,
                                       f"{NOTHING_TO_AUDIT} (no Delta table under {Path(settings.lake) / 'bronze'})")],
                             lake=str(settings.lake))
        report.seconds = time.monotonic() - started
        return report
    if include_serving and cassandra_session is None:
        from cloud_analytics.resources.cassandra import CassandraResource

        with CassandraResource.from_settings(settings).session() as session:
            return run_audit(settings, spark, session, include_serving)
    if cassandra_session is not None and include_serving and not getattr(cassandra_session, "keyspace", None):
        cassandra_session.set_keyspace(settings.cassandra_keyspace)
    if spark is None:
        from cloud_analytics.resources.spark import get_spark

        spark = get_spark(settings)
    report = _Audit(settings, spark, cassandra_session if include_serving else None).run()
    report.seconds = time.monotonic() - started
    return report


class _Audit:
    def __init__(self, settings: Settings, spark, session):
        self.settings = settings
        self.lake = _Lake(settings, spark)
        self.session = session
        self.laws: list[Law] = []
        self.notes: list[str] = []

    # -- gather: one Spark job per table, run a few at a time ------------------------------------

    def _tasks(self) -> dict[str, Callable[[], Any]]:
        from pyspark.sql import functions as F

        lake = self.lake
        exact = "decimal(18,6)"
        tasks: dict[str, Callable[[], Any]] = {}

        def collect(layer, table, build):
            def task():
                df = lake.read(layer, table)
                return None if df is None else build(df)
            return task

        def by(col, *aggs):
            """{partition value: Row} of a grouped aggregate (a handful of rows)."""
            return lambda df: {r[0]: r for r in df.groupBy(col).agg(F.count(F.lit(1)).alias("rows"), *aggs).collect()}

        for source in CSV_SOURCES:
            tasks[f"bronze/{source.name}"] = collect("bronze", source.name, by(source.partition_column))
            silver_aggs = []
            if source.name == "billing_monthly":
                silver_aggs = [F.sum(F.col("total_usd").try_cast("decimal(18,2)")).alias("total_usd")]
            tasks[f"silver/{source.name}"] = collect("silver", source.name, by(source.partition_column, *silver_aggs))
        for table in SOURCES:
            tasks[f"quarantine/{table}"] = collect("quarantine", table, lambda df: {
                (r["partition_date"], r["rule_id"]): r["n"]
                for r in df.groupBy("partition_date", "rule_id").agg(F.count(F.lit(1)).alias("n")).collect()})
        tasks["bronze/csv_rejects"] = collect("bronze", "csv_rejects", lambda df: {
            (r["source"], r["partition_key"]): r["n"]
            for r in df.groupBy("source", "partition_key").agg(F.count(F.lit(1)).alias("n")).collect()})
        tasks["bronze/usage_events"] = collect("bronze", EVENTS, lambda df: df.count())
        tasks["bronze/usage_events_rejects"] = collect("bronze", "usage_events_rejects", lambda df: df.count())
        tasks["bronze/_usage_events_ledger"] = collect("bronze", "_usage_events_ledger", lambda df: df.agg(
            F.sum(F.col("duplicates_in_batch") + F.col("duplicates_existing")).alias("duplicates"),
            F.array_distinct(F.flatten(F.collect_list("files"))).alias("files")).first())
        genai = F.col("service") == "genai"
        tasks["silver/usage_events"] = collect("silver", EVENTS, lambda df: df.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("cost_usd_increment").try_cast(exact)).alias("cost"),
            F.sum(F.when(genai, 1).otherwise(0)).alias("genai_events"),
            F.sum(F.when(genai, F.col("genai_tokens"))).alias("genai_tokens"),
            F.sum(F.when(genai, F.col("cost_usd_increment").try_cast(exact))).alias("genai_cost")).first())

        def gold(mart, *aggs, group=None):
            base = [F.count(F.lit(1)).alias("rows"), *aggs]
            if group:
                return collect("gold", mart, lambda df: {r[0]: r for r in df.groupBy(group).agg(*base).collect()})
            return collect("gold", mart, lambda df: df.agg(*base).first())

        tasks["gold/org_daily_usage_by_service"] = gold(
            "org_daily_usage_by_service", F.sum("event_count").alias("events"),
            F.sum("daily_cost_usd_exact").alias("cost"), F.sum("daily_cost_usd").alias("daily_cost_usd"))
        for mart in ("usage_daily_by_service_region", "usage_hourly_by_service_region"):
            tasks[f"gold/{mart}"] = gold(mart, F.sum("event_count").alias("events"),
                                         F.sum("cost_usd_exact").alias("cost"))
        tasks["gold/genai_tokens_by_org_date"] = gold(
            "genai_tokens_by_org_date", F.sum("genai_event_count").alias("events"),
            F.sum("genai_tokens").alias("tokens"), F.sum("recorded_cost_usd_exact").alias("cost"),
            F.sum("recorded_cost_usd").alias("recorded_cost_usd"))
        tasks["gold/cost_anomaly_mart"] = gold("cost_anomaly_mart", F.sum("daily_cost_usd_exact").alias("cost"),
                                               F.sum("daily_cost_usd").alias("daily_cost_usd"))
        tasks["gold/revenue_by_org_month"] = gold("revenue_by_org_month", F.sum("invoice_count").alias("invoices"),
                                                  F.sum("total_usd").alias("total_usd"))
        tasks["gold/revenue_trend_monthly"] = gold("revenue_trend_monthly", F.sum("invoice_count").alias("invoices"),
                                                   F.sum("total_usd").alias("total_usd"))
        tasks["gold/tickets_by_org_date"] = gold("tickets_by_org_date", F.sum("opened").alias("opened"),
                                                 F.count_distinct("org_id", "date").alias("org_days"))
        tasks["gold/customer_360"] = gold("customer_360", F.sum(F.col("health_score").try_cast("double"))
                                          .alias("health_score"), group="as_of_date")
        tasks["gold/user_activity"] = gold("user_activity", F.sum("users").alias("records"), group="snapshot_date")
        tasks["gold/campaign_effectiveness"] = gold("campaign_effectiveness", F.sum("touches").alias("records"),
                                                    group="snapshot_date")
        tasks["gold/resource_utilization"] = gold(
            "resource_utilization", F.sum(F.when(F.col("in_inventory"), 1).otherwise(0)).alias("records"),
            group="snapshot_date")
        for name in delta_tables(self.settings, "speed"):
            tasks[f"speed/{name}"] = collect("speed", name, lambda df: df.count())
        for spec in self._serving_tables():
            if spec.name not in SERVING_AUDITS and self.session is not None:
                # A serving table without an audit entry: its rows, as the loader selects them.
                tasks[f"serving-gold/{spec.name}"] = collect("gold", spec.mart, lambda df, s=spec: s.select(df).count())
        return tasks

    def _serving_tables(self) -> list:
        from cloud_analytics.serving.assets import TABLES

        return list(TABLES)

    # -- evaluate ------------------------------------------------------------------------------------------------

    def run(self) -> AuditReport:
        facts = _run_parallel(self._tasks())
        report = AuditReport(laws=self.laws, notes=self.notes, lake=str(self.settings.lake),
                             keyspace=self.settings.cassandra_keyspace if self.session is not None else None)
        counts = {source: {stage: None for stage in STAGES} for source in SOURCES}
        report.counts = counts
        snapshots = self._csv_sources(facts, report)
        self._events(facts, report)
        self._silver(facts, report, snapshots)
        self._gold(facts, report, snapshots)
        report.speed_delta = {k.split("/", 1)[1]: v for k, v in facts.items() if k.startswith("speed/")}
        if self.session is not None:
            self._serving(facts, report)
        else:
            self.notes.append("serving skipped (--no-serving): Cassandra was not compared with gold")
        return report

    def _missing(self, name: str, table: str) -> None:
        self.laws.append(Law(name, False, f"{table} does not exist: run the pipeline"))

    def _csv_sources(self, facts: dict, report: AuditReport) -> dict[str, date | None]:
        """Law 1 for the CSV sources; returns each snapshot source's latest snapshot date."""
        from cloud_analytics.partitions import BILLING_START

        rejects = facts["bronze/csv_rejects"] or {}
        latest: dict[str, date | None] = {}
        for source in CSV_SOURCES:
            counts = report.counts[source.name]
            name = f"landing = bronze + rejects + duplicates: {source.name}"
            snapshot = source.partitioning == "snapshot"
            floor = None if snapshot else date.fromisoformat(BILLING_START)
            landing = csv_landing(Path(self.settings.landing) / source.file_name, source, floor)
            counts["landing"] = landing.records
            counts["duplicates"] = landing.duplicates
            bronze = facts[f"bronze/{source.name}"]
            if bronze is None:
                if snapshot:
                    latest[source.name] = None
                self._missing(name, f"bronze/{source.name}")
                continue
            if snapshot:
                day = max(bronze) if bronze else None
                latest[source.name] = day
                report.windows[source.name] = f"snapshot {day}"
                counts["bronze"] = bronze[day]["rows"] if day else 0
                counts["rejects"] = rejects.get((source.name, day.isoformat() if day else ""), 0)
            else:
                months = sorted(bronze)
                report.windows[source.name] = f"months {months[0]:%Y-%m}..{months[-1]:%Y-%m}" if months else "months"
                counts["bronze"] = sum(r["rows"] for r in bronze.values())
                counts["rejects"] = rejects.get((source.name, "invalid"), 0)
            balance = counts["bronze"] + counts["rejects"] + counts["duplicates"]
            self.laws.append(Law(name, landing.records == balance,
                                 f"{landing.records:,} landed = {counts['bronze']:,} bronze + {counts['rejects']:,} "
                                 f"rejects + {counts['duplicates']:,} duplicates ({report.windows[source.name]})"
                                 + ("" if landing.records == balance else
                                    f"; difference {landing.records - balance:+,}")))
        return latest

    def _events(self, facts: dict, report: AuditReport) -> None:
        counts = report.counts[EVENTS]
        name = f"landing = bronze + rejects + duplicates: {EVENTS}"
        report.windows[EVENTS] = "every event date"
        bronze, ledger = facts["bronze/usage_events"], facts["bronze/_usage_events_ledger"]
        if bronze is None or ledger is None:
            self._missing(name, "bronze/usage_events" if bronze is None else "bronze/_usage_events_ledger")
            return
        lake_root = Path(self.settings.lake)
        ingested = set()
        gone = []
        for listed in ledger["files"] or []:
            path = Path(listed) if listed.startswith("/") else lake_root / listed
            if not path.is_file() and Path(unquote(str(path))).is_file():
                path = Path(unquote(str(path)))
            if path.is_file():
                ingested.add(path.resolve())
            else:
                gone.append(listed)
        landed = landed_event_files(Path(self.settings.landing) / EVENTS_DIR)
        pending = [p for p in landed if p.resolve() not in ingested]
        counts["landing"] = sum(jsonl_lines(p) for p in sorted(ingested))
        counts["bronze"] = bronze
        counts["rejects"] = facts["bronze/usage_events_rejects"] or 0
        counts["duplicates"] = int(ledger["duplicates"] or 0)
        balance = counts["bronze"] + counts["rejects"] + counts["duplicates"]
        detail = (f"{counts['landing']:,} lines in {len(ingested)} ingested files = {bronze:,} bronze + "
                  f"{counts['rejects']:,} rejects + {counts['duplicates']:,} duplicates")
        if counts["landing"] != balance:
            detail += f"; difference {counts['landing'] - balance:+,}"
        if gone:
            detail += f"; {len(gone)} ingested file(s) no longer in landing, e.g. {gone[0]}"
        self.laws.append(Law(name, counts["landing"] == balance and not gone, detail))
        if pending:
            lines = sum(jsonl_lines(p) for p in pending)
            self.notes.append(f"{len(pending)} landed event file(s) ({lines:,} lines) not ingested yet, "
                              f"e.g. {pending[0].name}: the next stream run reads them")

    def _silver(self, facts: dict, report: AuditReport, snapshots: dict) -> None:
        """Law 2: bronze = silver + quarantine, per silver table, on the source's window."""
        for table in SOURCES:
            counts = report.counts[table]
            name = f"bronze = silver + quarantine: {table}"
            silver, quarantine = facts[f"silver/{table}"], facts[f"quarantine/{table}"]
            if counts["bronze"] is None:
                continue  # law 1 already says bronze is missing
            if silver is None:
                self._missing(name, f"silver/{table}")
                continue
            if table == EVENTS:
                window = None  # every date
                counts["silver"] = silver["rows"]
            elif table in snapshots:
                window = snapshots[table]
                counts["silver"] = silver[window]["rows"] if window in silver else 0
            else:  # billing: every month
                window = None
                counts["silver"] = sum(r["rows"] for r in silver.values())
            rules: dict[str, int] = {}
            for (day, rule), n in (quarantine or {}).items():
                if window is None or day == window:
                    rules[rule] = rules.get(rule, 0) + n
            report.quarantine_rules[table] = dict(sorted(rules.items()))
            counts["quarantine"] = sum(rules.values())
            ok = counts["bronze"] == counts["silver"] + counts["quarantine"]
            self.laws.append(Law(name, ok, f"{counts['bronze']:,} bronze = {counts['silver']:,} silver + "
                                           f"{counts['quarantine']:,} quarantined ({report.windows[table]})"
                                 + ("" if ok else f"; difference "
                                    f"{counts['bronze'] - counts['silver'] - counts['quarantine']:+,}")))

    def gold_laws(self, facts: dict, snapshots: dict) -> list[GoldLaw]:
        """Gold against silver (and one mart against another), as plain values."""
        ev = facts["silver/usage_events"]
        silver_events = None if ev is None else {"events": ev["rows"], "cost": ev["cost"]}
        laws = []
        for mart in ("org_daily_usage_by_service", "usage_daily_by_service_region", "usage_hourly_by_service_region"):
            g = facts[f"gold/{mart}"]
            laws.append(GoldLaw(mart, "events, exact cost", None if g is None else
                                {"events": g["events"] or 0, "cost": g["cost"]}, silver_events, "silver usage_events"))
        g = facts["gold/genai_tokens_by_org_date"]
        laws.append(GoldLaw("genai_tokens_by_org_date", "genai events, tokens, exact recorded cost",
                            None if g is None else
                            {"events": g["events"] or 0, "tokens": g["tokens"], "cost": g["cost"]},
                            None if ev is None else {"events": ev["genai_events"] or 0, "tokens": ev["genai_tokens"],
                                                     "cost": ev["genai_cost"]}, "silver usage_events (genai)"))
        g, base = facts["gold/cost_anomaly_mart"], facts["gold/org_daily_usage_by_service"]
        laws.append(GoldLaw("cost_anomaly_mart", "rows, exact cost",
                            None if g is None else {"rows": g["rows"], "cost": g["cost"]},
                            None if base is None else {"rows": base["rows"], "cost": base["cost"]},
                            "gold org_daily_usage_by_service"))
        billing = facts["silver/billing_monthly"]
        silver_billing = None if billing is None else {
            "invoices": sum(r["rows"] for r in billing.values()),
            "total_usd": sum((r["total_usd"] or Decimal(0) for r in billing.values()), Decimal(0))}
        for mart in ("revenue_by_org_month", "revenue_trend_monthly"):
            g = facts[f"gold/{mart}"]
            laws.append(GoldLaw(mart, "invoices, total USD", None if g is None else
                                {"invoices": g["invoices"] or 0, "total_usd": g["total_usd"] or Decimal(0)},
                                silver_billing, "silver billing_monthly"))

        def latest(table):
            day = snapshots.get(table)
            silver = facts[f"silver/{table}"]
            return day, (None if silver is None or day is None else (silver[day]["rows"] if day in silver else 0))

        day, tickets = latest("support_tickets")
        g = facts["gold/tickets_by_org_date"]
        laws.append(GoldLaw("tickets_by_org_date", "tickets opened",
                            None if g is None else {"records": g["opened"] or 0},
                            None if tickets is None else {"records": tickets}, f"silver support_tickets snapshot {day}"))
        day, orgs = latest("customers_orgs")
        g = facts["gold/customer_360"]
        newest = max(g) if g else None
        laws.append(GoldLaw("customer_360", f"orgs as of {newest}", None if g is None else
                            {"records": g[newest]["rows"] if newest else 0},
                            None if orgs is None else {"records": orgs}, f"silver customers_orgs snapshot {day}"))
        for mart, table in (("user_activity", "users"), ("campaign_effectiveness", "marketing_touches"),
                            ("resource_utilization", "resources")):
            day, rows = latest(table)
            g = facts[f"gold/{mart}"]
            laws.append(GoldLaw(mart, f"{table} records", None if g is None else
                                {"records": (g[day]["records"] or 0) if day in g else 0},
                                None if rows is None else {"records": rows}, f"silver {table} snapshot {day}"))
        return laws

    def _gold(self, facts: dict, report: AuditReport, snapshots: dict) -> None:
        """Law 3, and each source's gold count (its records as the marts count them)."""
        for law in self.gold_laws(facts, snapshots):
            name = f"gold = silver: {law.mart}"
            if law.gold is None:
                self._missing(name, f"gold/{law.mart}")
                continue
            if law.silver is None:
                continue  # the silver (or base) table's own law already failed
            ok = all(_equal(law.gold[k], law.silver.get(k)) for k in law.gold)
            detail = f"{law.what}: gold " + ", ".join(_fmt(v) for v in law.gold.values()) + \
                     f" = {law.against} " + ", ".join(_fmt(law.silver.get(k)) for k in law.gold)
            self.laws.append(Law(name, ok, detail))
            report.gold.append({"mart": law.mart, "measures": law.what, "gold": law.gold, "against": law.against,
                                "expected": law.silver, "ok": ok})
        by_mart = {g["mart"]: g["gold"] for g in report.gold}
        per_source = {EVENTS: ("org_daily_usage_by_service", "events"),
                      "support_tickets": ("tickets_by_org_date", "records"),
                      "customers_orgs": ("customer_360", "records"),
                      "billing_monthly": ("revenue_by_org_month", "invoices"),
                      "users": ("user_activity", "records"),
                      "marketing_touches": ("campaign_effectiveness", "records"),
                      "resources": ("resource_utilization", "records")}
        for source, (mart, measure) in per_source.items():
            if mart in by_mart:
                report.counts[source]["gold"] = by_mart[mart][measure]

    # -- serving ------------------------------------------------------------------------------------------------

    def _serving(self, facts: dict, report: AuditReport) -> None:
        """Law 4: Cassandra (batch rows) = gold, per serving table."""
        from cloud_analytics.resources.cassandra import CassandraResource

        target = CassandraResource.from_settings(self.settings).target
        c360 = facts["gold/customer_360"] or {}
        newest_as_of = max(c360) if c360 else None
        for spec in self._serving_tables():
            audit = SERVING_AUDITS.get(spec.name)
            figures = ServingFigures(spec.name, spec.mart, audit.total if audit else None)
            report.serving.append(figures)
            name = f"cassandra = gold: {spec.name}"
            if audit is not None:
                gold = facts.get(f"gold/{spec.mart}")
                if gold is not None:
                    figures.gold_rows, figures.gold_total = audit.gold_side(gold)
                    for column, value in audit.gold_extras(gold).items():
                        figures.extras[column] = (value, None)
            else:
                figures.gold_rows = facts.get(f"serving-gold/{spec.name}")
            if figures.gold_rows is None:
                figures.missing = f"gold/{spec.mart} does not exist"
                self._missing(name, f"gold/{spec.mart}")
                continue
            speed_capable = "source" in spec.columns
            columns = [audit.total, *audit.extras] if audit else []
            if speed_capable:
                columns.append("source")
            if spec.name == "customer_health_by_org":
                columns.append("as_of_date")  # the orgs served for the newest day
            try:
                served = read_serving(self.session, spec.name, spec.partition_key, columns, target)
            except ServingTableMissing as exc:  # the keyspace has no such table: serving never ran
                figures.missing = str(exc)
                self.laws.append(Law(name, False, f"{exc}: run the pipeline"))
                continue
            batch = [r for r in served if not speed_capable or r.get("source") == "batch"]
            speed = [r for r in served if speed_capable and r.get("source") == "speed"]
            unknown = len(served) - len(batch) - len(speed)  # neither layer wrote these
            figures.cassandra_rows = len(batch)
            figures.speed_rows = len(speed)
            if audit:
                figures.cassandra_total = _sum(r[audit.total] for r in batch)
                figures.speed_total = _sum(r[audit.total] for r in speed) if speed else None
                for column in audit.extras:
                    figures.extras[column] = (figures.extras[column][0], _sum(r[column] for r in batch))
            ok = figures.gold_rows == figures.cassandra_rows and (
                audit is None or _equal(_none_to_zero(figures.gold_total), _none_to_zero(figures.cassandra_total)))
            ok = ok and all(_equal(_none_to_zero(g), _none_to_zero(c)) for g, c in figures.extras.values())
            ok = ok and not unknown
            parts = [f"rows {figures.gold_rows:,} gold = {figures.cassandra_rows:,} cassandra"]
            if audit:
                parts.append(f"{audit.total} {_fmt(figures.gold_total)} = {_fmt(figures.cassandra_total)}")
            parts += [f"{column} {_fmt(g)} = {_fmt(c)}" for column, (g, c) in figures.extras.items()]
            if speed:
                parts.append(f"+ {len(speed):,} speed rows (provisional, not compared)")
            if unknown:
                parts.append(f"{unknown:,} rows whose source is neither batch nor speed")
            self.laws.append(Law(name, ok, "; ".join(parts)))
            if spec.name == "org_daily_usage":
                report.counts[EVENTS]["cassandra"] = _int(_sum(r["event_count"] for r in batch))
            elif spec.name == "tickets_by_org_day":
                report.counts["support_tickets"]["cassandra"] = _int(_sum(r["opened"] for r in batch))
            elif spec.name == "customer_health_by_org" and newest_as_of is not None:
                report.counts["customers_orgs"]["cassandra"] = sum(1 for r in batch if r["as_of_date"] is not None
                                                                   and _as_date(r["as_of_date"]) == newest_as_of)


def _as_date(value) -> date:
    """Driver dates come back as ``cassandra.util.Date`` (or ``date``)."""
    return value if isinstance(value, date) else value.date()


def _int(value) -> int | None:
    return None if value is None else int(value)


def _none_to_zero(value):
    return 0 if value is None else value


def _sum(values: Iterable) -> Any:
    """Exact sum of the non-null values (Decimal stays Decimal); None when there are none."""
    total = None
    for v in values:
        if v is None:
            continue
        total = v if total is None else total + v
    return total


@dataclass(frozen=True)
class ServingAudit:
    """How a serving table is compared with its gold mart: the Cassandra column summed
    (``total``) and its gold counterpart, plus extra summed columns (Cassandra name → gold
    column). ``rows`` is the gold measure giving the number of Cassandra rows expected."""

    total: str
    gold_total_key: str
    extras: dict[str, str] = field(default_factory=dict)
    rows_key: str = "rows"

    def gold_side(self, gold) -> tuple[int, Any]:
        totals = _ungroup(gold)
        return int(totals.get(self.rows_key) or 0), totals.get(self.gold_total_key)

    def gold_extras(self, gold) -> dict[str, Any]:
        totals = _ungroup(gold)
        return {column: totals.get(key) for column, key in self.extras.items()}


def _ungroup(gold) -> dict[str, Any]:
    """Gathered gold aggregates as one dict of totals (a grouped aggregate, {group: Row}, is
    summed over its groups)."""
    if isinstance(gold, dict):
        rows = [r.asDict() for r in gold.values()]
        return {k: _sum(r[k] for r in rows) for k in (rows[0] if rows else {})}
    return gold.asDict()


# The gold side reads the aggregates gathered per mart (see ``_Audit._tasks``).
SERVING_AUDITS: dict[str, ServingAudit] = {
    "org_daily_usage": ServingAudit("daily_cost_usd", "daily_cost_usd", {"event_count": "events"}),
    "genai_by_org_day": ServingAudit("recorded_cost_usd", "recorded_cost_usd"),
    "cost_anomalies_by_org": ServingAudit("daily_cost_usd", "daily_cost_usd"),
    "customer_health_by_org": ServingAudit("health_score", "health_score"),
    "tickets_by_org_day": ServingAudit("opened", "opened"),
    "tickets_by_day": ServingAudit("opened", "opened", rows_key="org_days"),
    "revenue_by_org": ServingAudit("total_usd", "total_usd"),
    "revenue_by_month": ServingAudit("total_usd", "total_usd"),
}


class ServingTableMissing(RuntimeError):
    """A serving table is not in the keyspace (serving never ran)."""


def _execute(session, statement, params, target: str):
    """Run one query, turning a lost connection into CassandraUnavailableError."""
    from cassandra import OperationTimedOut
    from cassandra.cluster import NoHostAvailable

    from cloud_analytics.resources.cassandra import CassandraUnavailableError

    try:
        return session.execute(statement, params)
    except (NoHostAvailable, OperationTimedOut) as exc:
        raise CassandraUnavailableError(f"Cannot reach Cassandra at {target} while auditing: {exc}") from None


def _table_exists(session, table: str) -> bool:
    def known() -> bool:
        meta = session.cluster.metadata.keyspaces.get(session.keyspace)
        return meta is not None and table in meta.tables
    if known():
        return True
    session.cluster.refresh_schema_metadata()  # created after this session connected?
    return known()


def read_serving(session, table: str, partition_key: str, columns: list[str], target: str) -> list[dict]:
    """The given columns of every row of ``table``, read one partition at a time (the
    partitions listed with ``SELECT DISTINCT``), as dicts."""
    from cassandra.concurrent import execute_concurrent_with_args

    if not _table_exists(session, table):
        raise ServingTableMissing(f"{session.keyspace}.{table} does not exist")
    partitions = [r[0] for r in _execute(session, f"SELECT DISTINCT {partition_key} FROM {table}", None, target)]
    select = ", ".join(dict.fromkeys([partition_key, *columns]))
    statement = session.prepare(f"SELECT {select} FROM {table} WHERE {partition_key} = ?")
    statement.fetch_size = 5000
    rows: list[dict] = []
    results = execute_concurrent_with_args(session, statement, [(p,) for p in partitions], concurrency=32,
                                           raise_on_first_error=False)
    for ok, result in results:
        if not ok:
            from cloud_analytics.resources.cassandra import CassandraUnavailableError

            raise CassandraUnavailableError(f"Cannot read {table} from Cassandra at {target}: {result}")
        rows.extend(r._asdict() for r in result)
    return rows


# -- fingerprints (idempotence) ------------------------------------------------------------------------------


def _canonical_columns(df) -> list:
    """Every non-volatile column as a hashable, run-independent expression: doubles to 12
    significant digits (a sum's last bits depend on the order Spark adds in), -0.0 as 0.0, maps
    as sorted entries, and ``raw_record`` JSON without the bronze ``ingest_ts`` it embeds."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType, MapType

    cols = []
    for f in df.schema.fields:
        if f.name in VOLATILE_COLUMNS:
            continue
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, (DoubleType, FloatType)):
            c = F.format_string("%.12g", c.cast("double") + F.lit(0.0))
        elif isinstance(f.dataType, MapType):
            c = F.array_sort(F.map_entries(c))
        elif f.name == "raw_record":
            c = F.regexp_replace(c, r'"ingest_ts":"[^"]*",?', "")
        cols.append(c)
    return cols


def delta_fingerprint(df) -> tuple[int, str]:
    from pyspark.sql import functions as F

    cols = _canonical_columns(df)
    row = df.agg(F.count(F.lit(1)).alias("n"),
                 F.sum(F.xxhash64(*cols).cast("decimal(20,0)")).alias("h")).first()
    return int(row["n"]), str(row["h"] or 0)


def _canonical_value(value) -> str:
    """Run-independent text of a driver value (maps and sets sorted, floats to 12 digits)."""
    if value is None:
        return "\u2205"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "%.12g" % (value + 0.0)
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value else "NaN"
    if isinstance(value, (str, bytes, int, date, datetime)):
        return str(value)
    if isinstance(value, Mapping):  # map columns (OrderedMapSerializedKey is not a dict)
        return "{" + ",".join(sorted(f"{_canonical_value(k)}:{_canonical_value(v)}" for k, v in value.items())) + "}"
    if isinstance(value, Iterable):  # list keeps its order; sets (SortedSet too) are sorted
        items = [_canonical_value(v) for v in value]
        return "[" + ",".join(items if isinstance(value, (list, tuple)) else sorted(items)) + "]"
    return str(value)


def cassandra_fingerprint(session, table: str) -> tuple[int, str]:
    """Rows and an order-independent checksum of a Cassandra table (without loaded_at; writetime
    is never read). Each row: its columns sorted by name, canonical text, 64-bit BLAKE2b."""
    statement = f"SELECT * FROM {table}"
    total = rows = 0
    result = session.execute(statement)
    for row in result:
        values = row._asdict()
        text = "|".join(f"{k}={_canonical_value(values[k])}" for k in sorted(values) if k not in VOLATILE_COLUMNS)
        total = (total + int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")) % (1 << 64)
        rows += 1
    return rows, f"{total:016x}"


def table_fingerprints(settings: Settings, spark, cassandra_session) -> dict[str, tuple[int, str]]:
    """(rows, checksum) of every Delta table under the lake's bronze, silver, gold and quarantine
    folders (keys ``<layer>/<table>``) and of every table of the serving keyspace (keys
    ``cassandra/<table>``; skipped when ``cassandra_session`` is None)."""
    tasks = {}
    for layer in LAKE_LAYERS:
        for table in delta_tables(settings, layer):
            path = settings.layer_path(layer, table)
            tasks[f"{layer}/{table}"] = lambda p=path: delta_fingerprint(spark.read.format("delta").load(p))
    prints = _run_parallel(tasks)
    if cassandra_session is not None:
        keyspace = cassandra_session.keyspace or settings.cassandra_keyspace
        cassandra_session.cluster.refresh_schema_metadata()
        for table in sorted(cassandra_session.cluster.metadata.keyspaces[keyspace].tables):
            prints[f"cassandra/{table}"] = cassandra_fingerprint(cassandra_session, f"{keyspace}.{table}")
    return dict(sorted(prints.items()))
