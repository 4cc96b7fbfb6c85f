"""The speed layer's conservation checks, Dagster-free (declared on ``speed/usage_windows``).

Both run after a stream run with what it wrote: ``written`` is the windows table,
``params`` carry the run's ``checkpoint_id``, ``stream_run`` and ``on_time_rows``.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from cloud_analytics.lib.spec import Check, CheckInput, Outcome
from cloud_analytics.speed.windows import WINDOWS_PER_ROW


def _every_row_seen(given: CheckInput) -> Outcome:
    """Every bronze row was processed by this checkpoint once: its state rows sum to bronze's rows."""
    bronze_rows = given.read("bronze", "usage_events").count()
    state = given.read("speed", "_stream_state").filter(F.col("checkpoint_id") == given.params["checkpoint_id"])
    seen = int(state.agg(F.sum("rows")).first()[0] or 0)
    return Outcome(seen == bronze_rows, {"bronze_rows": bronze_rows, "rows_seen_by_speed_layer": seen})


def _windows_conserve(given: CheckInput) -> Outcome:
    """The run's window partials hold each on-time row once per window it lies in."""
    events = int(given.written.filter(F.col("stream_run") == given.params["stream_run"])
                 .agg(F.sum("event_count")).first()[0] or 0)
    on_time = given.params["on_time_rows"]
    return Outcome(events == WINDOWS_PER_ROW * on_time, {"window_event_count": events, "on_time_rows": on_time})


EVERY_ROW_SEEN = Check("every_bronze_row_seen_once",
                       "rows the speed layer has processed (this checkpoint) = bronze rows", _every_row_seen,
                       blocking=True)
WINDOWS_CONSERVE = Check("windows_hold_every_on_time_row",
                         f"window event counts = {WINDOWS_PER_ROW} × on-time rows of this run", _windows_conserve)
