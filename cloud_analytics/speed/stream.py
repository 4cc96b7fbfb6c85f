"""Runs the speed layer once over every bronze row it has not seen (``availableNow``).

Source: ``bronze/usage_events`` read as a Delta stream. Bronze is written insert-only, so
each stored event arrives here exactly once, already deduplicated; the stream's checkpoint
(``<lake>/_checkpoints/speed_usage``) remembers the table version it reached. The run is
``lib/microbatch.py``'s. Every write of a micro-batch is idempotent, so a batch replayed
after a crash changes nothing twice: Delta appends carry ``txnAppId``/``txnVersion`` (this
checkpoint's id, the batch id), Cassandra writes are upserts by primary key.

Per micro-batch, in this order: the watermark from earlier batches (``speed/_stream_state``);
provisional serving rows for dates after the batch watermark (first: they are what a landed
file waits for); late rows counted (``speed/late_rows``); sliding-window partials of on-time
rows (``speed/usage_windows``), the windows that closed rolled up (``speed/closed_windows``)
and every window's total upserted into the live view (Cassandra ``live_usage_by_org``);
enrichment and cost alerts (``speed/usage_alerts`` and Cassandra ``usage_alerts_by_org``);
the batch's state row, with the seconds each phase took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.lib.delta_io import ensure_table, table_exists
from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.lib.microbatch import append_once, batch_rows, checkpoint_id, run_available_now
from cloud_analytics.lib.spec import ddl
from cloud_analytics.lib.windows import newest
from cloud_analytics.quality.domains import canonical
from cloud_analytics.quality.model import DEFAULT_POLICY, Policy
from cloud_analytics.quality.rules_events import min_cost
from cloud_analytics.serving.loader import load_window
from cloud_analytics.serving.specs import LIVE_USAGE_BY_ORG, USAGE_ALERTS_BY_ORG
from cloud_analytics.speed import alerts as speed_alerts
from cloud_analytics.speed.serving import serve_dates
from cloud_analytics.speed.specs import (
    CLOSED_WINDOWS, LATE_ROWS, STREAM_STATE, USAGE_ALERTS, USAGE_WINDOWS,
)
from cloud_analytics.speed.windows import (
    as_watermark, batch_watermark, closes_at, late_counts, window_partials, window_totals,
)

# The Delta schemas of the tables a micro-batch appends to, rendered from their specs.
WINDOW_SCHEMA = ddl(USAGE_WINDOWS)
CLOSED_SCHEMA = ddl(CLOSED_WINDOWS)
LATE_SCHEMA = ddl(LATE_ROWS)
ALERT_SCHEMA = ddl(USAGE_ALERTS)
STATE_SCHEMA = ddl(STREAM_STATE)
# A state row as the batch builds it; ingest_ts and state_date are stamped when it is written.
_STATE_ROW_SCHEMA = STATE_SCHEMA.rsplit(", ingest_ts", 1)[0]
ALERT_CQL_COLUMNS = USAGE_ALERTS_BY_ORG.column_names
LIVE_CQL_COLUMNS = LIVE_USAGE_BY_ORG.column_names
LIVE_HORIZON = timedelta(days=2)  # the live table's TTL: older windows are not upserted again


@dataclass(frozen=True)
class SpeedPaths:
    bronze: str
    windows: str
    closed: str
    late: str
    alerts: str
    state: str
    baselines: str
    orgs_history: str
    resources_history: str
    checkpoint: str


@dataclass
class SpeedReport:
    batches: int = 0
    batch_ids: list[int] = field(default_factory=list)
    rows: int = 0
    late_rows: int = 0
    quarantined_rows: int = 0
    window_rows: int = 0
    alerts: int = 0
    speed_rows: dict[str, int] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    dates: set[date] = field(default_factory=set)
    watermark: datetime | None = None
    notes: list[str] = field(default_factory=list)


def conform(batch: DataFrame) -> DataFrame:
    """The columns the speed layer works on, with canonical service and metric names
    (an unknown service is kept as ``unknown``: it still costs money)."""
    return batch.select(
        "event_id", "event_ts", "event_date", "org_id", "resource_id",
        F.coalesce(canonical("service", "service"), F.lit("unknown")).alias("service"),
        canonical("metric", "metric").alias("metric"), "value", "cost_usd_increment")


def below_min_cost(policy: Policy):
    """True on the events EV-05 quarantines under ``policy`` (never true in flag-only mode): the
    rule's own condition, so the speed layer and silver cannot disagree."""
    if not policy.quarantines_negative_costs:
        return F.lit(False)
    return F.coalesce(min_cost(policy).condition(), F.lit(False))


class SpeedStream:
    """Runs the speed layer once (availableNow) and reports what it did."""

    def __init__(self, spark: SparkSession, paths: SpeedPaths, stream_run: str, cassandra=None,
                 cassandra_session=None, max_files_per_trigger: int = 1000, refs_loader=None, log=print,
                 policy: Policy = DEFAULT_POLICY, files: LakeFiles | None = None):
        self.spark = spark
        self.paths = paths
        self.stream_run = stream_run
        self.files = files  # the lake's files (where the checkpoint's id is kept)
        self.cassandra = cassandra  # a CassandraResource (None: nothing is served)
        self.session = cassandra_session  # this process's open session on it, reused when the batch runs here
        self.max_files = max_files_per_trigger
        self.refs_loader = refs_loader  # (spark) -> quality refs for serving rows, or None when silver is missing
        self.log = log
        self.policy = policy
        self.report = SpeedReport()
        self.app_id = ""

    def run(self) -> SpeedReport:
        if not table_exists(self.spark, self.paths.bronze):
            raise FileNotFoundError(f"speed layer: bronze table {self.paths.bronze} does not exist yet: "
                                    "run the bronze usage stream first")
        ensure_table(self.spark, self.paths.windows, WINDOW_SCHEMA, [USAGE_WINDOWS.partition_column])
        ensure_table(self.spark, self.paths.closed, CLOSED_SCHEMA, [CLOSED_WINDOWS.partition_column])
        ensure_table(self.spark, self.paths.late, LATE_SCHEMA, [LATE_ROWS.partition_column])
        ensure_table(self.spark, self.paths.alerts, ALERT_SCHEMA, [USAGE_ALERTS.partition_column])
        ensure_table(self.spark, self.paths.state, STATE_SCHEMA, [STREAM_STATE.partition_column])
        self.app_id = checkpoint_id(self.paths.checkpoint, self.files)
        # Which batch-layer tables exist is known once per run, not looked up in every batch.
        dims = tuple(path if table_exists(self.spark, path) else None
                     for path in (self.paths.orgs_history, self.paths.resources_history))
        if dims[0] is None:
            self._note("silver dimensions missing: events are not enriched until the batch layer has run")
        alerting = table_exists(self.spark, self.paths.baselines)
        if not alerting:
            self._note("no cost baselines yet (gold/cost_baselines): alerts start once the batch layer has run")
        batch = SpeedBatch(self.paths, self.stream_run, self.app_id, alerting, dims, self.cassandra,
                           self.refs_loader, log=self.log, cql=self.session, policy=self.policy)
        source = (self.spark.readStream.format("delta").option("maxFilesPerTrigger", self.max_files)
                  .load(self.paths.bronze))
        run = run_available_now(source, self.paths.checkpoint, f"speed_usage_{self.stream_run}", batch,
                                app_id=self.app_id, what="speed layer stream")
        self.report.batch_ids = list(run.batch_ids)
        self._add_batches(run.batch_ids)
        return self.report

    def _note(self, text: str) -> None:
        self.report.notes.append(text)
        self.log(f"speed layer: {text}")

    def _add_batches(self, batch_ids: list[int]) -> None:
        """The run's figures, from the state rows of its batches."""
        report = self.report
        for row in batch_rows(self.spark, self.paths.state, self.app_id, batch_ids):
            report.batches += 1
            report.rows += row["rows"]
            report.late_rows += row["late_rows"]
            report.quarantined_rows += row["quarantined_rows"] or 0
            report.window_rows += row["window_rows"]
            report.alerts += row["alerts"]
            report.dates.update(row["dates"] or [])
            for table, n in (row["speed_rows"] or {}).items():
                report.speed_rows[table] = report.speed_rows.get(table, 0) + n
            for phase, seconds in (row["phase_seconds"] or {}).items():
                report.phase_seconds[phase] = round(report.phase_seconds.get(phase, 0.0) + seconds, 3)
            report.watermark = row["max_event_ts"]


@dataclass
class SpeedBatch:
    """What one micro-batch of the speed layer does: the callable given to ``foreachBatch``.

    It pickles (no session of this process, no logger, no open connection), so through Spark
    Connect it runs in the Spark service's Python worker: there it reads the batch layer's
    references with the batch's own session and opens its own Cassandra session once.
    """

    paths: SpeedPaths
    stream_run: str
    app_id: str
    alerting: bool  # gold/cost_baselines exists
    dims: tuple[str | None, str | None] = (None, None)  # the org and resource histories that exist
    cassandra: object = None  # a CassandraResource, or None when nothing is served
    refs_loader: Callable | None = None
    log: Callable[[str], None] = print
    cql: object = None  # an open Cassandra session (the caller's, or one opened here on first use)
    policy: Policy = DEFAULT_POLICY  # EV-05: events it quarantines reach no window, alert or serving row

    def __getstate__(self) -> dict:
        # The caller's logger and Cassandra session stay in the caller; a copy opens its own.
        return {**self.__dict__, "log": print, "cql": None}

    def _session(self):
        if self.cql is None and self.cassandra is not None:
            # Opened for the life of the worker that runs the query's batches; closed with it.
            self._opened = self.cassandra.session()
            self.cql = self._opened.__enter__()
        return self.cql

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        events = conform(batch).cache()
        try:
            self._write_batch(batch.sparkSession, events, batch_id)
        finally:
            events.unpersist()

    def _prior_max_event_ts(self, spark: SparkSession, batch_id: int) -> datetime | None:
        """Newest event time of earlier batches of this checkpoint (a replayed batch ignores its own row)."""
        state = spark.read.format("delta").load(self.paths.state)
        return (state.filter((F.col("checkpoint_id") == self.app_id) & (F.col("batch_id") < batch_id))
                .agg(F.max("max_event_ts")).first()[0])

    def _write_batch(self, spark: SparkSession, events: DataFrame, batch_id: int) -> None:
        clock = Phases()
        below = below_min_cost(self.policy)
        # The watermark follows the events the layer keeps: a quarantined one closes no window.
        stats = events.agg(F.count(F.lit(1)).alias("rows"), F.max(F.when(~below, F.col("event_ts"))).alias("max_ts"),
                           F.collect_set("event_date").alias("dates"),
                           F.count_if(below).alias("quarantined")).first()
        rows, quarantined_rows = int(stats["rows"]), int(stats["quarantined"])
        if rows == 0:
            return
        events = events.filter(~below) if quarantined_rows else events
        prior = self._prior_max_event_ts(spark, batch_id)
        wm_value = batch_watermark(prior, stats["max_ts"])
        wm = as_watermark(wm_value)
        latest = newest(prior, stats["max_ts"])
        tag = {"batch_id": F.lit(batch_id).cast("bigint"), "stream_run": F.lit(self.stream_run)}
        clock.lap("read")

        # The provisional serving rows first: they are what a landed file waits for.
        dates = sorted(stats["dates"] or [])
        speed_rows: dict[str, int] = {}
        if self.cassandra is not None:
            refs = self.refs_loader(spark) if self.refs_loader else None
            speed_rows = serve_dates(spark, self._session(), self.paths.bronze, refs, dates, self.cassandra.target,
                                     log=self.log, seconds=clock.seconds, policy=self.policy)
        clock.lap("serve_other")

        late = late_counts(events, wm).withColumns({"watermark": wm, **tag}).withColumn("late_date", F.current_date())
        late = late.cache()
        late_rows = int(late.agg(F.sum("late_rows")).first()[0] or 0)
        self._append_once(late, self.paths.late, batch_id)
        late.unpersist()
        clock.lap("late")

        partials = window_partials(events, wm).withColumns({**tag, "window_date": F.to_date("window_start")})
        partials = partials.cache()
        window_rows = partials.count()
        self._append_once(partials, self.paths.windows, batch_id)
        partials.unpersist()
        clock.lap("windows")
        # No kept event yet in this checkpoint (all quarantined): nothing to roll up.
        speed_rows[LIVE_USAGE_BY_ORG.name] = self._roll_up(spark, batch_id, closes_at(latest), latest) \
            if latest is not None else 0
        clock.lap("live")

        alert_count = self._alerts(spark, events, batch_id)
        clock.lap("alerts")

        state = spark.createDataFrame(
            [(self.app_id, batch_id, self.stream_run, rows, late_rows, quarantined_rows, window_rows, alert_count,
              stats["max_ts"], latest, wm_value, dates, speed_rows, clock.rounded())], _STATE_ROW_SCHEMA,
        ).withColumn("ingest_ts", F.current_timestamp()).withColumn("state_date", F.current_date())
        # A state table from before the batch dates, speed rows and timings were recorded gains the columns.
        append_once(state, self.paths.state, self.app_id, batch_id, merge_schema=True)
        self.log(f"speed micro-batch {batch_id}: {rows:,} events, {late_rows:,} late (watermark {wm_value}), "
                 f"{quarantined_rows:,} below the minimum cost (EV-05), "
                 f"{window_rows:,} window rows, {alert_count} alerts, {len(dates)} dates; seconds {clock.rounded()}")

    def _roll_up(self, spark: SparkSession, batch_id: int, close_at: datetime | None, latest: datetime) -> int:
        """Sum the partials into window totals: the closed ones become their final row in the lake
        and leave the partials table; the totals within the live view's horizon, open or closed, are
        upserted into Cassandra. Returns the rows upserted. Safe to replay: the closed rows' append
        is idempotent, the upserts carry the same values, and the delete removes only what the
        closed rows already hold. Nothing is collected but the live rows, so a long history of
        partials (a lake from before the roll-up) closes in one batch without filling the driver."""
        totals = window_totals(spark.read.format("delta").load(self.paths.windows), close_at).cache()
        try:
            closed = int(totals.filter("is_closed").count()) if close_at is not None else 0
            if closed:
                self._append_once(totals.filter("is_closed").select(
                    "window_start", "window_end", "org_id", "service", "cost_usd", "requests", "event_count",
                    F.col("batches").alias("partials"), F.lit(batch_id).cast("bigint").alias("batch_id"),
                    F.lit(self.stream_run).alias("stream_run"), F.to_date("window_start").alias("window_date")),
                    self.paths.closed, batch_id)
            live = 0
            if self.cassandra is not None:
                recent = totals.filter(F.col("window_end") > F.lit(latest - LIVE_HORIZON).cast("timestamp"))
                live = load_window(self._session(), LIVE_USAGE_BY_ORG.name, LIVE_CQL_COLUMNS,
                                   (_live_cql_row(t) for t in recent.toLocalIterator()), None, [],
                                   self.cassandra.target).rows
        finally:
            totals.unpersist()
        if closed:
            # Spark SQL, not CQL (Delta's DELETE takes no parameter markers). The instant is given as
            # epoch microseconds: a datetime collected from Spark is naive local time, which
            # ``timestamp()`` reads as such, whatever the session's time zone.
            micros = round(close_at.timestamp() * 1_000_000)
            spark.sql(f"DELETE FROM delta.`{self.paths.windows}` WHERE window_end <= timestamp_micros({micros})")
        return live

    def _alerts(self, spark: SparkSession, events: DataFrame, batch_id: int) -> int:
        if not self.alerting:
            return 0
        dims = [spark.read.format("delta").load(path).filter("is_current") if path else None for path in self.dims]
        baselines = spark.read.format("delta").load(self.paths.baselines)
        enriched = speed_alerts.enrich(events, *dims)
        fired = speed_alerts.alerts(speed_alerts.score(enriched, baselines), self.stream_run, batch_id).cache()
        self._append_once(fired, self.paths.alerts, batch_id)
        # Logged once, by the stream asset, which reads them back from the lake (speed/notify.py).
        rows = fired.collect()
        fired.unpersist()
        if self.cassandra is not None and rows:
            load_window(self._session(), USAGE_ALERTS_BY_ORG.name, ALERT_CQL_COLUMNS,
                        (_alert_cql_row(r) for r in rows), None, [], self.cassandra.target)
        return len(rows)

    def _append_once(self, df: DataFrame, path: str, batch_id: int) -> None:
        append_once(df, path, self.app_id, batch_id)


class Phases:
    """Seconds per phase of a micro-batch (recorded in its state row; the freshness benchmark's breakdown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}  # callees may add their own phases to it
        self._mark = time.monotonic()
        self._charged = 0.0

    def lap(self, phase: str) -> None:
        """Charge the time since the last lap to ``phase``, less what callees charged meanwhile."""
        now = time.monotonic()
        inner = sum(self.seconds.values()) - self._charged
        self.seconds[phase] = self.seconds.get(phase, 0.0) + max(0.0, now - self._mark - inner)
        self._charged = sum(self.seconds.values())
        self._mark = now

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


def _utc(value: datetime) -> datetime:
    # Spark hands timestamps to Python as naive local time; the Cassandra driver reads a naive
    # datetime as UTC. An aware one is stored as the instant it is, on any host's time zone.
    return value.astimezone(timezone.utc)


def _live_cql_row(total) -> tuple:
    return (total["org_id"], _utc(total["window_end"]), total["service"], _utc(total["window_start"]),
            total["cost_usd"], total["requests"], total["event_count"], total["is_closed"], datetime.now(timezone.utc))


def _alert_cql_row(row) -> tuple:
    context = {k: str(row[k]) for k in (*speed_alerts.ORG_COLUMNS, "resource_state") if row[k] is not None}
    return (row["org_id"], row["alert_date"], row["event_ts"], row["alert_id"], row["service"], row["resource_id"],
            row["cost_usd"], row["baseline_median_usd"], row["robust_z"], row["reason"], context, row["stream_run"],
            datetime.now())
