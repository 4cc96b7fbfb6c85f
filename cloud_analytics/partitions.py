"""Every partitions definition of the platform, declared once and imported everywhere.

- Master data, tickets, touches and surveys: one partition per snapshot day (the day the
  landing file was captured). The current day is included (end_offset=1) so the daily
  schedule and ``make run`` capture today's file.
- Usage-derived tables: the event's UTC date.
- Billing: the invoice month.
- The stream-fed bronze events table: one dynamic partition per stream trigger (see
  ``bronze/stream.py`` for why).
"""

from __future__ import annotations

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition, MonthlyPartitionsDefinition

SNAPSHOT_START = "2025-05-01"
EVENTS_START = "2025-07-01"
BILLING_START = "2025-06-01"

snapshot_daily = DailyPartitionsDefinition(start_date=SNAPSHOT_START, timezone="UTC", end_offset=1)
events_daily = DailyPartitionsDefinition(start_date=EVENTS_START, timezone="UTC", end_offset=1)
billing_monthly = MonthlyPartitionsDefinition(start_date=BILLING_START, timezone="UTC", end_offset=1)
stream_runs = DynamicPartitionsDefinition(name="usage_event_stream_runs")

# Specs name their partitions (they stay Dagster-free); assets resolve the name here.
BY_NAME = {"snapshot_daily": snapshot_daily, "events_daily": events_daily, "billing_monthly": billing_monthly,
           "stream_runs": stream_runs}


def partitions_def(name: str | None):
    """The partitions definition a spec names (None: unpartitioned)."""
    return None if name is None else BY_NAME[name]
