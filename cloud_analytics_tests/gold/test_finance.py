"""Financial marts on hand-built invoices (amounts as silver books them: cents, USD = × rate)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from cloud_analytics.gold.finance import (
    cost_vs_billing_reconciliation,
    credit_impact,
    revenue_by_org_month,
    revenue_trend_monthly,
)
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics_tests.gold.frames import ev, silver

JUL, AUG, SEP, OCT = date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 1), date(2025, 10, 1)


def inv(invoice_id, org, month, currency, rate, subtotal, credits, taxes, flags=()):
    total = round(subtotal - credits + taxes, 2)
    usd = {f"{k}_usd": round(v * rate, 2) for k, v in
           (("subtotal", subtotal), ("credits", credits), ("taxes", taxes), ("total", total))}
    return {"invoice_id": invoice_id, "org_id": org, "month": month, "currency": currency,
            "exchange_rate_to_usd": rate, "subtotal": subtotal, "credits": credits, "taxes": taxes,
            "total": total, **usd, "dq_flags": list(flags)}


@pytest.fixture(scope="module")
def billing(spark):
    return silver(
        spark, "billing_monthly",
        # EUR: 100 − 10 + 21 = 111 EUR; × 1.1 → 110.00 − 11.00 + 23.10 = 122.10 USD
        inv("i1", "org_a", JUL, "EUR", 1.1, 100.0, 10.0, 21.0, ["BI-01"]),
        # a credit note: −50 − 0 + 10.5 = −39.50 EUR → −43.45 USD
        inv("i2", "org_a", AUG, "EUR", 1.1, -50.0, 0.0, 10.5, ["BI-02", "BI-01"]),
        inv("i3", "org_b", JUL, "USD", 1.0, 200.0, 20.0, 42.0, ["BI-03"]),  # 222.00
        inv("i4", "org_b", AUG, "USD", 1.0, 300.0, 0.0, 63.0),  # 363.00
        inv("i5", "org_b", OCT, "USD", 1.0, 10.0, 0.0, 2.1),  # 12.10, no September before it
    ).cache()


def test_revenue_by_org_month(billing):
    out = revenue_by_org_month(billing)
    assert out.columns == GOLD_BY_NAME["revenue_by_org_month"].column_names
    rows = {(r.org_id, r.month): r for r in out.collect()}
    jul = rows[("org_a", JUL)]
    assert (jul.currency, jul.fx_rate, jul.invoice_count, jul.invoice_ids) == ("EUR", 1.1, 1, ["i1"])
    assert (jul.subtotal, jul.credits, jul.taxes, jul.total) == (
        Decimal("100.00"), Decimal("10.00"), Decimal("21.00"), Decimal("111.00"))
    assert (jul.subtotal_usd, jul.credits_usd, jul.taxes_usd, jul.total_usd) == (
        Decimal("110.00"), Decimal("11.00"), Decimal("23.10"), Decimal("122.10"))
    assert jul.is_credit_note is False and jul.flags == ["BI-01"]
    aug = rows[("org_a", AUG)]
    assert (aug.total, aug.total_usd, aug.is_credit_note, aug.flags) == (
        Decimal("-39.50"), Decimal("-43.45"), True, ["BI-01", "BI-02"])
    assert rows[("org_b", JUL)].flags == ["BI-03"] and rows[("org_b", AUG)].flags == []


def test_several_invoices_in_different_currencies_keep_usd_only(spark):
    two = silver(spark, "billing_monthly", inv("x1", "org_z", JUL, "EUR", 1.1, 100.0, 0.0, 21.0),
                 inv("x2", "org_z", JUL, "ARS", 0.0016, 1000.0, 0.0, 210.0))
    r = revenue_by_org_month(two).first()
    assert (r.invoice_count, r.currency, r.fx_rate, r.total) == (2, None, None, None)
    assert r.total_usd == Decimal("135.04")  # 133.10 EUR→USD + 1.94 (1210 ARS × 0.0016 = 1.936)


def test_revenue_trend_monthly_and_growth(billing):
    out = revenue_trend_monthly(billing)
    assert out.columns == GOLD_BY_NAME["revenue_trend_monthly"].column_names
    rows = {r.month: r for r in out.collect()}
    assert set(rows) == {JUL, AUG, OCT}
    jul, aug, oct_ = rows[JUL], rows[AUG], rows[OCT]
    assert (jul.invoice_count, jul.org_count, jul.total_usd, jul.credits_usd, jul.taxes_usd) == (
        2, 2, Decimal("344.10"), Decimal("31.00"), Decimal("65.10"))
    assert jul.prev_total_usd is None and jul.mom_growth is None
    assert (aug.total_usd, aug.prev_total_usd, aug.credit_note_count) == (Decimal("319.55"), Decimal("344.10"), 1)
    assert aug.mom_growth == pytest.approx((319.55 - 344.10) / 344.10)
    assert oct_.prev_total_usd is None and oct_.mom_growth is None  # September is missing


def test_credit_impact(billing):
    out = credit_impact(billing)
    assert out.columns == GOLD_BY_NAME["credit_impact"].column_names
    rows = {(r.month, r.org_id): r for r in out.collect()}
    assert rows[(JUL, "org_a")].credit_ratio == pytest.approx(0.1)  # 11.00 / 110.00
    assert rows[(JUL, "org_a")].net_of_credits_usd == Decimal("99.00")
    assert rows[(JUL, "org_b")].credit_ratio == pytest.approx(0.1)  # 20 / 200
    assert rows[(AUG, "org_b")].credit_ratio == 0.0
    assert rows[(AUG, "org_a")].credit_ratio is None and rows[(AUG, "org_a")].is_credit_note is True


def test_cost_vs_billing_reconciliation(spark, billing):
    events = silver(
        spark, "usage_events",
        ev("u1", datetime(2025, 7, 20, 1, 0), 50.25), ev("u2", datetime(2025, 7, 31, 23, 59), 49.75),
        ev("u3", datetime(2025, 8, 1, 0, 0), 10.00),
        ev("u4", datetime(2025, 7, 21, 0, 0), 5.00, org_id="org_c"),
    )
    out = cost_vs_billing_reconciliation(events, billing)
    assert out.columns == GOLD_BY_NAME["cost_vs_billing_reconciliation"].column_names
    rows = {(r.org_id, r.month): r for r in out.collect()}
    jul = rows[("org_a", JUL)]
    assert (jul.usage_cost_usd, jul.usage_event_count, jul.usage_days) == (Decimal("100.00"), 2, 2)
    assert (jul.invoiced_total_usd, jul.invoiced_subtotal_usd) == (Decimal("122.10"), Decimal("110.00"))
    assert jul.difference_usd == Decimal("22.10") and jul.billing_ratio == pytest.approx(1.221)
    aug = rows[("org_a", AUG)]
    assert (aug.usage_cost_usd, aug.invoiced_total_usd, aug.difference_usd) == (
        Decimal("10.00"), Decimal("-43.45"), Decimal("-53.45"))
    only_usage = rows[("org_c", JUL)]
    assert (only_usage.has_usage, only_usage.has_invoice, only_usage.invoiced_total_usd) == (True, False, None)
    only_invoice = rows[("org_b", JUL)]
    assert (only_invoice.has_usage, only_invoice.has_invoice, only_invoice.usage_cost_usd) == (False, True, None)
    assert only_invoice.billing_ratio is None
