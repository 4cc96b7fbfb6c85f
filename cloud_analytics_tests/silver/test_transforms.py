"""Silver transforms of resources, billing (FX), tickets, marketing touches and NPS surveys."""

from __future__ import annotations

from datetime import date

from cloud_analytics.quality import evaluate
from cloud_analytics.silver.billing import conform_billing
from cloud_analytics.silver.dims import conform_resources, resources_history
from cloud_analytics.silver.marketing import conform_surveys, conform_touches
from cloud_analytics.silver.tickets import conform_tickets
from cloud_analytics_tests.quality.frames import csv_rows, refs


def _kept(spark, table, *rows):
    return evaluate(csv_rows(spark, table, *rows), table, refs(spark)).kept


def test_resources_tags_and_pii(spark):
    out = {r.resource_id: r for r in conform_resources(_kept(
        spark, "resources",
        {"resource_id": "r1", "tags_json": '["env:prod", " PII:true", "team:ml", "backup:daily"]',
         "service": " Compute", "region": "ap_northeast"},
        {"resource_id": "r2", "tags_json": None},
        {"resource_id": "r3", "tags_json": "not json"},
        {"resource_id": "r4", "tags_json": '["env:prod", "env:dev", "costcenter:alpha"]'},
    )).collect()}
    r1 = out["r1"]
    assert r1.tags == ["env:prod", "pii:true", "team:ml", "backup:daily"]
    assert r1.tags_map == {"env": "prod", "pii": "true", "team": "ml", "backup": "daily"}
    assert (r1.has_pii, r1.service, r1.region) == (True, "compute", "ap-northeast")
    assert (out["r2"].tags, out["r2"].tags_map, out["r2"].has_pii) == ([], {}, False)
    assert (out["r3"].tags, out["r3"].has_pii) == ([], False)
    assert out["r4"].tags_map == {"env": "prod,dev", "costcenter": "alpha"}


def test_resources_history_versions_on_state_change(spark):
    snaps = _kept(spark, "resources",
                  {"state": "running", "snapshot_date": date(2025, 8, 1)},
                  {"state": "stopped", "snapshot_date": date(2025, 8, 2)})
    hist = resources_history(conform_resources(snaps))
    assert sorted((r.state, r.version, r.is_current) for r in hist.collect()) == [
        ("running", 1, False), ("stopped", 2, True)]


def test_billing_fx_normalization(spark):
    kept = _kept(
        spark, "billing_monthly",
        {"invoice_id": "eur", "currency": "EUR", "subtotal": 100.0, "credits": 10.0, "taxes": 21.0,
         "exchange_rate_to_usd": 1.1},
        {"invoice_id": "usd", "currency": "usd ", "subtotal": 200.0, "credits": None, "taxes": 42.0,
         "exchange_rate_to_usd": 0.9},
        {"invoice_id": "ars", "currency": "ARS", "subtotal": 10000.0, "credits": 0.0, "taxes": 2100.0,
         "exchange_rate_to_usd": 0.0015},
    )
    rows = {r.invoice_id: r for r in conform_billing(kept).collect()}
    eur, usd, ars = rows["eur"], rows["usd"], rows["ars"]
    # EUR: total 100 − 10 + 21 = 111 EUR; × 1.1 = 122.10 USD
    assert (eur.total, eur.subtotal_usd, eur.credits_usd, eur.taxes_usd, eur.total_usd) == (
        111.0, 110.0, 11.0, 23.1, 122.1)
    # USD: BI-03 rate 0.9 → 1, BI-02 credits null → 0: total 242 in both currencies
    assert (usd.currency, usd.exchange_rate_to_usd, usd.credits, usd.total, usd.total_usd) == (
        "USD", 1.0, 0.0, 242.0, 242.0)
    assert usd.dq_flags == ["BI-02", "BI-03"]
    # ARS: total 12,100 ARS × 0.0015 = 18.15 USD
    assert (ars.total, ars.subtotal_usd, ars.taxes_usd, ars.total_usd) == (12100.0, 15.0, 3.15, 18.15)


def test_tickets_status_resolution_and_csat(spark):
    rows = {r.ticket_id: r for r in conform_tickets(_kept(
        spark, "support_tickets",
        {"ticket_id": "t1", "created_at": date(2025, 7, 1), "resolved_at": date(2025, 7, 3), "csat": 4.0,
         "severity": " HIGH"},
        {"ticket_id": "t2", "resolved_at": None, "csat": 3.0},
        {"ticket_id": "t3", "csat": 6.0},
        {"ticket_id": "t4", "csat": None},
    )).collect()}
    assert (rows["t1"].status, rows["t1"].resolution_hours, rows["t1"].csat_valid, rows["t1"].severity) == (
        "resolved", 48.0, True, "high")
    assert (rows["t2"].status, rows["t2"].resolution_hours, rows["t2"].csat_valid) == ("open", None, False)
    assert rows["t2"].dq_flags == ["TK-03"]
    assert (rows["t3"].csat, rows["t3"].csat_valid, rows["t3"].dq_flags) == (6.0, False, ["TK-02"])
    assert rows["t4"].csat_valid is False


def test_touches_and_surveys(spark):
    touch = conform_touches(_kept(spark, "marketing_touches",
                                  {"channel": " In_App", "campaign": "Upgrade_Pro", "clicked": False,
                                   "converted": True})).first()
    assert (touch.channel, touch.campaign, touch.touch_date, touch.converted_without_click) == (
        "in_app", "upgrade_pro", date(2025, 6, 20), True)
    surveys = {r.comment: r for r in conform_surveys(_kept(
        spark, "nps_surveys",
        {"comment": "  Great support ", "nps_score": 30.0},
        {"comment": "Too expensive", "nps_score": 101.0, "survey_date": date(2025, 7, 16)},
        {"comment": "", "nps_score": None, "survey_date": date(2025, 7, 17)},
    )).collect()}
    assert surveys["Great support"].nps_in_range is True
    assert (surveys["Too expensive"].nps_in_range, surveys["Too expensive"].dq_flags) == (False, ["DOM-01"])
    assert surveys[None].nps_in_range is None and surveys[None].survey_date == date(2025, 7, 17)
