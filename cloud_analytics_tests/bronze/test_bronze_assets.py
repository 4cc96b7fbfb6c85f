"""Bronze materialized with Dagster on the generated dataset (scale 1)."""

from cloud_analytics.lib.lake import table_path
from cloud_analytics.bronze.specs import CSV_SOURCES
from cloud_analytics.pipeline import materialize_all

# From landing-dataset.md, the figures the generator reproduces at scale 1.
LANDING_ROWS = {"customers_orgs": 80, "users": 800, "resources": 400, "billing_monthly": 240,
                "support_tickets": 1000, "marketing_touches": 1500, "nps_surveys": 92}


def _mats(steps):
    return {asset: meta for step in steps for asset, meta in step.materializations.items()}


def _count(spark, settings, table):
    return spark.read.format("delta").load(table_path(str(settings.lake), "bronze", table)).count()


def test_every_landed_row_is_in_bronze(bronze_run, spark, settings):
    assert _count(spark, settings, "usage_events") == 43_200
    for source in CSV_SOURCES:
        assert _count(spark, settings, source.name) == LANDING_ROWS[source.name], source.name
    assert _count(spark, settings, "usage_events_rejects") == 0


def test_all_bronze_checks_pass_and_metadata_is_recorded(bronze_run):
    assert [c for step in bronze_run for c in step.failed_checks] == []
    mats = _mats(bronze_run)
    assert set(mats) >= {f"bronze/{s.name}" for s in CSV_SOURCES} | {"bronze/usage_events"}
    for asset, meta in mats.items():
        if not asset.startswith("bronze/"):
            continue  # the stream step also runs the speed layer (tested in speed/)
        assert isinstance(meta["dagster/row_count"], int), asset
        assert meta["delta_version"] >= 0 and meta["dagster/column_schema"].columns, asset
    events = mats["bronze/usage_events"]
    assert (events["inserted"], events["files_read"], events["duplicates"]) == (43_200, 120, 0)
    assert events["schema_versions"] == {"1": 10_800, "2": 32_400}
    assert len(events["dates_touched"]) == 60


def test_running_bronze_again_changes_nothing(bronze_run, spark, settings, dagster_instance):
    before = {s.name: _count(spark, settings, s.name) for s in CSV_SOURCES}
    # ``force``: really run again (a plain re-run skips what nothing new landed for).
    again = _mats(materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("bronze",), force=True))
    after = {s.name: _count(spark, settings, s.name) for s in CSV_SOURCES}
    assert before == after
    assert _count(spark, settings, "usage_events") == 43_200
    assert (again["bronze/usage_events"]["files_read"], again["bronze/usage_events"]["inserted"]) == (0, 0)
