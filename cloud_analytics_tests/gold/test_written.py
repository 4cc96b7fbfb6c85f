"""The figures a gold asset counts while it writes (``lib.checks.Written``) equal the ones its
checks would count on the rows: the key figures, the summary figures and the row conditions."""

from decimal import Decimal

from dagster import AssetKey
from pyspark.sql import functions as F

from cloud_analytics.gold.assets import _summary_columns, figures
from cloud_analytics.gold.specs import GOLD_BY_NAME, HEALTH_RANGE, NO_NEGATIVE_COUNTS, ROW_CONDITIONS
from cloud_analytics.lib.checks import (
    DUPLICATED_KEYS,
    DUPLICATED_ROWS,
    NULL_KEYS,
    ROWS,
    KeyFigures,
    Written,
    figures_of,
    key_not_null,
    key_not_null_result,
    key_unique,
    key_unique_result,
)
from cloud_analytics.lib.spec import CheckInput

KEY = AssetKey(["gold", "t"])


def _rows(spark):
    # Day 1: k1 twice (a duplicate within the day), k2 once, a null key; day 2: k1 once.
    return spark.createDataFrame(
        [("2025-07-01", "k1", 1), ("2025-07-01", "k1", 2), ("2025-07-01", "k2", -3), ("2025-07-01", None, 4),
         ("2025-07-02", "k1", 5)],
        "d string, k string, n bigint")


def _written(df, keys, extra=None):
    written = Written(df, keys, extra)
    assert written.frame.columns == df.columns  # the helper columns never reach the table
    written.frame.collect()  # stands for the write: the first action reads the frame once
    return written.figures()


def test_key_figures_observed_while_writing_equal_one_aggregation(spark):
    df = _rows(spark)
    keys = KeyFigures(not_null=("k",), unique=("k",), per=("d",))
    observed = _written(df, keys)
    assert observed == figures_of(df, keys)
    assert (observed[ROWS], observed[NULL_KEYS], observed[DUPLICATED_KEYS], observed[DUPLICATED_ROWS]) == (5, 1, 1, 2)
    # Over the whole table (no ``per``), k1 is held by three rows.
    whole = _written(df, KeyFigures(unique=("k",)))
    assert (whole[DUPLICATED_KEYS], whole[DUPLICATED_ROWS]) == (1, 3)


def test_key_check_results_are_the_same_from_figures_and_from_the_frame(spark):
    df = _rows(spark)
    figures_ = _written(df, KeyFigures(not_null=("k",), unique=("k",), per=("d",)))
    from_figures = key_unique_result(KEY, figures_, ("k",), rows=df, per=("d",))
    from_frame = key_unique(KEY, df, ("k",), per=("d",))
    assert not from_figures.passed and from_figures.metadata == from_frame.metadata
    assert from_figures.metadata["sample"].value == "k1"
    assert key_not_null_result(KEY, figures_, ("k",)).metadata == key_not_null(KEY, df, ("k",)).metadata
    clean = df.filter("k = 'k2'")
    sampled = []
    result = key_unique_result(KEY, figures_of(clean, KeyFigures(unique=("k",))), ("k",),
                               rows=lambda: sampled.append(1) or clean)
    assert result.passed and result.metadata["sample"].value == "none" and sampled == []  # no read when clean


def test_row_conditions_count_the_rows_their_checks_count(spark):
    df = _rows(spark).withColumnRenamed("n", "opened")
    condition = ROW_CONDITIONS[NO_NEGATIVE_COUNTS.name]
    observed = _written(df, KeyFigures(), {"bad": F.expr(f"count_if({condition.failing(df.schema)})")})
    assert condition.outcome(observed["bad"], df.schema) == NO_NEGATIVE_COUNTS.evaluate(CheckInput(df, None))
    assert observed["bad"] == 1
    scores = spark.createDataFrame([(0.0,), (101.0,), (None,)], "health_score double")
    health = ROW_CONDITIONS[HEALTH_RANGE.name]
    assert health.outcome(2, scores.schema) == HEALTH_RANGE.evaluate(CheckInput(scores, None))


def test_summary_figures_observed_equal_the_aggregation(spark):
    c360 = GOLD_BY_NAME["customer_360"]
    rows = spark.createDataFrame([("a", "healthy"), ("b", "at_risk"), ("c", "healthy")],
                                 "org_id string, risk_band string")
    observed = _written(rows, KeyFigures(), _summary_columns(c360))
    assert (observed[ROWS], [observed[f"f{n}"] for n in range(3)]) == figures(c360, rows) == (3, [2, 0, 1])
    baselines = GOLD_BY_NAME["cost_baselines"]  # a distinct count written so a write can observe it
    orgs = spark.createDataFrame([("o1", "compute"), ("o1", "genai"), ("o2", "compute"), ("*", "compute")],
                                 "org_id string, service string")
    assert _written(orgs, KeyFigures(), _summary_columns(baselines))["f0"] == 2
    assert orgs.selectExpr("count(DISTINCT CASE WHEN org_id != '*' THEN org_id END)").first()[0] == 2
    assert figures(GOLD_BY_NAME["org_daily_usage_by_service"], spark.createDataFrame(
        [(Decimal("1.50"),)], "daily_cost_usd decimal(18,2)")) == (1, [Decimal("1.50")])
