"""The dashboard's reshaping of query rows: formats, provisional marks, anomaly marks, bands."""

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from cloud_analytics.dashboard import frames

pytestmark = pytest.mark.fast


def test_money_rounds_decimals_half_to_even_like_the_query_command():
    assert frames.money(D("1234.565")) == "$1,234.56"  # half to even, as round(Decimal, 2) in the CLI
    assert frames.money(D("0.135")) == "$0.14"
    assert frames.money(1234.5) == "$1,234.50"
    assert frames.money(None) == "—"
    assert frames.rate(0.0015712) == "0.0015712" and frames.rate(1.0) == "1" and frames.rate(None) == "—"


def test_total_keeps_money_exact_and_skips_missing_values():
    rows = [{"c": D("0.10")}, {"c": D("0.20")}, {"c": None}]
    assert frames.total(rows, "c") == D("0.30")
    assert frames.total([{"n": 2}, {"n": 3}], "n") == 5 and frames.total([], "n") == 0


def test_speed_rows_are_provisional_and_flagged_days_are_marked():
    q1 = [{"usage_date": date(2025, 8, 1), "service": "compute", "daily_cost_usd": D("5.5"), "requests": 10,
           "source": "batch"},
          {"usage_date": date(2025, 8, 2), "service": "compute", "daily_cost_usd": D("7.25"), "requests": 3,
           "source": "speed"},
          {"usage_date": date(2025, 8, 2), "service": "storage", "daily_cost_usd": None, "requests": 0,
           "source": "speed"}]
    anomalies = [{"anomaly_date": date(2025, 8, 2), "service": "compute", "daily_cost_usd": D("7.25")}]
    costs = frames.daily_cost(q1, anomalies)
    assert list(costs["layer"]) == [frames.FINAL, frames.PROVISIONAL, frames.PROVISIONAL]
    assert list(costs["anomaly"]) == [False, True, False]
    assert list(costs["cost_usd"]) == [5.5, 7.25, 0.0]
    marks = frames.anomaly_marks(anomalies + [{"anomaly_date": date(2025, 8, 2), "service": "genai",
                                                "daily_cost_usd": D("1.00")}])
    assert marks.to_dict("records") == [{"date": frames.pd.Timestamp("2025-08-02"), "services": "compute, genai",
                                         "flagged_cost_usd": 8.25}]


def test_revenue_newest_month_first_with_currency_rate_and_invoiced_amount():
    q4 = [{"month": date(2025, 6, 1), "currency": "ARS", "fx_rate": 0.00157, "total_usd": D("31.40"),
           "total_original": D("20000.00")},
          {"month": date(2025, 7, 1), "currency": "USD", "fx_rate": 1.0, "total_usd": D("754.57"),
           "total_original": D("754.57")}]
    table = frames.revenue_table(q4)
    assert list(table.index) == ["2025-07", "2025-06"]
    assert table.loc["2025-06"].to_dict() == {"currency": "ARS", "rate": "0.00157", "invoiced": "20,000.00",
                                              "total_usd": "$31.40"}


def test_every_band_is_shown_even_when_empty_and_live_open_windows_are_provisional():
    ranking = [{"risk_band": "watch"}, {"risk_band": "healthy"}, {"risk_band": "watch"}]
    assert frames.band_counts(ranking).to_dict("records") == [
        {"band": "healthy", "orgs": 1}, {"band": "watch", "orgs": 2}, {"band": "at_risk", "orgs": 0}]
    live = frames.live([{"window_end": datetime(2025, 8, 1, 10, 5), "service": "compute", "cost_usd": D("1.5"),
                         "event_count": 4, "is_closed": True},
                        {"window_end": datetime(2025, 8, 1, 10, 10), "service": "compute", "cost_usd": D("2"),
                         "event_count": 5, "is_closed": False}])
    assert list(live["layer"]) == [frames.FINAL, frames.PROVISIONAL]


def test_empty_results_give_empty_frames_with_their_columns():
    assert list(frames.daily_cost([], []).columns) == ["date", "service", "cost_usd", "requests", "layer", "anomaly"]
    assert frames.top_services_table([]).empty and frames.org_table([]).empty and frames.alerts_table([]).empty
