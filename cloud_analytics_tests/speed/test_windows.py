"""Sliding windows and late rows, on tiny frames with hand-computed expectations."""

from datetime import datetime
from decimal import Decimal

from pyspark.sql import functions as F

from cloud_analytics.speed.windows import late_counts, watermark, window_partials, window_totals

COLUMNS = "event_id string, event_ts timestamp, org_id string, service string, metric string, value double, " \
          "cost_usd_increment double"


def _events(spark, rows):
    return spark.createDataFrame(rows, COLUMNS)


def test_without_a_watermark_nothing_is_late_and_each_row_lies_in_twelve_windows(spark):
    events = _events(spark, [("e1", datetime(2025, 7, 1, 10, 7), "org_a", "compute", "requests", 5.0, 1.5)])
    partials = window_partials(events, watermark(None)).collect()
    assert len(partials) == 12
    # 10:07 lies in the windows starting 09:10, 09:15, …, 10:05 (each one hour long).
    assert min(r.window_start for r in partials) == datetime(2025, 7, 1, 9, 10)
    assert max(r.window_start for r in partials) == datetime(2025, 7, 1, 10, 5)
    assert all(r.window_end == r.window_start.replace(hour=r.window_start.hour + 1) for r in partials)
    assert {(r.cost_usd, r.requests, r.event_count) for r in partials} == {(Decimal("1.500000"), 5.0, 1)}
    assert late_counts(events, watermark(None)).count() == 0


def test_rows_older_than_the_watermark_are_counted_and_left_out_of_windows(spark):
    # Newest event time of earlier batches 11:00, delay 10 minutes: watermark 10:50.
    wm = watermark(datetime(2025, 7, 1, 11, 0))
    events = _events(spark, [
        ("on_time", datetime(2025, 7, 1, 10, 55), "org_a", "compute", "cpu_hours", 1.0, 2.0),
        ("late_1", datetime(2025, 7, 1, 10, 49), "org_a", "compute", "requests", 3.0, 4.0),
        ("late_2", datetime(2025, 6, 30, 23, 0), "org_a", "compute", "requests", 1.0, 0.25),
        ("edge", datetime(2025, 7, 1, 10, 50), "org_b", "storage", "requests", 1.0, 1.0),  # = watermark: on time
    ])
    late = late_counts(events, wm).collect()
    assert [(r.org_id, r.service, r.late_rows, r.late_cost_usd) for r in late] == [
        ("org_a", "compute", 2, Decimal("4.250000"))]
    partials = window_partials(events, wm)
    assert partials.agg(F.sum("event_count")).first()[0] == 2 * 12
    assert partials.filter("org_id = 'org_a'").agg(F.sum("requests")).first()[0] == 0.0  # late requests left out


def test_totals_sum_partials_of_several_batches_and_close_windows_behind_the_watermark(spark):
    first = window_partials(_events(spark, [("a", datetime(2025, 7, 1, 10, 2), "o", "s", "requests", 1.0, 1.0)]),
                            watermark(None)).withColumn("batch_id", F.lit(0))
    second = window_partials(_events(spark, [("b", datetime(2025, 7, 1, 10, 58), "o", "s", "requests", 2.0, 2.0)]),
                             watermark(datetime(2025, 7, 1, 10, 2))).withColumn("batch_id", F.lit(1))
    totals = {r.window_start: r for r in window_totals(first.unionByName(second), datetime(2025, 7, 1, 10, 48))
              .collect()}
    # Window 10:00-11:00 holds both rows; 09:05-10:05 only the first; 10:55-11:55 only the second.
    both = totals[datetime(2025, 7, 1, 10, 0)]
    assert (both.cost_usd, both.requests, both.event_count, both.batches) == (Decimal("3.000000"), 3.0, 2, 2)
    assert totals[datetime(2025, 7, 1, 9, 5)].event_count == 1
    assert totals[datetime(2025, 7, 1, 10, 55)].event_count == 1
    # Closed: windows ending at or before the watermark 10:48 (the first row's earliest windows).
    assert totals[datetime(2025, 7, 1, 9, 5)].is_closed and not both.is_closed
    assert len(totals) == 12 + 12 - 1  # only the 10:00 window holds both rows
