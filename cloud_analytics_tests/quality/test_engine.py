"""Engine invariants: one quarantine row per input row, kept + quarantined = input, fixes read
the row as read, metrics per rule and partition."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import functions as F

from cloud_analytics.quality import QUARANTINE_SCHEMA, evaluate, metrics, metrics_summary
from cloud_analytics.quality.engine import METRICS_SCHEMA
from cloud_analytics_tests.quality.frames import csv_rows, events, refs

D1, D2 = date(2025, 7, 20), date(2025, 7, 21)


@pytest.fixture(scope="module")
def evaluation(spark):
    df = events(
        spark,
        {"event_id": "e1"},                                                       # clean
        {"event_id": "e2", "cost_usd_increment": -3.0},                           # EV-05 quarantine
        {"event_id": "e3", "unit": None},                                         # EV-03 fix
        {"event_id": "e4", "schema_version": 7, "org_id": "org_zz"},              # EV-07 + RI-01 + RI-02
        {"event_id": "e5", "event_date": D2, "service": "quantum", "org_id": "org_zz"},  # RI-01 + RI-02 + DOM-02
    )
    return df, evaluate(df, "usage_events", refs(spark)).persist()


def test_kept_plus_quarantined_is_the_input(evaluation):
    df, ev = evaluation
    assert ev.kept.count() + ev.quarantined.count() == df.count() == 5
    assert sorted(r.event_id for r in ev.kept.collect()) == ["e1", "e3"]


def test_one_quarantine_row_per_input_row_when_several_rules_fire(evaluation):
    rows = sorted((r.rule_id, r.rule_ids) for r in evaluation[1].quarantined.collect())
    assert rows == [("EV-05", ["EV-05"]), ("EV-07", ["EV-07", "RI-01", "RI-02"]), ("RI-01", ["RI-01", "RI-02", "DOM-02"])]


def test_output_schemas(spark, evaluation):
    _, ev = evaluation
    assert ev.quarantined.schema.simpleString() == spark.createDataFrame([], QUARANTINE_SCHEMA).schema.simpleString()
    assert metrics(ev).schema.simpleString() == spark.createDataFrame([], METRICS_SCHEMA).schema.simpleString()
    assert dict(ev.kept.dtypes)["dq_flags"] == "array<string>"


def test_metrics_count_every_rule_in_every_partition(evaluation):
    rows = {(r.partition_date, r.rule_id): (r.failed_count, r.quarantined_count, r.evaluated_count, r.action)
            for r in metrics(evaluation[1]).collect()}
    assert len(rows) == 2 * 14  # 14 usage_events rules × 2 partitions, zero counts included
    assert rows[(D1, "EV-07")] == (1, 1, 4, "quarantine")
    assert rows[(D1, "RI-01")] == (1, 0, 4, "quarantine")
    assert rows[(D1, "RI-02")] == (1, 0, 4, "quarantine")
    assert rows[(D1, "EV-05")] == (1, 1, 4, "quarantine")
    assert rows[(D1, "EV-03")] == (1, 0, 4, "fix_and_flag")
    assert rows[(D1, "EV-01")] == (0, 0, 4, "quarantine")
    assert rows[(D2, "RI-01")] == (1, 1, 1, "quarantine")
    assert rows[(D2, "DOM-02")] == (1, 0, 1, "quarantine")
    assert rows[(D2, "EV-05")] == (0, 0, 1, "quarantine")


def test_metrics_summary(evaluation):
    summary = metrics_summary(metrics(evaluation[1]))
    assert (summary["evaluated"], summary["kept"], summary["quarantined"]) == (5, 2, 3)
    assert summary["rules"]["RI-01"] == 2 and summary["rules"]["EV-05"] == 1 and summary["rules"]["EV-01"] == 0


def test_fixes_read_the_row_as_it_was_read(spark):
    # BI-03 tests the currency as read; the fix of BI-02 must not change what BI-03 sees.
    ev = evaluate(csv_rows(spark, "billing_monthly", {"currency": "USD", "exchange_rate_to_usd": 0.95,
                                                      "credits": None}), "billing_monthly", refs(spark))
    row = ev.kept.first()
    assert (row.credits, row.exchange_rate_to_usd, row.dq_flags) == (0.0, 1.0, ["BI-02", "BI-03"])


def test_lookup_duplicates_do_not_multiply_rows(spark):
    dup_orgs = {"orgs": refs(spark)["orgs"].unionByName(refs(spark)["orgs"])}
    ev = evaluate(csv_rows(spark, "users", {}, {"user_id": "user_2"}), "users", dup_orgs)
    assert ev.kept.count() == 2


def test_evaluating_twice_is_refused(spark, evaluation):
    with pytest.raises(ValueError, match="dq_flags"):
        evaluate(evaluation[1].kept, "usage_events", refs(spark))


def test_unknown_table_is_an_error(spark):
    with pytest.raises(KeyError, match="no data-quality rules"):
        evaluate(events(spark, {}).withColumn("x", F.lit(1)), "usage_evnts", {})
