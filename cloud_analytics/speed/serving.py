"""The speed view in Cassandra: provisional rows for dates the batch layer has not covered.

Batch and speed rows share the serving tables (``org_daily_usage`` behind q1/q2 and
``genai_by_org_day`` behind q5), told apart by ``source``. Two rules keep them from ever
double counting or clobbering each other:

1. **Write-time bands.** Batch loads write at wall-clock time T (range delete at T-1, rows
   at T, see ``serving/loader.py``). Speed writes use wall-clock time minus
   ``SPEED_TIMESTAMP_OFFSET_US`` (about 35 years), so any batch write, made before or after,
   has the newer timestamp: a late speed write can never overwrite a batch row, and a batch
   load's range delete removes the speed rows of its window. Speed writes are still ordered
   among themselves, so a newer speed row replaces an older one.
2. **The serving watermark.** ``serving_state.batch_covered_until`` is the last date the
   batch layer has loaded; the speed layer only writes dates after it (earlier dates are the
   batch layer's, and rule 1 would hide such writes anyway).

A speed row is recomputed from every bronze event of its date (not incremented), with the
same quality rules and gold formulas the batch layer uses, so it is exact for the events
that arrived and idempotent when a micro-batch is replayed; the batch layer later adds
what only it knows (anomaly counts over the full history, late corrections).
"""

from __future__ import annotations

import time
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.gold.product import genai_tokens_by_org_date
from cloud_analytics.gold.usage import org_daily_usage_by_service
from cloud_analytics.quality.engine import evaluate
from cloud_analytics.quality.model import DEFAULT_POLICY, Policy
from cloud_analytics.serving.loader import LoadResult, load_window, write_timestamp
from cloud_analytics.serving.queries import as_date
from cloud_analytics.serving.specs import GENAI_BY_ORG_DAY, ORG_DAILY_USAGE, SERVING_BY_NAME
from cloud_analytics.serving.state import batch_covered_until
from cloud_analytics.silver.usage_events import conform_events

SPEED_TIMESTAMP_OFFSET_US = 2**50  # ≈ 35.7 years in microseconds
# The serving tables the speed view writes, and the gold formula that builds each one's mart.
SPEED_TABLES = {ORG_DAILY_USAGE.name: org_daily_usage_by_service, GENAI_BY_ORG_DAY.name: genai_tokens_by_org_date}


def speed_timestamp() -> int:
    return write_timestamp() - SPEED_TIMESTAMP_OFFSET_US


def dates_to_serve(dates: list[date], covered_until: date | None) -> list[date]:
    """The dates of a micro-batch the speed layer may write: after the batch watermark."""
    return sorted(d for d in dates if covered_until is None or d > covered_until)


def speed_events(bronze: DataFrame, refs: dict[str, DataFrame], policy: Policy = DEFAULT_POLICY) -> DataFrame:
    """Bronze events → the conformed, quality-checked events the gold formulas take
    (without silver's enrichment and anomaly flags, which need the full history)."""
    kept = evaluate(bronze, "usage_events", refs, policy).kept
    return conform_events(kept).withColumns({
        "plan_tier": F.lit(None).cast("string"), "industry": F.lit(None).cast("string"),
        "is_anomaly": F.lit(False)})


def speed_frames(events: DataFrame) -> dict[str, DataFrame]:
    """Serving rows (``source = 'speed'``) per speed-fed table, from conformed events."""
    out = {}
    for table, mart in SPEED_TABLES.items():
        spec = SERVING_BY_NAME[table]
        out[table] = spec.build(mart(events)).withColumn("source", F.lit("speed")).select(*spec.column_names)
    return out


def write_speed_rows(session, table: str, rows: DataFrame | list, target: str) -> LoadResult:
    """Upsert speed rows in the speed write-time band (no deletes: bronze only grows)."""
    spec = SERVING_BY_NAME[table]
    values = rows if isinstance(rows, list) else rows.toLocalIterator()
    return load_window(session, table, spec.column_names, (tuple(r) for r in values), None, [], target,
                       timestamp=speed_timestamp())


def update_speed_state(session, table: str, newest: date | None) -> None:
    """Raise ``speed_max_date`` (never lower it): the newest date the speed layer served."""
    if newest is None:
        return
    row = session.execute(session.prepare("SELECT speed_max_date FROM serving_state WHERE table_name = ?"),
                          (table,)).one()
    current = as_date(row.speed_max_date) if row and row.speed_max_date is not None else None
    if current is None or newest > current:
        session.execute(session.prepare("UPDATE serving_state SET speed_max_date = ? WHERE table_name = ?"),
                        (newest, table))


def serve_dates(spark: SparkSession, session, bronze_path: str, refs: dict[str, DataFrame] | None,
                dates: list[date], target: str, log=print, seconds: dict[str, float] | None = None,
                policy: Policy = DEFAULT_POLICY) -> dict[str, int]:
    """Write the speed rows of ``dates`` (after each table's batch watermark); rows per table.
    ``seconds`` gains the time spent computing the rows (``serve_spark``) and writing them
    (``serve_cassandra``): the two parts of a landed file's latency that are the speed layer's."""
    written: dict[str, int] = {}
    seconds = {} if seconds is None else seconds
    if refs is None:
        log("speed serving: the silver org/resource references do not exist yet, so speed rows cannot pass "
            "the quality rules; the batch layer will serve these dates")
        return written
    for table in SPEED_TABLES:
        todo = dates_to_serve(dates, batch_covered_until(session, table))
        if not todo:
            written[table] = 0
            continue
        started = time.monotonic()
        bronze = spark.read.format("delta").load(bronze_path).filter(F.col("event_date").isin(todo))
        # A few thousand rows per date at most: collected first, so the write is timed apart.
        rows = speed_frames(speed_events(bronze, refs, policy))[table].collect()
        computed = time.monotonic()
        result = write_speed_rows(session, table, rows, target)
        update_speed_state(session, table, todo[-1])
        seconds["serve_spark"] = seconds.get("serve_spark", 0.0) + computed - started
        seconds["serve_cassandra"] = seconds.get("serve_cassandra", 0.0) + time.monotonic() - computed
        written[table] = result.rows
        log(f"speed serving: {result.rows:,} provisional rows in {table} for {len(todo)} dates "
            f"({todo[0]}..{todo[-1]}) after the batch watermark")
    return written
