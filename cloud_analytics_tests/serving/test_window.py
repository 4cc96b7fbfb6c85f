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


def test_an_unpartitioned_window_replaces_whole_partitions():
    spec = SERVING_BY_NAME["tickets_by_day"]
    assert spec.partitions is None
    assert window.where(spec, whole_table=True) == "month = ?"
    assert window.bounds(spec, None, None) == ()
    assert window.delete_statement(spec, whole_table=True) == "DELETE FROM tickets_by_day USING TIMESTAMP ? WHERE month = ?"
    # The same table in a date window would replace a clustering range.
    assert window.where(spec) == "month = ? AND ticket_date >= ? AND ticket_date <= ?"


def test_the_platform_tables_replace_a_date_range_of_their_one_partition():
    revenue = SERVING_BY_NAME["platform_revenue_by_month"]
    assert window.where(revenue) == "scope = ? AND month >= ? AND month <= ?"
    assert window.bounds(revenue, date(2025, 7, 1), date(2025, 7, 31)) == (date(2025, 7, 1), date(2025, 7, 31))
    assert window.delete_statement(revenue) == (
        "DELETE FROM platform_revenue_by_month USING TIMESTAMP ? WHERE scope = ? AND month >= ? AND month <= ?")
    tickets = SERVING_BY_NAME["platform_tickets_by_day"]  # unpartitioned: replaced whole
    assert window.delete_statement(tickets, whole_table=True) == (
        "DELETE FROM platform_tickets_by_day USING TIMESTAMP ? WHERE scope = ?")


def test_gold_stream_counts_samples_and_finds_the_newest_date_on_the_way():
    columns = ["org_id", "day", "cost"]
    rows = [(f"org_{i % 3}", date(2025, 7, 1 + i % 28), i) for i in range(200)]
    stream = window.GoldStream(columns, "org_id", "day", sample_size=20)
    assert list(stream.watch(iter(rows))) == rows  # rows pass unchanged
    assert stream.seen == 200 and stream.rows_per_partition == {"org_0": 67, "org_1": 67, "org_2": 66}
    assert sorted(stream.partitions) == ["org_0", "org_1", "org_2"]
    assert stream.newest == date(2025, 7, 28)
    sample = stream.sample
    assert len(sample) == 20
    assert {s["cost"] for s in sample} <= set(range(200)) and len({s["cost"] for s in sample}) == 20
    assert max(s["cost"] for s in sample) >= 20  # not just the first rows
    again = window.GoldStream(columns, "org_id", "day", sample_size=20)
    list(again.watch(iter(rows)))
    assert again.sample == sample  # seeded: a re-run samples alike
    few = window.GoldStream(columns, "org_id", None, sample_size=20)
    list(few.watch(iter(rows[:5])))
    assert [s["cost"] for s in few.sample] == [0, 1, 2, 3, 4] and few.newest is None
