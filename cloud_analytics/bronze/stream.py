"""Streaming ingestion of usage events into bronze: Structured Streaming, exactly once.

The run itself (availableNow trigger, checkpoint, replays, idempotent appends) is
``lib/microbatch.py``'s. Why it is safe to run again at any time:
- the file source's checkpoint remembers which files were read, so a run reads only new
  files (everything new, in bounded micro-batches, then stop);
- each micro-batch is deduplicated by event_id, and only the events bronze does not hold yet
  (an anti-join against the stored keys of the dates it carries) are appended, so a replayed
  batch (crash before the checkpoint commit) or the same event in a renamed file is stored
  once; the append carries the batch's tag and Delta's idempotent-write options too;
- reject and ledger rows are appended with Delta's idempotent-write options
  (``txnAppId`` = this checkpoint's id, ``txnVersion`` = batch id), so a replay skips them;
- there is no watermark: every file holds events from the whole date range, so "late"
  rows are stored and flagged (``is_late``, ``lateness_seconds``), never dropped.

The ledger (``bronze/_usage_events_ledger``) keeps one row per micro-batch: the files,
counts and touched dates. Checks reconcile landing against it, and downstream runs use the
touched dates to rebuild only those daily partitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.events import (
    BRONZE_EVENTS_SCHEMA,
    REJECTS_SCHEMA,
    classify_lines,
    dedupe_batch,
)
from cloud_analytics.lib.delta_io import ensure_table, history, observe, observed
from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.lib.microbatch import append_once, batch_rows, checkpoint_id, run_available_now
from cloud_analytics.lib.windows import dates_predicate, newest

LEDGER_BATCH_SCHEMA = (
    "stream_run string, checkpoint_id string, batch_id bigint, files array<string>, rows_read bigint, "
    "blank_lines bigint, inserted bigint, duplicates_in_batch bigint, duplicates_existing bigint, "
    "rejects bigint, late_rows bigint, dates array<date>, schema_versions map<string,bigint>"
)
LEDGER_SCHEMA = LEDGER_BATCH_SCHEMA + ", ingest_ts timestamp, ledger_date date"
REPLAY_HISTORY = 100  # commits searched for a replayed batch's insert (a replay follows its crash closely)


@dataclass(frozen=True)
class StreamPaths:
    events_dir: str
    table: str
    rejects: str
    ledger: str
    checkpoint: str


@dataclass
class StreamReport:
    """What one stream run did, summed over its micro-batches."""

    batches: int = 0
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    blank_lines: int = 0
    inserted: int = 0
    duplicates_in_batch: int = 0
    duplicates_existing: int = 0
    rejects: int = 0
    late_rows: int = 0
    dates: set[date] = field(default_factory=set)
    schema_versions: dict[str, int] = field(default_factory=dict)
    batch_ids: list[int] = field(default_factory=list)  # this run's micro-batches (of checkpoint app_id)
    app_id: str = ""

    @property
    def duplicates(self) -> int:
        return self.duplicates_in_batch + self.duplicates_existing


class EventStream:
    """Runs the bronze usage-event stream once (availableNow) and reports what it did."""

    def __init__(self, spark: SparkSession, paths: StreamPaths, stream_run: str, lake_root: str,
                 max_files_per_trigger: int = 2000, allowed_lateness_s: int = 3600, log=print,
                 files: LakeFiles | None = None):
        self.spark = spark
        self.files = files  # the lake's files (where the checkpoint's id is kept)
        self.paths = paths
        self.stream_run = stream_run
        self.lake_root = lake_root.rstrip("/") + "/"
        self.max_files = max_files_per_trigger
        self.allowed_lateness_s = allowed_lateness_s
        self.log = log
        self.report = StreamReport()
        self.app_id = ""

    def run(self) -> StreamReport:
        events_dir = Path(self.paths.events_dir)
        if not events_dir.is_dir():
            raise FileNotFoundError(f"usage events landing folder missing: {events_dir}")
        ensure_table(self.spark, self.paths.table, BRONZE_EVENTS_SCHEMA, ["event_date"])
        ensure_table(self.spark, self.paths.rejects, REJECTS_SCHEMA, ["reject_date"])
        ensure_table(self.spark, self.paths.ledger, LEDGER_SCHEMA, ["ledger_date"])
        self.app_id = checkpoint_id(self.paths.checkpoint, self.files)

        lines = (
            self.spark.readStream.format("text")
            .option("pathGlobFilter", "*.jsonl")  # temp files (.x.jsonl.tmp) never match
            .option("maxFilesPerTrigger", self.max_files)
            # Replays of old files must not be skipped for their age (default: 7 days).
            .option("maxFileAge", "3650d")
            .load(str(events_dir))
            .select(F.col("value").alias("line"), F.col("_metadata.file_path").alias("source_path"))
        )
        writer = BatchWriter(self.paths, self.stream_run, self.lake_root, self.allowed_lateness_s, self.app_id,
                             log=self.log)
        run = run_available_now(lines, self.paths.checkpoint, f"bronze_usage_events_{self.stream_run}",
                                writer, app_id=self.app_id, what="usage event stream")
        self.report = self._report(run.batch_ids)
        self.report.batch_ids, self.report.app_id = list(run.batch_ids), self.app_id
        return self.report

    def unreported(self, after: int | None) -> dict[int, set[date]]:
        """Micro-batches of this checkpoint committed after batch ``after`` (all when None) that
        are not this run's own, with their touched dates: batches a run committed before its
        process died, which no materialization has reported yet."""
        ledger = self.spark.read.format("delta").load(self.paths.ledger).filter(F.col("checkpoint_id") == self.app_id)
        if after is not None:
            ledger = ledger.filter(F.col("batch_id") > after)
        own = set(self.report.batch_ids)
        return {r["batch_id"]: set(r["dates"] or []) for r in ledger.select("batch_id", "dates").collect()
                if r["batch_id"] not in own}

    def _report(self, batch_ids: list[int]) -> StreamReport:
        """The run's figures, from the ledger rows of its batches."""
        report = StreamReport()
        for row in batch_rows(self.spark, self.paths.ledger, self.app_id, batch_ids):
            report.batches += 1
            report.files += list(row["files"] or [])
            report.rows_read += row["rows_read"]
            report.blank_lines += row["blank_lines"]
            report.rejects += row["rejects"]
            report.inserted += row["inserted"]
            report.duplicates_in_batch += row["duplicates_in_batch"]
            report.duplicates_existing += row["duplicates_existing"]
            report.late_rows += row["late_rows"]
            report.dates.update(row["dates"] or [])
            for version, count in (row["schema_versions"] or {}).items():
                report.schema_versions[version] = report.schema_versions.get(version, 0) + count
        return report


@dataclass
class BatchWriter:
    """What one micro-batch does: the callable given to ``foreachBatch``.

    It holds no session (a batch brings its own) and no connection, so it pickles: through
    Spark Connect it runs in the Spark service's Python worker. It keeps one thing from batch
    to batch, the newest stored event time, which lives as long as the query's worker.
    """

    paths: StreamPaths
    stream_run: str
    lake_root: str
    allowed_lateness_s: int
    app_id: str
    log: Callable[[str], None] = print
    _newest: datetime | None = None  # newest event time stored in bronze, once read (``_newest_stored``)
    _newest_known: bool = False

    def __getstate__(self) -> dict:
        # The caller's logger (Dagster's) stays in the caller; a copy in the service logs to its log.
        return {**self.__dict__, "log": print}

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        spark = batch.sparkSession
        ingest_ts = F.current_timestamp()
        rows = classify_lines(batch.withColumn("source_file", self._relative(F.col("source_path")))).cache()
        try:
            self._write_batch(spark, rows, batch_id, ingest_ts)
        finally:
            rows.unpersist()

    def _relative(self, path_col):
        plain = F.regexp_replace(path_col, r"^file:(//)?", "")
        root = self.lake_root
        return F.when(plain.startswith(root), F.substring(plain, len(root) + 1, 100000)).otherwise(plain)

    def _write_batch(self, spark: SparkSession, rows: DataFrame, batch_id: int, ingest_ts) -> None:
        stats = rows.agg(
            F.count(F.lit(1)).alias("lines"),
            F.sum(F.col("blank").cast("int")).alias("blank"),
            F.sum(F.col("reason").isNotNull().cast("int")).alias("rejects"),
            F.collect_set("source_file").alias("files"),
        ).first()
        if stats["rejects"]:  # no empty commit: a replay of the batch has none to skip either
            rejects = rows.filter(F.col("reason").isNotNull()).select(
                "source_file", "line", "reason", F.to_date(ingest_ts).alias("reject_date"),
                ingest_ts.alias("ingest_ts"), F.lit(self.stream_run).alias("stream_run"),
                F.lit(batch_id).cast("bigint").alias("stream_batch_id"),
            )
            self._append_once(rejects, self.paths.rejects, batch_id)

        # Late = older than what the table already held, minus the allowed lateness.
        prior_max = self._newest_stored(spark)
        if prior_max is not None:
            lag = F.unix_timestamp(F.lit(prior_max).cast("timestamp")) - F.unix_timestamp("event_ts")
            lateness = F.greatest(lag, F.lit(0)).cast("bigint")
        else:
            lateness = F.lit(0).cast("bigint")
        good = rows.filter(~F.col("blank") & F.col("reason").isNull()).drop("blank", "reason", "line")
        unique = (
            dedupe_batch(good)
            .withColumn("lateness_seconds", lateness)
            .withColumn("is_late", F.col("lateness_seconds") > self.allowed_lateness_s)
            .withColumn("ingest_ts", ingest_ts)
            .withColumn("stream_run", F.lit(self.stream_run))
            .withColumn("stream_batch_id", F.lit(batch_id).cast("bigint"))
            .cache()
        )
        good_rows = (stats["lines"] or 0) - (stats["blank"] or 0) - (stats["rejects"] or 0)
        # One aggregation for every figure of the unique rows (it also fills their cache).
        by_version = unique.groupBy("schema_version").agg(
            F.count(F.lit(1)).alias("rows"), F.collect_set("event_date").alias("dates"),
            F.max("event_ts").alias("newest"), F.count_if("is_late").alias("late")).collect()
        unique_rows = sum(int(r["rows"]) for r in by_version)
        late_rows = sum(int(r["late"] or 0) for r in by_version)
        dates = sorted({d for r in by_version for d in (r["dates"] or [])})
        versions = {str(r["schema_version"]): int(r["rows"]) for r in by_version}

        inserted = 0
        marker = f"stream:{self.app_id}:{batch_id}"
        already = self._inserted_before(spark, marker) if dates else None
        if already is not None:
            # A replay of a batch whose insert committed before a crash: its rows are stored; the
            # ledger must still count them as inserted by this batch, not as duplicates.
            inserted = already
        elif dates:
            inserted = self._insert_new(spark, unique, dates, batch_id, marker)
        unique.unpersist()
        self._newest = newest(prior_max, *(r["newest"] for r in by_version))

        ledger = spark.createDataFrame(
            [(self.stream_run, self.app_id, batch_id, sorted(stats["files"] or []),
              (stats["lines"] or 0) - (stats["blank"] or 0), stats["blank"] or 0, inserted,
              good_rows - unique_rows, unique_rows - inserted, stats["rejects"] or 0, late_rows,
              dates, versions)],
            LEDGER_BATCH_SCHEMA,
        ).withColumn("ingest_ts", ingest_ts).withColumn("ledger_date", F.to_date(ingest_ts))
        self._append_once(ledger, self.paths.ledger, batch_id)
        self.log(
            f"micro-batch {batch_id}: {len(stats['files'] or [])} files, {good_rows} good rows, "
            f"{inserted} inserted, {good_rows - inserted} duplicates, {stats['rejects'] or 0} rejects, "
            f"{len(dates)} event dates"
        )

    def _insert_new(self, spark: SparkSession, unique: DataFrame, dates: list[date], batch_id: int,
                    marker: str) -> int:
        """Append the batch's events that bronze does not hold yet; returns how many.

        An anti-join against the stored keys of the batch's dates that bronze holds (none on a
        first ingest: then no join at all), then an idempotent append grouped by date (one file
        per date and batch), tagged with ``marker``. This is what an insert-only MERGE does,
        without its cost (at scale 10 a MERGE into an empty table took 35 s, this append 9 s):
        the stream is bronze's only writer (one stream run at a time, a tag concurrency limit),
        so there is no concurrent insert for MERGE's conflict check to catch.
        """
        table = spark.read.format("delta").load(self.paths.table)
        on_dates = table.where(dates_predicate("event_date", dates))
        new = unique
        stored = on_dates.select("event_date", "event_id")
        if not on_dates.select("event_date").isEmpty():  # bronze holds some of the batch's dates
            new = unique.join(stored, ["event_date", "event_id"], "left_anti").select(*unique.columns)
        new, counted = observe(new, {"rows": F.count(F.lit(1))})
        append_once(new.repartition("event_date"), self.paths.table, self.app_id, batch_id, tag=marker)
        figures = observed(counted)
        if figures is None:  # the observation did not arrive: the commit's own figure says it
            return self._inserted_before(spark, marker) or 0
        return int(figures["rows"])

    def _newest_stored(self, spark: SparkSession):
        """The newest event time in bronze before this batch: read from the table once per run
        (a scan that grows with the table), then carried from batch to batch."""
        if not self._newest_known:
            self._newest = spark.read.format("delta").load(self.paths.table).agg(F.max("event_ts")).first()[0]
            self._newest_known = True
        return self._newest

    def _inserted_before(self, spark: SparkSession, marker: str) -> int | None:
        """Rows inserted by an earlier commit of this very batch (None: there was none). Lakes
        written before the append replaced the MERGE tagged their MERGE commits the same way."""
        row = history(spark, self.paths.table, REPLAY_HISTORY).filter(F.col("userMetadata") == marker).select("operationMetrics").first()
        if row is None:
            return None
        metrics = row["operationMetrics"] or {}
        return int(metrics.get("numTargetRowsInserted", metrics.get("numOutputRows", 0)))

    def _append_once(self, df: DataFrame, path: str, batch_id: int) -> None:
        append_once(df, path, self.app_id, batch_id)
