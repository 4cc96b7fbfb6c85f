"""Sliding-window aggregates with a watermark, computed per micro-batch.

Semantics (the same as Spark's event-time watermark, made explicit so late rows can be
counted exactly, not as Spark's partially aggregated ``numRowsDroppedByWatermark``):

- the watermark of a micro-batch is the newest event time seen in *earlier* batches minus
  the allowed delay (Spark also advances it at the end of a batch);
- a row older than the watermark is **late**: it is counted (per org and service) and left
  to the batch layer, which is complete; it never updates a window;
- every window of an on-time row ends after the watermark, so on-time rows only update
  open windows; a window is **closed** (final) once its end is at or before the watermark.

Each batch appends its partial aggregates (one row per window, org, service and batch) to
an append-only Delta table with an idempotent write; ``window_totals`` sums them, so a
replayed batch cannot count twice and a window can take rows from many batches.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

WINDOW = "1 hour"
SLIDE = "5 minutes"
WATERMARK_DELAY = "10 minutes"
WINDOWS_PER_ROW = 12  # WINDOW / SLIDE: each instant lies in 12 windows


def watermark(max_event_ts: datetime | None, delay: str = WATERMARK_DELAY) -> Column:
    """The watermark column for a batch, from the newest event time of earlier batches."""
    if max_event_ts is None:
        return F.lit(None).cast("timestamp")
    return F.lit(max_event_ts).cast("timestamp") - F.expr(f"INTERVAL {delay}")


def is_late(wm: Column) -> Column:
    return F.coalesce(F.col("event_ts") < wm, F.lit(False))


def late_counts(events: DataFrame, wm: Column) -> DataFrame:
    """Late rows of a batch per org and service (``late_rows``), with their cost."""
    return (events.filter(is_late(wm)).groupBy("org_id", "service")
            .agg(F.count(F.lit(1)).alias("late_rows"),
                 F.sum(F.col("cost_usd_increment").try_cast("decimal(18,6)")).try_cast("decimal(18,6)")
                 .alias("late_cost_usd")))


def window_partials(events: DataFrame, wm: Column, window: str = WINDOW, slide: str = SLIDE) -> DataFrame:
    """The batch's on-time rows aggregated per sliding window, org and service."""
    on_time = events.filter(~is_late(wm))
    return (on_time.groupBy(F.window("event_ts", window, slide).alias("w"), "org_id", "service")
            .agg(F.sum(F.col("cost_usd_increment").try_cast("decimal(18,6)")).try_cast("decimal(18,6)").alias("cost_usd"),
                 F.sum(F.when(F.col("metric") == "requests", F.col("value").try_cast("double"))).alias("requests"),
                 F.count(F.lit(1)).alias("event_count"))
            .select(F.col("w.start").alias("window_start"), F.col("w.end").alias("window_end"), "org_id", "service",
                    "cost_usd", F.coalesce("requests", F.lit(0.0)).alias("requests"), "event_count"))


def window_totals(partials: DataFrame, wm: datetime | None) -> DataFrame:
    """Windows summed over the batches that fed them; ``is_closed`` against watermark ``wm``."""
    closed = F.lit(False) if wm is None else F.col("window_end") <= F.lit(wm).cast("timestamp")
    return (partials.groupBy("window_start", "window_end", "org_id", "service")
            .agg(F.sum("cost_usd").try_cast("decimal(18,6)").alias("cost_usd"), F.sum("requests").alias("requests"),
                 F.sum("event_count").alias("event_count"), F.count(F.lit(1)).alias("batches"))
            .withColumn("is_closed", closed))
