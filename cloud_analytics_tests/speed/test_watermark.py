"""A micro-batch's watermark: Spark's rule in a steady stream, bounded by the catch-up horizon
on a backlog. Pure Python, hand-computed times."""

from datetime import datetime, timedelta

import pytest

from cloud_analytics.speed.windows import batch_watermark

pytestmark = pytest.mark.fast

T = datetime(2025, 8, 31, 12, 0)


def test_the_first_batch_of_a_short_feed_has_no_late_rows():
    # One hour of events, nothing earlier: the horizon (a day) lies before every row.
    assert batch_watermark(None, T) == T - timedelta(hours=24)
    assert batch_watermark(None, None) is None


def test_a_steady_stream_follows_the_newest_earlier_event_minus_the_delay():
    assert batch_watermark(T, T + timedelta(minutes=5)) == T - timedelta(minutes=10)


def test_a_backlog_batch_leaves_rows_older_than_a_day_before_its_newest_event_to_the_batch_layer():
    # Earlier batches reached T; this one brings events up to three days later.
    assert batch_watermark(T, T + timedelta(days=3)) == T + timedelta(days=2)
    # Months of history in a first run: only the last day of event time is windowed.
    assert batch_watermark(None, datetime(2025, 8, 31, 23, 59)) == datetime(2025, 8, 30, 23, 59)


def test_a_batch_of_old_rows_never_moves_the_watermark_back():
    assert batch_watermark(T, T - timedelta(days=5)) == T - timedelta(minutes=10)
