"""A partition window in Cassandra terms: months, WHERE clauses with bind markers, bounds."""

from datetime import date
from decimal import Decimal

from cloud_analytics.serving import window
from cloud_analytics.serving.specs import SERVING_BY_NAME


def test_months_of_a_window_cross_years():
    assert window.months(date(2025, 12, 30), date(2026, 2, 1)) == ["2025-12", "2026-01", "2026-02"]
    assert window.months(date(2025, 7, 1), date(2025, 7, 31)) == ["2025-07"]


def test_where_and_bounds_of_a_date_range_table():
    spec = SERVING_BY_NAME["org_daily_usage"]
    assert window.where(spec) == "org_id = ? AND usage_date >= ? AND usage_date <= ?"
    assert window.bounds(spec, date(2025, 7, 1), date(2025, 7, 3)) == (date(2025, 7, 1), date(2025, 7, 3))
    assert window.delete_statement(spec) == (
        "DELETE FROM org_daily_usage USING TIMESTAMP ? WHERE org_id = ? AND usage_date >= ? AND usage_date <= ?")


def test_where_and_bounds_of_a_whole_partition_table():
    spec = SERVING_BY_NAME["revenue_by_month"]
    assert window.where(spec) == "month = ?"
    assert window.bounds(spec, date(2025, 7, 1), date(2025, 7, 31)) == ()


def test_values_read_back_compare_numbers_within_a_micro_dollar():
    assert window.same(Decimal("1.2300001"), 1.23) and not window.same(Decimal("1.24"), 1.23)
    assert window.same(None, None) and not window.same(None, 0)
    assert window.same("at_risk", "at_risk") and not window.same("watch", "at_risk")
