"""Customer 360's health components one at a time, on one-row frames of the 360's metric columns.

Every expected value is worked out by hand in the comment beside it (docs/health-score.md has the
formulas): usage is the 30-day spend trend (and what replaces it without previous spend), support
the SLA breach rate and open critical tickets, engagement the marketing conversion rate.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloud_analytics.gold.customer_360 import add_health_score, health_components

METRICS = {
    "cost_last_30d_usd": "decimal(18,2)", "cost_prev_30d_usd": "decimal(18,2)", "event_count": "bigint",
    "tickets_total": "bigint", "open_tickets": "bigint", "open_critical_tickets": "bigint",
    "sla_breach_rate": "double", "mean_csat": "double", "latest_nps_score": "double", "org_nps_score": "double",
    "org_nps_in_range": "boolean", "invoice_count": "bigint", "credit_notes": "bigint",
    "positive_credits_usd": "decimal(18,2)", "positive_subtotal_usd": "decimal(18,2)",
    "touches": "bigint", "conversions": "bigint",
}
# An org with no facts at all: zero counts and money, null rates and scores.
EMPTY = {"cost_last_30d_usd": Decimal("0.00"), "cost_prev_30d_usd": Decimal("0.00"), "event_count": 0,
         "tickets_total": 0, "open_tickets": 0, "open_critical_tickets": 0, "invoice_count": 0, "credit_notes": 0,
         "touches": 0, "conversions": 0}


def _scored(spark, **metrics):
    row = {**EMPTY, **metrics}
    schema = ", ".join(f"{c} {t}" for c, t in METRICS.items())
    frame = spark.createDataFrame([tuple(row.get(c) for c in METRICS)], schema)
    return add_health_score(health_components(frame)).first()


@pytest.mark.parametrize("last, prev, events, expected", [
    ("80.00", "100.00", 5, 40.0),  # 50 + 50 × (80 − 100) / 100 = 50 − 10
    ("100.00", "100.00", 5, 50.0),  # flat
    ("350.00", "100.00", 5, 100.0),  # 50 + 50 × 2.5 = 175 → clamped
    ("50.00", "0.00", 3, 100.0),  # spend started: nothing in the previous 30 days
    ("0.00", "0.00", 7, 0.0),  # events before, no spend for 60 days: idle
    ("0.00", "0.00", 0, None),  # never used: unknown
])
def test_usage_is_the_spend_trend_and_idle_orgs_score_zero(spark, last, prev, events, expected):
    r = _scored(spark, cost_last_30d_usd=Decimal(last), cost_prev_30d_usd=Decimal(prev), event_count=events)
    assert r.usage_component == expected


@pytest.mark.parametrize("tickets, open_, critical, breach, expected", [
    (10, 3, 1, 0.1, 35.0),  # 100 − 400 × 0.1 − 25 × 1 = 100 − 40 − 25
    (4, 0, 0, 0.0, 100.0),  # nothing breached, nothing critical open
    (5, 4, 0, 0.05, 80.0),  # 100 − 20: open tickets of other severities cost nothing
    (8, 0, 0, 0.25, 0.0),  # a quarter breached: 100 − 100
    (6, 2, 2, 0.5, 0.0),  # 100 − 200 − 50 → clamped
    (0, 0, 0, None, None),  # never a ticket: unknown
])
def test_support_counts_sla_breaches_and_open_critical_tickets(spark, tickets, open_, critical, breach, expected):
    r = _scored(spark, tickets_total=tickets, open_tickets=open_, open_critical_tickets=critical,
                sla_breach_rate=breach)
    assert r.support_component == expected


@pytest.mark.parametrize("touches, conversions, expected", [
    (10, 1, 50.0),  # 500 × 1/10
    (8, 1, 62.5),  # 500 × 1/8
    (5, 1, 100.0),  # one in five: the top of the scale
    (4, 2, 100.0),  # 500 × 2/4 = 250 → clamped
    (5, 0, 0.0),  # touched, never converted
    (0, 0, None),  # never touched: unknown
])
def test_engagement_is_the_conversion_rate_of_marketing_touches(spark, touches, conversions, expected):
    assert _scored(spark, touches=touches, conversions=conversions).engagement_component == expected


def test_a_whole_score_by_hand(spark):
    # usage 50 + 50 × (60 − 100)/100 = 30; support 100 − 400 × 0.05 − 25 × 1 = 55; csat 25 × (4 − 1) = 75;
    # nps (20 + 100)/2 = 60; billing 100 − 200 × 5/100 = 90; engagement 500 × 2/20 = 50
    # score 0.30 × 30 + 0.20 × 55 + 0.20 × 75 + 0.10 × 60 + 0.10 × 90 + 0.10 × 50 = 9 + 11 + 15 + 6 + 9 + 5 = 55
    r = _scored(spark, cost_last_30d_usd=Decimal("60.00"), cost_prev_30d_usd=Decimal("100.00"), event_count=40,
                tickets_total=20, open_tickets=3, open_critical_tickets=1, sla_breach_rate=0.05, mean_csat=4.0,
                latest_nps_score=20.0, invoice_count=3, positive_credits_usd=Decimal("5.00"),
                positive_subtotal_usd=Decimal("100.00"), touches=20, conversions=2)
    assert (r.usage_component, r.support_component, r.csat_component, r.nps_component, r.billing_component,
            r.engagement_component) == (30.0, 55.0, 75.0, 60.0, 90.0, 50.0)
    assert (r.health_score, r.risk_band) == (55.0, "watch")


def test_missing_components_count_as_neutral(spark):
    # only csat known: 25 × (2 − 1) = 25; the other five weights (.80) take 50 → 0.20 × 25 + 0.80 × 50 = 45
    r = _scored(spark, mean_csat=2.0)
    assert (r.csat_component, r.usage_component, r.engagement_component) == (25.0, None, None)
    assert (r.health_score, r.risk_band) == (45.0, "at_risk")
