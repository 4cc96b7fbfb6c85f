"""Enrichment and cost alerts against a baseline, on tiny frames."""

from datetime import date, datetime

import pytest

from cloud_analytics.speed.alerts import alerts, enrich, score

EVENTS = "event_id string, event_ts timestamp, event_date date, org_id string, resource_id string, " \
         "service string, cost_usd_increment double"
BASELINE = "org_id string, service string, events bigint, median_cost double, mad_cost double, " \
           "mean_abs_dev_cost double, p99_cost double"


def _event(event_id, org, cost, service="compute"):
    return (event_id, datetime(2025, 9, 1, 12, 0), date(2025, 9, 1), org, "res_1", service, cost)


def test_an_event_alerts_only_above_the_robust_threshold_and_p99(spark):
    baselines = spark.createDataFrame([
        ("org_a", "compute", 100, 1.0, 0.5, 0.6, 3.0),  # own history: robust z = 0.6745 (x - 1) / 0.5
        ("*", "compute", 1000, 10.0, 5.0, 6.0, 40.0),   # every org: used for org_b (no own history)
    ], BASELINE)
    events = spark.createDataFrame([
        _event("small", "org_a", 2.0),     # z = 1.35
        _event("big", "org_a", 5.0),       # z = 5.40 > 3.5 and 5 > p99 3
        _event("org_b_big", "org_b", 30.0),  # service baseline: z = 2.70, not an alert
        _event("org_b_huge", "org_b", 50.0),  # z = 5.40 and 50 > 40
        _event("unknown_service", "org_a", 1e6, service="teleport"),  # no baseline at all: never scored
    ], EVENTS)
    events = enrich(events, None, None)  # alerts carry the enrichment columns, null here
    scored = {r.event_id: r for r in score(events, baselines).collect()}
    assert scored["small"].robust_z == pytest.approx(0.6745 * 1.0 / 0.5)
    assert scored["org_b_big"].baseline_scope == "service"
    assert scored["unknown_service"].robust_z is None
    fired = alerts(score(events, baselines), "run_1", 3).collect()
    assert sorted(r.event_id for r in fired) == ["big", "org_b_huge"]
    big = next(r for r in fired if r.event_id == "big")
    assert big.alert_id == "cost:big" and big.batch_id == 3 and big.stream_run == "run_1"
    assert "org_service median" in big.reason and "5.00 USD" in big.reason


def test_enrichment_adds_current_attributes_and_keeps_unknown_entities(spark):
    events = spark.createDataFrame([_event("e1", "org_a", 1.0), _event("e2", "org_zzz", 1.0)], EVENTS)
    orgs = spark.createDataFrame([("org_a", "enterprise", "Fintech", "eu-west")],
                                 "org_id string, plan_tier string, industry string, hq_region string")
    resources = spark.createDataFrame([("res_1", "running", date(2025, 6, 1))],
                                      "resource_id string, state string, created_at date")
    rows = {r.event_id: r for r in enrich(events, orgs, resources).collect()}
    assert (rows["e1"].plan_tier, rows["e1"].industry, rows["e1"].resource_state) == ("enterprise", "Fintech", "running")
    assert rows["e2"].plan_tier is None and rows["e2"].resource_state == "running"
    assert {r.event_id for r in enrich(events, None, None).collect()} == {"e1", "e2"}
