"""Weekly lake maintenance: compact every Delta table, Z-order the large ones by org_id,
and VACUUM files no version within the retention needs.

Safe alongside the pipeline: OPTIMIZE commits carry ``dataChange = false`` (stream readers,
like the speed layer over bronze, skip them, and appends do not conflict with them), and
VACUUM keeps every file a version within the table's retention may read (Delta 4 takes it
from the table property ``delta.deletedFileRetentionDuration``, default 7 days; a
``vacuum(hours)`` argument other than 0 is ignored). A stream that falls further behind than
the retention would lose its position: raise the property on a table, never shorten it.
Each table gets an observation in the Dagster UI with its files
and bytes before and after.
"""


from dataclasses import dataclass

from dagster import AssetKey, AssetObservation, OpExecutionContext, ScheduleDefinition, job, op

from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource

LAYERS = ("bronze", "silver", "gold", "quarantine", "speed")
# The large, org-filtered tables: Z-ordering by org_id lets a per-org read skip most files.
ZORDER_BY_ORG = {("bronze", "usage_events"), ("silver", "usage_events"), ("gold", "org_daily_usage_by_service"),
                 ("gold", "usage_hourly_by_service_region"), ("speed", "usage_windows")}


@dataclass(frozen=True)
class TableMaintenance:
    layer: str
    name: str
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    zordered: bool
    files_vacuumed: int


def lake_tables(files: LakeFiles) -> list[tuple[str, str, str]]:
    """(layer, table, path) of every Delta table under the lake's layer folders."""
    root = files.root.rstrip("/")
    return [(layer, name, f"{root}/{layer}/{name}") for layer in LAYERS for name in files.tables(layer)]


def _detail(spark, path: str) -> tuple[int, int]:
    row = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").select("numFiles", "sizeInBytes").first()
    return int(row["numFiles"] or 0), int(row["sizeInBytes"] or 0)


def maintain_table(spark, layer: str, name: str, path: str, retention_hours: int | None = None,
                   files: LakeFiles | None = None) -> TableMaintenance:
    """OPTIMIZE (Z-ORDER by org_id on the large tables), then VACUUM with the table's retention
    (``retention_hours=0`` only in tests, with Delta's retention check disabled). ``files``: the
    lake's files, to count the data files on storage (default: ``path`` is a local folder)."""
    files = files or LakeFiles(path)
    # SQL rather than the DeltaTable API: the same statements run in-process and through Spark
    # Connect (whose server has no Delta Connect plugin).
    files_before, bytes_before = _detail(spark, path)
    table = f"delta.`{path}`"
    zorder = (layer, name) in ZORDER_BY_ORG and "org_id" in spark.read.format("delta").load(path).columns
    spark.sql(f"OPTIMIZE {table}" + (" ZORDER BY (org_id)" if zorder else "")).collect()
    on_disk_before = files.data_files(path)
    spark.sql(f"VACUUM {table}" + ("" if retention_hours is None else f" RETAIN {retention_hours} HOURS")).collect()
    files_after, bytes_after = _detail(spark, path)
    return TableMaintenance(layer, name, files_before, files_after, bytes_before, bytes_after, zorder,
                            max(on_disk_before - files.data_files(path), 0))


@op(description="OPTIMIZE (Z-ORDER by org_id on the large tables) and VACUUM every Delta table of the lake.")
def maintain_lake(context: OpExecutionContext, spark: SparkResource, lake: LakeResource) -> None:
    session = spark.spark_session
    totals = [0, 0]
    files = lake.files()
    for layer, name, path in lake_tables(files):
        done = maintain_table(session, layer, name, path, files=files)
        totals[0] += done.files_before
        totals[1] += done.files_after
        context.log_event(AssetObservation(asset_key=AssetKey([layer, name]), metadata={
            "files_before": done.files_before, "files_after": done.files_after,
            "bytes_before": done.bytes_before, "bytes_after": done.bytes_after,
            "zordered_by_org_id": done.zordered, "files_vacuumed": done.files_vacuumed}))
        context.log.info(f"{layer}/{name}: {done.files_before} → {done.files_after} files"
                         f"{' (Z-ordered by org_id)' if done.zordered else ''}, {done.files_vacuumed} vacuumed")
    context.log.info(f"lake maintenance: {totals[0]} → {totals[1]} files in total")


# Tagged like the refresh runs, so the instance's tag limit never runs it beside a rebuild.
@job(description="Weekly: compact and Z-order the Delta tables, then VACUUM with a safe retention.",
     tags={"cloud_analytics/refresh": "true"})
def weekly_maintenance_job():
    maintain_lake()


weekly_maintenance_schedule = ScheduleDefinition(
    job=weekly_maintenance_job, cron_schedule="0 3 * * 0", execution_timezone="UTC",
    description="Sunday 03:00 UTC: lake maintenance (OPTIMIZE, Z-ORDER, VACUUM).")
