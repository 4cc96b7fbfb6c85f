"""Usage marts: daily org usage, reconciliation to the cent, carbon "not measured", hourly and
daily service/region rollups, resource utilization and idle detection."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.gold.usage import (
    org_daily_usage_by_service,
    resource_utilization,
    usage_daily_by_service_region,
    usage_hourly_by_service_region,
)
from cloud_analytics_tests.gold.frames import ev, silver

D20, D21 = date(2025, 7, 20), date(2025, 7, 21)


@pytest.fixture(scope="module")
def events(spark):
    return silver(
        spark, "usage_events",
        # org_a / compute on 07-20 (v2): 1.25 + (−0.50, a refund) + 2.10 = 2.85
        ev("e1", datetime(2025, 7, 20, 10, 5), 1.25, metric="requests", requests=10.0, carbon_kg=0.5,
           region="us-east", plan_tier="pro", industry="Fintech"),
        ev("e2", datetime(2025, 7, 20, 10, 40), -0.50, metric="cpu_hours", cpu_hours=2.0, carbon_kg=0.25,
           region="us-east", plan_tier="pro", industry="Fintech", is_anomaly=True, dq_flags=["EV-05"]),
        ev("e3", datetime(2025, 7, 20, 11, 0), 2.10, metric="requests", requests=30.0, carbon_kg=0.0,
           region="us-east", plan_tier="pro", industry="Fintech"),
        # org_a / storage on 07-20: one v1 event, no requests, carbon not measured
        ev("e4", datetime(2025, 7, 20, 12, 0), 3.00, service="storage", metric="storage_gb_hours",
           storage_gb_hours=100.0, schema_version=1, region="eu-west"),
        # org_b / compute on 07-21: v1 only
        ev("e5", datetime(2025, 7, 21, 1, 0), 0.10, org_id="org_b", resource_id="res_b", metric="requests",
           requests=5.0, schema_version=1, region="us-east"),
        ev("e6", datetime(2025, 7, 21, 1, 30), 0.20, org_id="org_b", resource_id="res_b", metric="requests",
           requests=5.0, schema_version=1, region="us-east"),
    ).cache()


@pytest.fixture(scope="module")
def daily(events):
    out = org_daily_usage_by_service(events)
    assert out.columns == GOLD_BY_NAME["org_daily_usage_by_service"].column_names
    return {(r.org_id, r.usage_date, r.service): r for r in out.collect()}


def test_daily_cost_includes_negatives_and_counts(daily):
    r = daily[("org_a", D20, "compute")]
    assert r.daily_cost_usd == Decimal("2.85")
    assert r.daily_cost_usd_exact == Decimal("2.850000")
    assert (r.event_count, r.requests, r.cpu_hours, r.storage_gb_hours) == (3, 40.0, 2.0, 0.0)
    assert (r.anomaly_count, r.negative_cost_count) == (1, 1)
    assert r.cost_per_request == pytest.approx(2.85 / 40)
    assert (r.plan_tier, r.industry) == ("pro", "Fintech")
    assert r.carbon_kg == pytest.approx(0.75) and r.carbon_measured is True
    assert r.genai_tokens is None


def test_carbon_not_measured_is_null_and_no_requests_means_no_cost_per_request(daily):
    r = daily[("org_a", D20, "storage")]
    assert r.carbon_kg is None and r.carbon_measured is False
    assert r.requests == 0.0 and r.cost_per_request is None
    assert r.daily_cost_usd == Decimal("3.00")
    assert daily[("org_b", D21, "compute")].daily_cost_usd == Decimal("0.30")  # 0.1 + 0.2, no float dust


def test_daily_cost_reconciles_with_silver_to_the_cent(spark):
    # 07-22: 3 orgs × 2 services, 10 events each of 0.1, 0.2, 0.7, −0.05, 1.333333 (sub-cent) …
    costs = [0.1, 0.2, 0.7, -0.05, 1.333333, 0.01, 0.015, 2.675, 0.3, 0.005]
    rows = [ev(f"e{o}{s}{i}", datetime(2025, 7, 22, i, 0), c, org_id=o, service=s)
            for o in ("org_a", "org_b", "org_c") for s in ("compute", "genai") for i, c in enumerate(costs)]
    events = silver(spark, "usage_events", *rows)
    mart = org_daily_usage_by_service(events).filter(F.col("usage_date") == date(2025, 7, 22))
    totals = mart.agg(F.sum("daily_cost_usd_exact").alias("exact"), F.sum("daily_cost_usd").alias("cents")).first()
    # silver: 6 × (0.1+0.2+0.7−0.05+1.333333+0.01+0.015+2.675+0.3+0.005) = 6 × 5.288333 = 31.729998
    assert totals.exact == Decimal("31.729998")
    silver_total = events.agg(F.round(F.sum(F.col("cost_usd_increment").try_cast("decimal(18,6)")), 2)).first()[0]
    assert silver_total == Decimal("31.73")
    assert round(totals.exact, 2) == Decimal("31.73")
    # each org/service day rounds once: 5.288333 → 5.29, so the rounded cents add to 31.74;
    # the exact column is the one that reconciles, never a sum of rounded cents.
    assert totals.cents == Decimal("31.74")


def test_cent_valued_costs_reconcile_through_the_rounded_column_too(events):
    mart = org_daily_usage_by_service(events)
    for day, expected in ((D20, Decimal("5.85")), (D21, Decimal("0.30"))):
        got = mart.filter(F.col("usage_date") == day).agg(F.sum("daily_cost_usd")).first()[0]
        assert got == expected


def test_hourly_by_service_region(events):
    out = usage_hourly_by_service_region(events)
    assert out.columns == GOLD_BY_NAME["usage_hourly_by_service_region"].column_names
    rows = {(r.event_hour, r.service, r.region): r for r in out.collect()}
    assert len(rows) == 4
    ten = rows[(datetime(2025, 7, 20, 10), "compute", "us-east")]
    assert (ten.usage_date, ten.event_count, ten.cost_usd, ten.requests, ten.cpu_hours) == (
        D20, 2, Decimal("0.75"), 10.0, 2.0)
    assert rows[(datetime(2025, 7, 21, 1), "compute", "us-east")].cost_usd == Decimal("0.30")


def test_daily_by_service_region_carbon_measured_only_with_v2(events):
    out = usage_daily_by_service_region(events)
    assert out.columns == GOLD_BY_NAME["usage_daily_by_service_region"].column_names
    rows = {(r.usage_date, r.service, r.region): r for r in out.collect()}
    v2 = rows[(D20, "compute", "us-east")]
    assert (v2.event_count, v2.cost_usd, v2.carbon_measured) == (3, Decimal("2.85"), True)
    assert v2.carbon_kg == pytest.approx(0.75)
    v1 = rows[(D21, "compute", "us-east")]
    assert (v1.carbon_kg, v1.carbon_measured, v1.requests) == (None, False, 10.0)


def test_resource_utilization_and_idle_running(spark):
    resources = silver(
        spark, "resources",
        {"resource_id": "res_old", "org_id": "org_a", "service": "compute", "region": "us-east", "state": "running"},
        {"resource_id": "res_new", "org_id": "org_a", "service": "compute", "region": "us-east", "state": "running"},
        {"resource_id": "res_stop", "org_id": "org_a", "service": "storage", "region": "us-east", "state": "stopped"},
        {"resource_id": "res_none", "org_id": "org_b", "service": "genai", "region": "eu-west", "state": "running"},
        # an older snapshot says res_new was stopped: only the latest snapshot counts
        {"resource_id": "res_new", "org_id": "org_a", "state": "stopped", "snapshot_date": date(2025, 8, 1)},
    )
    events = silver(
        spark, "usage_events",
        ev("a", datetime(2025, 8, 24, 9, 0), 1.50, resource_id="res_old", requests=4.0),  # 7 days before 08-31
        ev("b", datetime(2025, 8, 25, 9, 0), 2.25, resource_id="res_new", cpu_hours=1.5),  # 6 days before: recent
        ev("c", datetime(2025, 8, 31, 9, 0), 0.75, resource_id="res_new", cpu_hours=0.5),
        ev("d", datetime(2025, 8, 30, 9, 0), 9.99, resource_id="res_gone", org_id="org_c", service="database"),
    )
    out = resource_utilization(resources, events)
    assert [*out.columns, "snapshot_date"] == GOLD_BY_NAME["resource_utilization"].column_names
    rows = {r.resource_id: r for r in out.collect()}
    assert set(rows) == {"res_old", "res_new", "res_stop", "res_none", "res_gone"}
    assert all(r.as_of_date == date(2025, 8, 31) for r in rows.values())
    assert (rows["res_old"].is_idle_running, rows["res_old"].events_last_7d, rows["res_old"].last_event_date) == (
        True, 0, date(2025, 8, 24))
    new = rows["res_new"]
    assert (new.is_idle_running, new.state, new.event_count, new.events_last_7d) == (False, "running", 2, 2)
    assert (new.cost_usd, new.cpu_hours, new.first_event_date) == (Decimal("3.00"), 2.0, date(2025, 8, 25))
    assert rows["res_stop"].is_idle_running is False and rows["res_stop"].event_count == 0
    assert rows["res_none"].is_idle_running is True and rows["res_none"].cost_usd == Decimal("0.00")
    gone = rows["res_gone"]
    assert (gone.in_inventory, gone.org_id, gone.service, gone.cost_usd, gone.is_idle_running) == (
        False, "org_c", "database", Decimal("9.99"), False)
