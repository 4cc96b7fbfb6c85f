"""The speed layer's conservation checks, Dagster-free (declared on ``speed/usage_windows``).

Both run after a stream run with what it wrote: ``written`` is the windows table (the partials
of open windows), ``params`` carry the run's ``checkpoint_id``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
    """Every on-time row this checkpoint processed (and EV-05 did not quarantine) is counted once per
    window it lies in, in an open window's partials or in a closed window's final row (rolling up
    moves, never loses)."""
    state = given.read("speed", "_stream_state").filter(F.col("checkpoint_id") == given.params["checkpoint_id"])
    # A state row written before EV-05 quarantined in the speed layer has no quarantined_rows.
    quarantined = F.coalesce(F.col("quarantined_rows"), F.lit(0)) if "quarantined_rows" in state.columns else F.lit(0)
    on_time = int(state.agg(F.sum(F.col("rows") - F.col("late_rows") - quarantined)).first()[0] or 0)
    open_events = int(given.written.agg(F.sum("event_count")).first()[0] or 0)
    closed_events = int(given.read("speed", "closed_windows").agg(F.sum("event_count")).first()[0] or 0)
    return Outcome(open_events + closed_events == WINDOWS_PER_ROW * on_time,
                   {"open_window_event_count": open_events, "closed_window_event_count": closed_events,
                    "on_time_rows": on_time})


EVERY_ROW_SEEN = Check("every_bronze_row_seen_once",
                       "rows the speed layer has processed (this checkpoint) = bronze rows", _every_row_seen,
                       blocking=True)
WINDOWS_CONSERVE = Check("windows_hold_every_on_time_row",
                         f"open + closed window event counts = {WINDOWS_PER_ROW} × on-time rows of the checkpoint", _windows_conserve)


def _this_run(given: CheckInput, table):
    return table.filter(F.col("stream_run") == given.params["stream_run"])


ALERTS_TTL = timedelta(days=90)  # usage_alerts_by_org's default_time_to_live (serving/cql/schema.cql)


def _alerts_served(given: CheckInput) -> Outcome:
    """Every alert of the run (the lake's ``speed/usage_alerts``, ``written``) is in Cassandra's
    ``usage_alerts_by_org`` (``params["cql"]``, an open session): one partition read per org.
    A run re-materialized after the table's TTL has nothing left to find there: not checked."""
    started = datetime.strptime(given.params["stream_run"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if datetime.now(timezone.utc) - started > ALERTS_TTL:
        return Outcome(True, {"not_checked": f"the run started more than {ALERTS_TTL.days} days ago: its alerts "
                                            "have expired from Cassandra (the lake keeps them)"})
    wanted: dict[str, set[str]] = {}
    since: dict = {}
    for row in _this_run(given, given.written).select("org_id", "alert_date", "alert_id").collect():
        wanted.setdefault(row["org_id"], set()).add(row["alert_id"])
        since[row["org_id"]] = min(since.get(row["org_id"], row["alert_date"]), row["alert_date"])
    cql = given.params["cql"]
    query = cql.prepare("SELECT alert_id FROM usage_alerts_by_org WHERE org_id = ? AND alert_date >= ?")
    missing = sum(len(ids - {r.alert_id for r in cql.execute(query, (org, since[org]))}) for org, ids in wanted.items())
    return Outcome(missing == 0, {"run_alerts": sum(map(len, wanted.values())), "missing_in_cassandra": missing})


ALERTS_SERVED = Check("alerts_served", "every alert the run raised is in Cassandra usage_alerts_by_org", _alerts_served)
