"""Customer 360: the health-score formula at its edges, then the whole mart on three orgs.

org_a, as of 2025-08-31 (the last event date):
  usage   last 30 days 150, previous 30 days 100 → 50 + 50 × 0.5 = 75
  support 2 tickets up to 08-31 (t3 is later), 1 open and critical, 1 of 2 breached
          → 100 − 400 × 0.5 − 25 × 1 = −125 → clamped to 0
  csat    valid mean 5 → 100
  nps     surveys 20 (06-01), 40 (08-01); 150 is off the scale → latest 40, delta +20 → (40+100)/2 = 70
  billing July 100 subtotal / 10 credits, August 200 / 0 (September is after the as-of date)
          → 100 − 200 × 10/300 = 93.33
  engagement 3 touches, 1 converted → 500 × 1/3 = 166.7 → clamped to 100
  health  0.30×75 + 0.20×0 + 0.20×100 + 0.10×70 + 0.10×93.33 + 0.10×100
          = 22.5 + 0 + 20 + 7 + 9.33 + 10 = 68.83 → 68.8 → watch
  active resources: r1 running (07-01), r2 stopped (created on the as-of day), r5 running without
          created_at → 3; r3 is terminated, r4 created after the as-of date, r6 only in an older snapshot
org_b: no facts, master nps 101 (off the scale) → every component null → 50 → watch
org_c: no facts, master nps 60 → nps 80, others 50 → 15+10+10+8+5+5 = 53.0 → watch
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from cloud_analytics.gold.customer_360 import WEIGHTS, add_health_score, customer_360, health_components
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics_tests.gold.frames import ev, silver

COMPONENTS = "usage_component double, support_component double, csat_component double, " \
             "nps_component double, billing_component double, engagement_component double"
METRICS = ("cost_last_30d_usd decimal(18,2), cost_prev_30d_usd decimal(18,2), tickets_total bigint, "
           "open_tickets bigint, open_critical_tickets bigint, sla_breach_rate double, mean_csat double, "
           "latest_nps_score double, org_nps_score double, org_nps_in_range boolean, invoice_count bigint, "
           "credit_notes bigint, positive_credits_usd decimal(18,2), positive_subtotal_usd decimal(18,2), "
           "event_count bigint, touches bigint, conversions bigint")


def test_weights_sum_to_one():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


# components in the order usage, support, csat, nps, billing, engagement
# (weights .30, .20, .20, .10, .10, .10)
@pytest.mark.parametrize("components, score, band", [
    ((100.0, 100.0, 100.0, 100.0, 100.0, 100.0), 100.0, "healthy"),
    ((0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.0, "at_risk"),
    ((None, None, None, None, None, None), 50.0, "watch"),  # no facts: neutral, on the watch boundary
    ((150.0, 100.0, 100.0, 100.0, 100.0, 100.0), 100.0, "healthy"),  # clamped to 100
    ((-20.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.0, "at_risk"),  # clamped to 0
    ((100.0, None, None, None, None, None), 65.0, "watch"),  # 30 + 0.7 × 50
    ((100.0, 100.0, 100.0, 0.0, 0.0, 0.0), 70.0, "healthy"),  # 30 + 20 + 20: the healthy boundary
    ((100.0, 100.0, 99.5, 0.0, 0.0, 0.0), 69.9, "watch"),  # 30 + 20 + 19.9
    ((100.0, 100.0, 0.0, 0.0, 0.0, 0.0), 50.0, "watch"),  # 30 + 20: the watch boundary
    ((100.0, 99.5, 0.0, 0.0, 0.0, 0.0), 49.9, "at_risk"),  # 30 + 19.9
    ((0.0, 0.0, 0.0, 100.0, 100.0, 100.0), 30.0, "at_risk"),
])
def test_health_score_edges(spark, components, score, band):
    r = add_health_score(spark.createDataFrame([components], COMPONENTS)).first()
    assert (r.health_score, r.risk_band) == (score, band)


def _components(spark, metrics):
    r = add_health_score(health_components(spark.createDataFrame([metrics], METRICS))).first()
    return [r.usage_component, r.support_component, r.csat_component, r.nps_component, r.billing_component,
            r.engagement_component, r.health_score]


def test_components_from_metrics_at_their_maximum(spark):
    # spend doubled, no breach and nothing open, CSAT 5, NPS 100, no credits, 1 of 5 touches converted
    best = (Decimal("200.00"), Decimal("100.00"), 3, 0, 0, 0.0, 5.0, 100.0, None, None, 2, 0,
            Decimal("0.00"), Decimal("500.00"), 10, 5, 1)
    assert _components(spark, best) == [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]


def test_components_from_metrics_at_their_minimum(spark):
    # spend stopped, every ticket breached, CSAT 1, NPS −100, credits and credit notes, no conversion
    worst = (Decimal("0.00"), Decimal("100.00"), 12, 10, 3, 1.0, 1.0, -100.0, None, None, 4, 4,
             Decimal("90.00"), Decimal("100.00"), 10, 4, 0)
    assert _components(spark, worst) == [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_components_without_data_are_neutral(spark):
    # no events, no tickets, no csat, no survey and an off-scale master nps, no invoices, no touches
    empty = (Decimal("0.00"), Decimal("0.00"), 0, 0, 0, None, None, None, 101.0, False, 0, 0, None, None, 0, 0, 0)
    assert _components(spark, empty) == [None, None, None, None, None, None, 50.0]


@pytest.fixture(scope="module")
def mart(spark):
    orgs = silver(
        spark, "customers_orgs",
        {"org_id": "org_a", "org_name": "Nimbus 0", "plan_tier": "pro", "nps_score": 10.0, "nps_in_range": True},
        {"org_id": "org_b", "org_name": "Nimbus 1", "plan_tier": "free", "nps_score": 101.0, "nps_in_range": False},
        {"org_id": "org_c", "org_name": "Nimbus 2", "plan_tier": "free", "nps_score": 60.0, "nps_in_range": True},
    )
    events = silver(
        spark, "usage_events",
        ev("e1", datetime(2025, 8, 31, 9, 0), 150.0),  # last 30 days (08-02 … 08-31)
        ev("e2", datetime(2025, 7, 15, 9, 0), 100.0),  # previous 30 days (07-03 … 08-01)
        ev("e3", datetime(2025, 7, 1, 9, 0), 20.0),  # older: total only
    )
    billing = silver(
        spark, "billing_monthly",
        {"invoice_id": "i1", "org_id": "org_a", "month": date(2025, 7, 1), "subtotal_usd": 100.0,
         "credits_usd": 10.0, "taxes_usd": 21.0, "total_usd": 111.0},
        {"invoice_id": "i2", "org_id": "org_a", "month": date(2025, 8, 1), "subtotal_usd": 200.0,
         "credits_usd": 0.0, "taxes_usd": 42.0, "total_usd": 242.0},
        {"invoice_id": "i3", "org_id": "org_a", "month": date(2025, 9, 1), "subtotal_usd": -500.0,
         "credits_usd": 0.0, "taxes_usd": 105.0, "total_usd": -395.0},
    )
    tickets = silver(
        spark, "support_tickets",
        {"ticket_id": "t1", "org_id": "org_a", "severity": "low", "created_at": date(2025, 8, 1),
         "resolved_at": date(2025, 8, 5), "csat": 5.0, "csat_valid": True, "sla_breached": True},
        {"ticket_id": "t2", "org_id": "org_a", "severity": "critical", "created_at": date(2025, 8, 20),
         "sla_breached": False},
        {"ticket_id": "t3", "org_id": "org_a", "severity": "critical", "created_at": date(2025, 9, 5)},
    )
    surveys = silver(
        spark, "nps_surveys",
        {"org_id": "org_a", "survey_date": date(2025, 6, 1), "nps_score": 20.0, "nps_in_range": True},
        {"org_id": "org_a", "survey_date": date(2025, 8, 1), "nps_score": 40.0, "nps_in_range": True},
        {"org_id": "org_a", "survey_date": date(2025, 8, 10), "nps_score": 150.0, "nps_in_range": False},
    )
    touches = silver(
        spark, "marketing_touches",
        *[{"touch_id": f"m{i}", "org_id": "org_a", "touch_date": date(2025, 7, 1), "converted": i == 0}
          for i in range(3)],
    )
    resources = silver(
        spark, "resources",
        {"resource_id": "r1", "org_id": "org_a", "state": "running", "created_at": date(2025, 7, 1)},
        {"resource_id": "r2", "org_id": "org_a", "state": "stopped", "created_at": date(2025, 8, 31)},
        {"resource_id": "r3", "org_id": "org_a", "state": "terminated", "created_at": date(2025, 6, 1)},
        {"resource_id": "r4", "org_id": "org_a", "state": "running", "created_at": date(2025, 9, 10)},
        {"resource_id": "r5", "org_id": "org_a", "state": "running"},
        {"resource_id": "r6", "org_id": "org_c", "state": "running", "created_at": date(2025, 6, 1),
         "snapshot_date": date(2025, 8, 1)},
    )
    out = customer_360(orgs, events, billing, tickets, surveys, touches, resources)
    assert out.columns == GOLD_BY_NAME["customer_360"].column_names
    return {r.org_id: r for r in out.collect()}


def test_one_row_per_org_as_of_the_last_event_date(mart):
    assert set(mart) == {"org_a", "org_b", "org_c"}
    assert {r.as_of_date for r in mart.values()} == {date(2025, 8, 31)}


def test_org_a_facts(mart):
    a = mart["org_a"]
    assert (a.cost_total_usd, a.cost_last_30d_usd, a.cost_prev_30d_usd, a.event_count) == (
        Decimal("270.00"), Decimal("150.00"), Decimal("100.00"), 3)
    assert (a.revenue_total_usd, a.last_invoice_month, a.last_month_total_usd, a.invoice_count, a.credit_notes) == (
        Decimal("353.00"), date(2025, 8, 1), Decimal("242.00"), 2, 0)
    assert (a.tickets_total, a.open_tickets, a.open_critical_tickets, a.sla_breach_rate, a.mean_csat) == (
        2, 1, 1, 0.5, 5.0)
    assert (a.latest_nps_score, a.previous_nps_score, a.nps_delta, a.latest_survey_date) == (
        40.0, 20.0, 20.0, date(2025, 8, 1))
    assert (a.touches, a.conversions, a.active_resources) == (3, 1, 3)


def test_org_a_health(mart):
    a = mart["org_a"]
    assert (a.usage_component, a.support_component, a.csat_component, a.nps_component) == (75.0, 0.0, 100.0, 70.0)
    assert a.billing_component == pytest.approx(93.333, abs=1e-3)
    assert a.engagement_component == 100.0
    assert (a.health_score, a.risk_band) == (68.8, "watch")


def test_orgs_without_facts_are_neutral(mart):
    b, c = mart["org_b"], mart["org_c"]
    assert (b.event_count, b.cost_total_usd, b.tickets_total, b.touches, b.invoice_count, b.active_resources) == (
        0, Decimal("0.00"), 0, 0, 0, 0)
    assert (b.health_score, b.risk_band, b.nps_component, b.usage_component, b.engagement_component) == (
        50.0, "watch", None, None, None)
    assert (c.nps_component, c.health_score, c.risk_band, c.active_resources) == (80.0, 53.0, "watch", 0)
