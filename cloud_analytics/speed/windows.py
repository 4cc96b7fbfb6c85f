"""Sliding-window aggregates with a watermark, computed per micro-batch.

Semantics (the same as Spark's event-time watermark, made explicit so late rows can be
counted exactly, not as Spark's partially aggregated ``numRowsDroppedByWatermark``):

- the watermark of a micro-batch is the newest event time seen in *earlier* batches minus
  the allowed delay (Spark also advances it at the end of a batch), and never more than the
  catch-up horizon (a day) behind the newest event time seen, this batch included: a backlog
  batch (a first run, a long outage) leaves older rows to the batch layer;
- a row older than the watermark is **late**: it is counted (per org and service) and left
  to the batch layer, which is complete; it never updates a window;
- every window of an on-time row ends after the watermark, so on-time rows only update
  open windows; a window is **closed** (final) once its end is at or before the watermark.
  Every later batch's watermark is at least the newest event time seen minus the delay
  (``closes_at``), so at the end of a batch the windows ending by then are final: they are
  rolled up into one row each (``speed/closed_windows``) and their partials deleted, which
  keeps the partials table as small as the set of open windows however long the stream runs.

Each batch appends its partial aggregates (one row per window, org, service and batch) to
an append-only Delta table with an idempotent write; ``window_totals`` sums them, so a
replayed batch cannot count twice and a window can take rows from many batches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib.windows import newest

WINDOW = "1 hour"
SLIDE = "5 minutes"
WINDOWS_PER_ROW = 12  # WINDOW / SLIDE: each instant lies in 12 windows
DELAY = timedelta(minutes=10)
WATERMARK_DELAY = f"{int(DELAY.total_seconds()) // 60} minutes"
# The speed layer covers what the batch layer has not yet: the last day of event time. A
# backlog (a first run, a long outage) would otherwise spread months of history over
# 5-minute windows the batch layer already covers completely, at 12 window rows per event.
HORIZON = timedelta(hours=24)
CATCH_UP_HORIZON = f"{int(HORIZON.total_seconds()) // 3600} hours"


def as_watermark(value: datetime | None) -> Column:
    return F.lit(value).cast("timestamp") if value is not None else F.lit(None).cast("timestamp")


def watermark(max_event_ts: datetime | None, delay: timedelta = DELAY) -> Column:
    """The watermark column for a batch, from the newest event time of earlier batches."""
    return as_watermark(None if max_event_ts is None else max_event_ts - delay)


def batch_watermark(prior_newest: datetime | None, batch_newest: datetime | None,
                    delay: timedelta = DELAY, horizon: timedelta = HORIZON) -> datetime | None:
    """A micro-batch's watermark: the newest event time of earlier batches minus ``delay``
    (Spark's rule), but never more than ``horizon`` behind the newest event time seen so far,
    this batch included. In a steady stream the first term wins; a backlog batch leaves its
    rows older than the horizon to the batch layer, counted as late."""
    seen = newest(prior_newest, batch_newest)
    if seen is None:
        return None
    return seen - horizon if prior_newest is None else max(prior_newest - delay, seen - horizon)


def closes_at(newest_event_ts: datetime | None, delay: timedelta = DELAY) -> datetime | None:
    """The instant up to which windows are final after a batch whose newest event time so far is
    ``newest_event_ts``: no later batch's watermark is below it (``batch_watermark``)."""
    return None if newest_event_ts is None else newest_event_ts - delay


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
