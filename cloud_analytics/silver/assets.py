"""Silver assets: every bronze table evaluated by its data-quality rules, conformed, enriched.

Each asset reads its bronze partition window, applies the table's rules (``quality``),
writes kept rows to ``<lake>/silver/<table>``, quarantined rows to
``<lake>/quarantine/<table>`` and per-rule counts to ``<lake>/quarantine/dq_metrics``, each
replacing exactly the window, so re-runs never duplicate. Orgs and resources also get an SCD2
history (``*_history``), rebuilt from every stored snapshot on each run (small tables), which
the other tables use as reference data and for as-of enrichment.
"""

from dataclasses import dataclass
from typing import Callable

from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    LastPartitionMapping,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.assets import USAGE_EVENTS, day_window
from cloud_analytics.config import load_settings
from cloud_analytics.delta_io import date_window_predicate, replace_where, table_exists, table_metadata
from cloud_analytics.partitions import billing_monthly, events_daily, snapshot_daily
from cloud_analytics.quality import evaluate, metrics, metrics_summary, refs_for
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.silver import checks
from cloud_analytics.silver.billing import conform_billing
from cloud_analytics.silver.dims import (
    conform_orgs,
    conform_resources,
    conform_users,
    orgs_history,
    resources_history,
)
from cloud_analytics.silver.marketing import conform_surveys, conform_touches
from cloud_analytics.silver.pii import PepperError
from cloud_analytics.silver.scd2 import current_view
from cloud_analytics.silver.tickets import conform_tickets
from cloud_analytics.silver.usage_events import build_silver_events

ORGS_HISTORY = AssetKey(["silver", "customers_orgs_history"])
RESOURCES_HISTORY = AssetKey(["silver", "resources_history"])
KIND = {"spark", "delta"}


def _pepper() -> str:
    pepper = load_settings().pii_pepper
    if not pepper:
        raise PepperError("CLOUD_ANALYTICS_PII_PEPPER is not set (and `make setup` wrote no local one): "
                          "emails cannot be pseudonymized")
    return pepper


@dataclass(frozen=True)
class SilverTable:
    name: str
    conform: Callable[[DataFrame], DataFrame]
    partitions: object
    key: tuple[str, ...]
    partition_column: str
    description: str


def _read(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def load_refs(spark: SparkSession, lake: LakeResource, table: str) -> dict[str, DataFrame]:
    """The reference frames a table's rules need: current orgs, the resources history."""
    refs = {}
    for name in refs_for(table):
        if name == "orgs":
            refs["orgs"] = current_view(_read(spark, lake.table("silver", "customers_orgs_history")))
        elif name == "resources":
            refs["resources"] = _read(spark, lake.table("silver", "resources_history"))
    return refs


def write_quality(spark: SparkSession, lake: LakeResource, evaluation, table: str, start, end) -> dict:
    """Quarantine rows and per-rule counts of the window, each replacing the window's rows."""
    window = date_window_predicate("partition_date", start, end)
    replace_where(evaluation.quarantined, lake.table("quarantine", table), window, ["partition_date"])
    counts = metrics(evaluation)
    replace_where(counts, lake.table("quarantine", "dq_metrics"), f"table = '{table}' AND {window}", ["table"])
    return metrics_summary(_read(spark, lake.table("quarantine", "dq_metrics")).filter(
        f"table = '{table}' AND {window}"))


def _quality_metadata(summary: dict) -> dict:
    return {
        "evaluated": summary["evaluated"],
        "quarantined": summary["quarantined"],
        "dq_rule_counts": MetadataValue.json(summary["rules"]),
    }


def build_silver_asset(spec: SilverTable, extra_deps: list | None = None):
    key = AssetKey(["silver", spec.name])
    bronze = AssetKey(["bronze", spec.name])

    @asset(
        key=key,
        group_name="silver",
        description=spec.description,
        deps=[bronze, *(extra_deps or [])],
        partitions_def=spec.partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds=KIND,
        tags={"layer": "silver"},
        check_specs=checks.specs(key),
    )
    def _silver(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        start, end = day_window(context)
        window = date_window_predicate(spec.partition_column, start, end)
        source = _read(session, lake.table("bronze", spec.name)).filter(window)
        evaluation = evaluate(source, spec.name, load_refs(session, lake, spec.name)).persist()
        path = lake.table("silver", spec.name)
        replace_where(spec.conform(evaluation.kept), path, window, [spec.partition_column])
        summary = write_quality(session, lake, evaluation, spec.name, start, end)
        evaluation.unpersist()
        return _result(context, session, lake, spec, path, (start, end), summary, source)

    return _silver


def _result(context, session, lake, spec: SilverTable, path: str, days: tuple, summary: dict,
            source: DataFrame) -> MaterializeResult:
    key = AssetKey(["silver", spec.name])
    written = _read(session, path).filter(date_window_predicate(spec.partition_column, *days))
    rows = written.count()
    quarantined = _read(session, lake.table("quarantine", spec.name)).filter(
        date_window_predicate("partition_date", *days)).count()
    check_results = [
        checks.conservation(key, source.count(), rows, quarantined),
        checks.quarantine_rate(key, summary, load_settings().max_quarantine_rate),
        checks.key_not_null(key, written, spec.key),
        checks.schema_matches(key, written, spec.name),
    ]
    text = f"{rows:,} rows, {quarantined:,} quarantined"
    context.log.info(f"silver/{spec.name}: {text}; rule counts {summary['rules']}")
    return MaterializeResult(
        metadata=table_metadata(session, path, rows, **_quality_metadata(summary), summary=text),
        check_results=check_results,
    )


def build_history_asset(name: str, source: str, build: Callable[[DataFrame], DataFrame], description: str):
    key = AssetKey(["silver", name])

    @asset(
        key=key, group_name="silver", description=description, deps=[AssetKey(["silver", source])],
        partitions_def=snapshot_daily, backfill_policy=BackfillPolicy.single_run(), kinds=KIND,
        tags={"layer": "silver"}, check_specs=checks.history_specs(key),
    )
    def _history(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        _, end = day_window(context)
        snapshots = _read(session, lake.table("silver", source)).filter(F.col("snapshot_date") <= F.lit(end))
        history = build(snapshots)
        path = lake.table("silver", name)
        history.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
        stored = _read(session, path)
        rows = stored.count()
        current = stored.filter("is_current").count()
        text = f"{rows:,} versions, {current:,} current, snapshots up to {end}"
        context.log.info(f"silver/{name}: {text}")
        return MaterializeResult(
            metadata=table_metadata(session, path, rows, current_rows=current, summary=text),
            check_results=checks.history_checks(key, stored, name),
        )

    return _history


SNAPSHOT_TABLES = [
    SilverTable("customers_orgs", conform_orgs, snapshot_daily, ("org_id",), "snapshot_date",
                "Customer orgs per snapshot day: domains canonical, NPS range flagged (DOM-01)."),
    SilverTable("resources", conform_resources, snapshot_daily, ("resource_id",), "snapshot_date",
                "Resources per snapshot day: tags parsed into an array and a map, PII flag."),
    SilverTable("users", lambda kept: conform_users(kept, _pepper()), snapshot_daily, ("user_id",),
                "snapshot_date", "Users per snapshot day: email pseudonymized (HMAC-SHA256 + domain), "
                "role canonical, has_logged_in. No plain email past bronze."),
    SilverTable("support_tickets", conform_tickets, snapshot_daily, ("ticket_id",), "snapshot_date",
                "Tickets per snapshot day: status, resolution hours, CSAT validity."),
    SilverTable("marketing_touches", conform_touches, snapshot_daily, ("touch_id",), "snapshot_date",
                "Marketing touches per snapshot day, domains canonical."),
    SilverTable("nps_surveys", conform_surveys, snapshot_daily, ("org_id", "survey_date"), "snapshot_date",
                "NPS survey answers per snapshot day, range flagged."),
]
BILLING = SilverTable("billing_monthly", conform_billing, billing_monthly, ("invoice_id",), "month",
                      "Invoices per month: credits filled, USD rate fixed, totals in USD and original currency.")

orgs_silver = build_silver_asset(SNAPSHOT_TABLES[0])
orgs_history_asset = build_history_asset(
    "customers_orgs_history", "customers_orgs", orgs_history,
    "SCD type 2 history of orgs from the daily snapshots (valid_from/valid_to/is_current); the first "
    "version is valid from 1900-01-01 so older facts find their attributes.")
resources_silver = build_silver_asset(SNAPSHOT_TABLES[1], [ORGS_HISTORY])
resources_history_asset = build_history_asset(
    "resources_history", "resources", resources_history,
    "SCD type 2 history of resources from the daily snapshots.")
other_silver = [build_silver_asset(spec, [ORGS_HISTORY]) for spec in SNAPSHOT_TABLES[2:]]
billing_silver = build_silver_asset(BILLING, [AssetDep(ORGS_HISTORY, partition_mapping=LastPartitionMapping())])


# The events table is built by its own asset (below), not by ``build_silver_asset``: this spec
# only names its key and partition column for the shared result/check code.
EVENTS = SilverTable("usage_events", lambda df: df, events_daily, ("event_id",), "event_date",
                     "Usage events per UTC day.")


@asset(
    key=AssetKey(["silver", "usage_events"]),
    group_name="silver",
    description="Usage events per UTC day: one schema for v1 and v2, canonical names, unit imputed, "
    "metric spread into columns, enriched with org and resource attributes as of the event date, "
    "cost anomaly flags by three methods (statistics over every stored event).",
    deps=[
        AssetDep(USAGE_EVENTS, partition_mapping=AllPartitionMapping()),
        AssetDep(ORGS_HISTORY, partition_mapping=LastPartitionMapping()),
        AssetDep(RESOURCES_HISTORY, partition_mapping=LastPartitionMapping()),
    ],
    partitions_def=events_daily,
    backfill_policy=BackfillPolicy.single_run(),
    kinds=KIND,
    tags={"layer": "silver"},
    check_specs=checks.specs(AssetKey(["silver", "usage_events"])),
)
def usage_events_silver(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource):
    session = spark.spark_session
    start, end = day_window(context)
    window = date_window_predicate("event_date", start, end)
    source = _read(session, lake.table("bronze", "usage_events")).filter(window)
    evaluation = evaluate(source, "usage_events", load_refs(session, lake, "usage_events")).persist()
    path = lake.table("silver", "usage_events")
    baseline = _read(session, path).filter(f"NOT ({window})") if table_exists(session, path) else None
    events = build_silver_events(
        evaluation.kept,
        _read(session, lake.table("silver", "customers_orgs_history")),
        _read(session, lake.table("silver", "resources_history")),
        baseline=baseline,
    )
    # Materialized before the overwrite: the baseline reads the same table.
    events = events.localCheckpoint()
    replace_where(events, path, window, ["event_date"])
    summary = write_quality(session, lake, evaluation, "usage_events", start, end)
    evaluation.unpersist()
    return _result(context, session, lake, EVENTS, path, (start, end), summary, source)


assets = [orgs_silver, orgs_history_asset, resources_silver, resources_history_asset, *other_silver,
          billing_silver, usage_events_silver]
