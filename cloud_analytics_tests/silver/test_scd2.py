"""SCD2 history from daily snapshots, its current view and as-of joins."""

from __future__ import annotations

from datetime import date

import pytest

from cloud_analytics.quality import evaluate
from cloud_analytics.silver.dims import conform_orgs, orgs_history
from cloud_analytics.silver.scd2 import BEGINNING, END, as_of_join, build_scd2, current_view, latest_per_key
from cloud_analytics_tests.quality.frames import csv_rows

D1, D2, D3 = date(2025, 8, 1), date(2025, 8, 2), date(2025, 8, 3)


@pytest.fixture(scope="module")
def history(spark):
    snapshots = csv_rows(
        spark, "customers_orgs",
        # org_a changes plan on D2; the D3 snapshot repeats D2 (no new version)
        {"org_id": "org_a", "plan_tier": "pro", "snapshot_date": D1},
        {"org_id": "org_a", "plan_tier": "Enterprise ", "snapshot_date": D2},
        {"org_id": "org_a", "plan_tier": "enterprise", "snapshot_date": D3},
        # org_b never changes
        *[{"org_id": "org_b", "plan_tier": "free", "snapshot_date": d} for d in (D1, D2, D3)],
        # org_c is gone from the D3 snapshot
        *[{"org_id": "org_c", "plan_tier": "standard", "snapshot_date": d} for d in (D1, D2)],
    )
    return orgs_history(conform_orgs(evaluate(snapshots, "customers_orgs").kept)).cache()


def test_a_version_only_when_a_tracked_attribute_changes(history):
    rows = sorted((r.org_id, r.version, r.plan_tier, r.valid_from, r.valid_to, r.is_current, r.changed_on)
                  for r in history.collect())
    assert rows == [
        ("org_a", 1, "pro", BEGINNING, D2, False, D1),
        ("org_a", 2, "enterprise", D2, END, True, D2),  # " Enterprise " on D2 == "enterprise" on D3
        ("org_b", 1, "free", BEGINNING, END, True, D1),
        ("org_c", 1, "standard", BEGINNING, D3, False, D1),  # deleted: closed the day after last seen
    ]
    assert BEGINNING == date(1900, 1, 1) and END == date(9999, 12, 31)


def test_current_view(history):
    assert sorted((r.org_id, r.plan_tier) for r in current_view(history).collect()) == [
        ("org_a", "enterprise"), ("org_b", "free")]


def test_as_of_join_picks_the_version_valid_on_the_date(spark, history):
    facts = spark.createDataFrame(
        [("f1", "org_a", date(2020, 1, 1)), ("f2", "org_a", D1), ("f3", "org_a", D2), ("f4", "org_a", date(2026, 1, 1)),
         ("f5", "org_c", D2), ("f6", "org_c", D3), ("f7", "org_zz", D1)],
        "fact string, org_id string, d date")
    out = as_of_join(facts, history, ["org_id"], "d", {"plan_tier": "plan"})
    assert out.columns == ["fact", "org_id", "d", "plan"]
    assert sorted((r.fact, r.plan) for r in out.collect()) == [
        ("f1", "pro"), ("f2", "pro"), ("f3", "enterprise"), ("f4", "enterprise"),
        ("f5", "standard"), ("f6", None), ("f7", None)]


def test_generic_over_key_and_tracked_columns_including_maps(spark):
    snaps = spark.createDataFrame(
        [("r1", {"env": "prod"}, "running", D1), ("r1", {"env": "prod"}, "running", D2),
         ("r1", {"env": "prod"}, "stopped", D3)],
        "rid string, tags map<string,string>, state string, snap date")
    hist = build_scd2(snaps, ["rid"], ["tags", "state"], snapshot_col="snap")
    assert sorted((r.version, r.state, r.valid_from, r.valid_to) for r in hist.collect()) == [
        (1, "running", BEGINNING, D3), (2, "stopped", D3, END)]


def test_same_day_duplicates_reduce_to_one_row_deterministically(spark):
    snaps = spark.createDataFrame([("k", "b", D1), ("k", "a", D1)], "k string, v string, snap date")
    hist = build_scd2(snaps, ["k"], ["v"], snapshot_col="snap")
    assert [(r.v, r.valid_from, r.valid_to) for r in hist.collect()] == [("a", BEGINNING, END)]


def test_latest_per_key(spark):
    df = spark.createDataFrame([("t1", 1, D1), ("t1", 2, D2), ("t2", 9, D1)], "id string, v int, snapshot_date date")
    assert sorted((r.id, r.v) for r in latest_per_key(df, ["id"]).collect()) == [("t1", 2), ("t2", 9)]
