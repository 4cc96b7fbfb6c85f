"""Lake maintenance on small real Delta tables: fewer files, same data, vacuum honours retention."""

import pytest
from dagster import DagsterEventType, DagsterInstance
from pyspark.sql import functions as F

from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.orchestration.maintenance import lake_tables, maintain_table, weekly_maintenance_job
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource


def _fragmented(spark, path, appends=6):
    for i in range(appends):
        spark.range(i * 100, (i + 1) * 100).select(
            F.concat(F.lit("org_"), (F.col("id") % 7).cast("string")).alias("org_id"),
            F.col("id").alias("n")).write.format("delta").mode("append").save(path)


def _fingerprint(spark, path):
    df = spark.read.format("delta").load(path)
    return df.count(), df.agg(F.sum(F.xxhash64("org_id", "n").cast("decimal(38,0)"))).first()[0]


@pytest.mark.both_modes
def test_optimize_zorders_compacts_and_keeps_the_data(spark, tmp_path):
    path = str(tmp_path / "lake" / "silver" / "usage_events")
    _fragmented(spark, path)
    before = _fingerprint(spark, path)
    done = maintain_table(spark, "silver", "usage_events", path)
    assert done.zordered and done.files_before >= 6 and done.files_after == 1
    assert done.files_vacuumed == 0  # every replaced file is younger than the retention
    assert _fingerprint(spark, path) == before


@pytest.mark.both_modes
def test_vacuum_removes_unreferenced_files_past_the_retention(spark, tmp_path):
    path = str(tmp_path / "lake" / "gold" / "small_mart")
    _fragmented(spark, path, appends=3)
    before = _fingerprint(spark, path)
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        done = maintain_table(spark, "gold", "small_mart", path, retention_hours=0)
    finally:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    assert not done.zordered and done.files_after == 1
    assert done.files_vacuumed == done.files_before  # the compacted files are gone from disk
    assert _fingerprint(spark, path) == before


def test_the_job_observes_every_table(spark, settings, tmp_path):
    root = tmp_path / "lake"
    for layer, name in (("bronze", "a"), ("speed", "b")):
        _fragmented(spark, str(root / layer / name), appends=2)
    (root / "landing").mkdir()
    assert [(l, n) for l, n, _p in lake_tables(LakeFiles(str(root)))] == [("bronze", "a"), ("speed", "b")]
    files_on_disk = len(list((root / "bronze" / "a").glob("*.parquet")))
    resources = {"spark": SparkResource.from_settings(settings),
                 "lake": LakeResource(root=str(root), landing=str(root / "landing"))}
    with DagsterInstance.ephemeral() as instance:
        result = weekly_maintenance_job.execute_in_process(resources=resources, instance=instance)
        assert result.success
        observed = {tuple(e.asset_observation_data.asset_observation.asset_key.path):
                    e.asset_observation_data.asset_observation.metadata
                    for e in result.all_events if e.event_type == DagsterEventType.ASSET_OBSERVATION}
    assert set(observed) == {("bronze", "a"), ("speed", "b")}
    assert observed[("bronze", "a")]["files_before"].value == files_on_disk > 1
    assert observed[("bronze", "a")]["files_after"].value == 1
