"""The checks several specs share, on hand-made frames: each passes on clean rows and names
what it found on bad ones."""

from cloud_analytics.lib.spec import CheckInput
from cloud_analytics.lib.table_checks import key_unique, reason_present


def _given(spark, rows, schema):
    return CheckInput(written=spark.createDataFrame(rows, schema), read=None)


def test_reason_present_counts_null_and_blank_reasons_per_column(spark):
    check = reason_present("source_file", "reason")
    schema = "source_file string, reason string"
    assert check.evaluate(_given(spark, [("a.jsonl", "not_json"), ("b.jsonl", "no_event_id")], schema)).passed
    outcome = check.evaluate(_given(spark, [("a.jsonl", "  "), (None, "not_json"), ("c.jsonl", None)], schema))
    assert not outcome.passed
    assert outcome.metadata == {"rows": 3, "rows_without_source_file": 1, "rows_without_reason": 2}


def test_key_unique_over_the_whole_table(spark):
    check = key_unique("alert_id")
    assert check.evaluate(_given(spark, [("cost:e1",), ("cost:e2",)], "alert_id string")).passed
    twice = check.evaluate(_given(spark, [("cost:e1",), ("cost:e1",), ("cost:e2",)], "alert_id string"))
    assert not twice.passed and twice.metadata == {"rows": 3, "distinct_keys": 2, "extra_rows": 1}
