"""A Delta round trip through the platform's SparkSession."""

from datetime import date

import pytest

from cloud_analytics.resources.spark import SparkSetupError, delta_jars


def test_session_is_utc_with_delta(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions")
    # A timestamp written with Z is read back as the same UTC wall clock.
    row = spark.sql("select cast(to_timestamp('2025-08-17T01:55:00Z') as string) as ts").first()
    assert row.ts == "2025-08-17 01:55:00"


def test_column_calls_skip_pyspark_call_site_capture(spark):
    """Column calls make no call-site round trips (each cost ~1 ms with the debugging on)."""
    from pyspark.errors.utils import is_debugging_enabled
    from pyspark.sql import functions as F

    F.col("warm_up")
    assert not is_debugging_enabled()


def test_delta_write_read_and_partition_overwrite(spark, tmp_path):
    path = str(tmp_path / "roundtrip")
    rows = [(i, date(2025, 7, 1 + i % 3), float(i)) for i in range(9)]
    df = spark.createDataFrame(rows, "id long, day date, amount double")
    df.write.format("delta").partitionBy("day").save(path)

    back = spark.read.format("delta").load(path)
    assert back.count() == 9
    assert sorted(r.id for r in back.collect()) == list(range(9))

    # Replace exactly one partition: the other two are untouched.
    new = spark.createDataFrame([(100, date(2025, 7, 2), 1.5)], "id long, day date, amount double")
    (new.write.format("delta").mode("overwrite")
        .option("replaceWhere", "day = DATE'2025-07-02'").save(path))
    after = {(r.day.isoformat(), r.id) for r in spark.read.format("delta").load(path).collect()}
    assert ("2025-07-02", 100) in after
    assert {i for d, i in after if d == "2025-07-02"} == {100}
    assert {i for d, i in after if d == "2025-07-01"} == {0, 3, 6}
    assert {i for d, i in after if d == "2025-07-03"} == {2, 5, 8}

    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, path).history().select("version").collect()
    assert sorted(r.version for r in history) == [0, 1]


def test_missing_jars_give_a_clear_error(tmp_path):
    with pytest.raises(SparkSetupError, match="make setup"):
        delta_jars(tmp_path)
