"""The speed layer's specs: the Delta schemas the stream writes, and the checks it runs."""

from cloud_analytics.speed import stream
from cloud_analytics.lib.spec import ddl
from cloud_analytics.speed.specs import SPEED_BY_NAME, SPEED_SPECS, STREAM_STATE

# The tables' schemas as the speed layer stored them before they were rendered from specs: a
# spec change that alters a stored table must fail here.
STORED = {
    "usage_windows": "window_start timestamp, window_end timestamp, org_id string, service string, "
                     "cost_usd decimal(18,6), requests double, event_count bigint, batch_id bigint, "
                     "stream_run string, window_date date",
    "closed_windows": "window_start timestamp, window_end timestamp, org_id string, service string, "
                      "cost_usd decimal(18,6), requests double, event_count bigint, partials bigint, "
                      "batch_id bigint, stream_run string, window_date date",
    "late_rows": "org_id string, service string, late_rows bigint, late_cost_usd decimal(18,6), "
                 "watermark timestamp, batch_id bigint, stream_run string, late_date date",
    "usage_alerts": "alert_id string, org_id string, event_id string, event_ts timestamp, event_date date, "
                    "service string, resource_id string, cost_usd double, baseline_median_usd double, "
                    "baseline_scope string, robust_z double, threshold double, reason string, plan_tier string, "
                    "industry string, hq_region string, resource_state string, stream_run string, batch_id bigint, "
                    "alert_date date",
    "_stream_state": "checkpoint_id string, batch_id bigint, stream_run string, rows bigint, late_rows bigint, "
                     "quarantined_rows bigint, window_rows bigint, alerts bigint, batch_max_event_ts timestamp, max_event_ts timestamp, "
                     "watermark timestamp, dates array<date>, speed_rows map<string,bigint>, "
                     "phase_seconds map<string,double>, ingest_ts timestamp, state_date date",
    # dates and speed_rows (Spark service), phase_seconds (freshness) and quarantined_rows (EV-05 in the
    # speed layer) added by mergeSchema appends
}


def test_schemas_are_the_stored_ones():
    assert {s.name: ddl(s) for s in (*SPEED_SPECS, STREAM_STATE)} == STORED
    assert (stream.WINDOW_SCHEMA, stream.CLOSED_SCHEMA, stream.LATE_SCHEMA, stream.ALERT_SCHEMA,
            stream.STATE_SCHEMA) == (STORED["usage_windows"], STORED["closed_windows"], STORED["late_rows"],
                                     STORED["usage_alerts"], STORED["_stream_state"])


def test_specs_are_stream_run_assets_partitioned_by_a_date():
    assert [s.name for s in SPEED_SPECS] == ["usage_windows", "closed_windows", "late_rows", "usage_alerts"]
    for spec in (*SPEED_SPECS, STREAM_STATE):
        assert spec.layer == "speed" and spec.partitions == "stream_runs"
        assert spec.types[spec.partition_column] == "date"
        assert all(c.meaning for c in spec.columns), spec.name
    assert "_stream_state" not in SPEED_BY_NAME  # bookkeeping, not an asset


def test_windows_carry_the_two_conservation_checks():
    checks = {c.name: c for c in SPEED_BY_NAME["usage_windows"].checks}
    assert set(checks) == {"every_bronze_row_seen_once", "windows_hold_every_on_time_row"}
    assert checks["every_bronze_row_seen_once"].blocking and not checks["windows_hold_every_on_time_row"].blocking
    assert {d.table for d in SPEED_BY_NAME["usage_alerts"].deps} == {"bronze/usage_events", "gold/cost_baselines"}
