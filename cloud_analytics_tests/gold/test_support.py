"""Ticket marts: opened/resolved per day, the open backlog, SLA and valid-CSAT averages,
resolution-time percentiles; always from the latest snapshot."""

from __future__ import annotations

from datetime import date

import pytest

from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.gold.support import ticket_resolution_metrics, tickets_by_org_date
from cloud_analytics_tests.gold.frames import silver


def d(day: int) -> date:
    return date(2025, 7, day)


def tk(ticket_id, created, resolved=None, severity="high", category="billing", csat=None, valid=False,
       breached=False, **kw):
    hours = None if resolved is None else (resolved - created).days * 24.0
    return {"ticket_id": ticket_id, "org_id": "org_a", "category": category, "severity": severity,
            "created_at": created, "resolved_at": resolved, "status": "open" if resolved is None else "resolved",
            "resolution_hours": hours, "csat": csat, "csat_valid": valid, "sla_breached": breached, **kw}


@pytest.fixture(scope="module")
def tickets(spark):
    return silver(
        spark, "support_tickets",
        tk("t1", d(1), d(3), csat=4.0, valid=True, breached=True, category="security"),
        tk("t2", d(1)),  # still open
        tk("t3", d(2), d(2), csat=6.0, valid=False),  # TK-02: out of range, not averaged
        tk("t4", d(5), d(10), csat=2.0, valid=True, category="security"),
        tk("t5", d(2), d(4), severity="critical", breached=True, category="security"),
        # the previous snapshot still had t1 open: only the latest snapshot counts
        tk("t1", d(1), snapshot_date=date(2025, 7, 2)),
    ).cache()


def test_opened_resolved_and_backlog(tickets):
    out = tickets_by_org_date(tickets)
    assert out.columns == GOLD_BY_NAME["tickets_by_org_date"].column_names
    got = {(r.date, r.severity): (r.opened, r.resolved, r.open_backlog) for r in out.collect()}
    assert got == {
        # high: t1, t2 opened 07-01; t3 opened and resolved 07-02; t1 resolved 07-03;
        # t4 opened 07-05, resolved 07-10; t2 never resolved
        (d(1), "high"): (2, 0, 2),
        (d(2), "high"): (1, 1, 2),
        (d(3), "high"): (0, 1, 1),
        (d(5), "high"): (1, 0, 2),
        (d(10), "high"): (0, 1, 1),
        (d(2), "critical"): (1, 0, 1),
        (d(4), "critical"): (0, 1, 0),
    }


def test_sla_csat_and_critical(tickets):
    rows = {(r.date, r.severity): r for r in tickets_by_org_date(tickets).collect()}
    first = rows[(d(1), "high")]
    assert (first.sla_breached, first.sla_breach_rate, first.mean_csat, first.csat_count) == (1, 0.5, 4.0, 1)
    assert first.critical_count == 0
    second = rows[(d(2), "high")]
    assert (second.mean_csat, second.csat_count, second.sla_breach_rate) == (None, 0, 0.0)  # 6.0 is invalid
    crit = rows[(d(2), "critical")]
    assert (crit.critical_count, crit.sla_breach_rate) == (1, 1.0)
    resolved_only = rows[(d(3), "high")]
    assert (resolved_only.opened, resolved_only.sla_breach_rate, resolved_only.mean_csat) == (0, None, None)


def test_resolution_metrics(tickets):
    out = ticket_resolution_metrics(tickets)
    assert [*out.columns, "snapshot_date"] == GOLD_BY_NAME["ticket_resolution_metrics"].column_names
    rows = {(r.severity, r.category): r for r in out.collect()}
    sec = rows[("high", "security")]  # t1 48 h, t4 120 h
    assert (sec.ticket_count, sec.resolved_count, sec.open_count) == (2, 2, 0)
    assert (sec.median_resolution_hours, sec.p90_resolution_hours, sec.mean_resolution_hours) == (48.0, 120.0, 84.0)
    assert (sec.sla_breach_rate, sec.mean_csat) == (0.5, 3.0)
    billing = rows[("high", "billing")]  # t2 open, t3 0 h
    assert (billing.ticket_count, billing.resolved_count, billing.open_count) == (2, 1, 1)
    assert (billing.median_resolution_hours, billing.p90_resolution_hours) == (0.0, 0.0)
    assert billing.mean_csat is None
    assert rows[("critical", "security")].median_resolution_hours == 48.0
