"""Serving assets: one per Cassandra table, partitioned like its gold mart.

A run loads the gold rows of its partition window with ``loader.load_window`` (range deletes
at T-1 then upserts at T, prepared and concurrent), so re-loading leaves the table identical
and rows gone from gold disappear. Checks read Cassandra back: row counts per window equal
gold's, and a sample of rows equals gold's values.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.bronze.assets import day_window
from cloud_analytics.delta_io import date_window_predicate
from cloud_analytics.gold.assets import MARTS_BY_NAME
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving.loader import load_window
from cloud_analytics.serving.queries import as_date
from cloud_analytics.serving.schema import create_schema

ROW_COUNT = "row_count_matches_gold"
SAMPLE = "sample_equals_gold"
SAMPLE_SIZE = 20


def _map(*pairs: tuple[str, str]):
    """A CQL map<text, double> from gold columns, without null entries."""
    entries = F.array(*[F.when(F.col(c).isNotNull(), F.struct(F.lit(k).alias("k"), F.col(c).try_cast("double").alias("v")))
                        for k, c in pairs])
    return F.map_from_entries(F.filter(entries, lambda e: e.isNotNull()))


@dataclass(frozen=True)
class ServingTable:
    name: str
    mart: str
    columns: list[str]  # CQL columns, in the order ``select`` produces them
    select: Callable[[DataFrame], DataFrame]
    partition_key: str  # CQL partition key
    range_column: str | None  # CQL clustering date column bounding the window (None: whole partition)
    key: list[str]  # full CQL primary key
    compare: list[str] = field(default_factory=list)  # columns the sample check compares
    by_month: bool = False  # partition key is the month of the window's days


def _now():
    return F.current_timestamp()


TABLES = [
    ServingTable(
        "org_daily_usage", "org_daily_usage_by_service",
        ["org_id", "usage_date", "service", "daily_cost_usd", "requests", "event_count", "cost_per_request",
         "metrics", "anomaly_count", "negative_cost_count", "source", "loaded_at"],
        lambda g: g.select("org_id", "usage_date", "service", "daily_cost_usd",
                           F.round("requests").cast("bigint").alias("requests"),
                           F.col("event_count").cast("bigint"), F.col("cost_per_request").try_cast("double"),
                           _map(("cpu_hours", "cpu_hours"), ("storage_gb_hours", "storage_gb_hours"),
                                ("genai_tokens", "genai_tokens"), ("carbon_kg", "carbon_kg")).alias("metrics"),
                           F.col("anomaly_count").cast("int"), F.col("negative_cost_count").cast("int"),
                           F.lit("batch").alias("source"), _now().alias("loaded_at")),
        "org_id", "usage_date", ["org_id", "usage_date", "service"], ["daily_cost_usd", "requests", "event_count"]),
    ServingTable(
        "genai_by_org_day", "genai_tokens_by_org_date",
        ["org_id", "usage_date", "tokens", "events", "estimated_cost_usd", "recorded_cost_usd", "source", "loaded_at"],
        lambda g: g.select("org_id", F.col("date").alias("usage_date"),
                           F.round("genai_tokens").cast("bigint").alias("tokens"),
                           F.col("genai_event_count").cast("bigint").alias("events"),
                           F.col("estimated_cost_usd").try_cast("decimal(18,6)"), "recorded_cost_usd",
                           F.lit("batch").alias("source"), _now().alias("loaded_at")),
        "org_id", "usage_date", ["org_id", "usage_date"], ["tokens", "estimated_cost_usd"]),
    ServingTable(
        "cost_anomalies_by_org", "cost_anomaly_mart",
        ["org_id", "anomaly_date", "service", "daily_cost_usd", "baseline_usd", "scores", "methods_fired",
         "is_anomaly", "loaded_at"],
        lambda g: g.select("org_id", F.col("date").alias("anomaly_date"), "service", "daily_cost_usd",
                           F.col("baseline_cost_usd").try_cast("double").alias("baseline_usd"),
                           _map(("zscore", "zscore"), ("robust_z", "robust_z"),
                                ("percentile_ratio", "percentile_ratio")).alias("scores"),
                           "methods_fired", "is_anomaly", _now().alias("loaded_at")),
        "org_id", "anomaly_date", ["org_id", "anomaly_date", "service"], ["daily_cost_usd", "is_anomaly"]),
    ServingTable(
        "customer_health_by_org", "customer_360",
        ["org_id", "as_of_date", "health_score", "risk_band", "components", "facts", "loaded_at"],
        lambda g: g.select("org_id", "as_of_date", F.col("health_score").try_cast("double"), "risk_band",
                           _map(*[(c.removesuffix("_component"), c) for c in
                                  ("usage_component", "support_component", "csat_component", "nps_component",
                                   "billing_component")]).alias("components"),
                           _map(("cost_last_30d_usd", "cost_last_30d_usd"), ("revenue_total_usd", "revenue_total_usd"),
                                ("open_tickets", "open_tickets"), ("open_critical_tickets", "open_critical_tickets"),
                                ("latest_nps_score", "latest_nps_score"), ("mean_csat", "mean_csat")).alias("facts"),
                           _now().alias("loaded_at")),
        "org_id", "as_of_date", ["org_id", "as_of_date"], ["health_score", "risk_band"]),
    ServingTable(
        "tickets_by_org_day", "tickets_by_org_date",
        ["org_id", "ticket_date", "severity", "opened", "resolved", "open_backlog", "critical", "sla_breached",
         "sla_breach_rate", "mean_csat", "loaded_at"],
        lambda g: g.select("org_id", F.col("date").alias("ticket_date"), "severity",
                           *[F.col(c).cast("int").alias(a) for c, a in (("opened", "opened"), ("resolved", "resolved"),
                             ("open_backlog", "open_backlog"), ("critical_count", "critical"),
                             ("sla_breached", "sla_breached"))],
                           "sla_breach_rate", F.col("mean_csat").try_cast("double"), _now().alias("loaded_at")),
        "org_id", "ticket_date", ["org_id", "ticket_date", "severity"], ["opened", "critical", "sla_breached"]),
    ServingTable(
        "tickets_by_day", "tickets_by_org_date",
        ["month", "ticket_date", "org_id", "opened", "critical", "sla_breached", "loaded_at"],
        lambda g: g.groupBy("org_id", "date").agg(
            F.sum("opened").cast("int").alias("opened"), F.sum("critical_count").cast("int").alias("critical"),
            F.sum("sla_breached").cast("int").alias("sla_breached")).select(
            F.date_format("date", "yyyy-MM").alias("month"), F.col("date").alias("ticket_date"), "org_id",
            "opened", "critical", "sla_breached", _now().alias("loaded_at")),
        "month", "ticket_date", ["month", "ticket_date", "org_id"], ["opened", "critical"], by_month=True),
    ServingTable(
        "revenue_by_org", "revenue_by_org_month",
        ["org_id", "month", "currency", "fx_rate", "subtotal_usd", "credits_usd", "taxes_usd", "total_usd",
         "total_original", "flags", "loaded_at"],
        lambda g: g.select("org_id", "month", "currency", F.col("fx_rate").try_cast("double"), "subtotal_usd",
                           "credits_usd", "taxes_usd", "total_usd", F.col("total").alias("total_original"),
                           F.array_distinct("flags").alias("flags"), _now().alias("loaded_at")),
        "org_id", "month", ["org_id", "month"], ["total_usd", "credits_usd"]),
    ServingTable(
        "revenue_by_month", "revenue_by_org_month",
        ["month", "org_id", "currency", "subtotal_usd", "credits_usd", "taxes_usd", "total_usd", "loaded_at"],
        lambda g: g.select("month", "org_id", "currency", "subtotal_usd", "credits_usd", "taxes_usd", "total_usd",
                           _now().alias("loaded_at")),
        "month", None, ["month", "org_id"], ["total_usd"]),
]
TABLES_BY_NAME = {t.name: t for t in TABLES}


def _months(start: date, end: date) -> list[str]:
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _partitions(session, spec: ServingTable, gold_all: DataFrame, start: date, end: date) -> list:
    """Every CQL partition the window may touch: from gold, and from what Cassandra holds."""
    if spec.by_month:
        return _months(start, end)
    if spec.range_column is None:  # partition key is the date itself (revenue_by_month)
        return [r[0] for r in gold_all.filter(date_window_predicate(spec.partition_key, start, end))
                .select(spec.partition_key).distinct().collect()]
    from_gold = {r[0] for r in gold_all.select(spec.partition_key).distinct().collect()}
    from_cassandra = {r[0] for r in session.execute(f"SELECT DISTINCT {spec.partition_key} FROM {spec.name}")}
    return sorted(from_gold | from_cassandra)


def _where(spec: ServingTable) -> str:
    where = f"{spec.partition_key} = ?"
    return where + (f" AND {spec.range_column} >= ? AND {spec.range_column} <= ?" if spec.range_column else "")


def _bounds(spec: ServingTable, start: date, end: date) -> tuple:
    return (start, end) if spec.range_column else ()


def count_window(session, spec: ServingTable, partitions: list, start: date, end: date) -> int:
    statement = session.prepare(f"SELECT count(*) FROM {spec.name} WHERE {_where(spec)}")
    return sum(session.execute(statement, (p, *_bounds(spec, start, end))).one()[0] for p in partitions)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return a == b


def sample_check(session, spec: ServingTable, rows: list[dict]) -> tuple[int, list[str]]:
    statement = session.prepare(
        f"SELECT {', '.join(spec.compare)} FROM {spec.name} WHERE " + " AND ".join(f"{k} = ?" for k in spec.key))
    problems = []
    for row in rows:
        got = session.execute(statement, tuple(row[k] for k in spec.key)).one()
        if got is None:
            problems.append(f"missing {[row[k] for k in spec.key]}")
            continue
        for col in spec.compare:
            if not _same(getattr(got, col), row[col]):
                problems.append(f"{[row[k] for k in spec.key]} {col}: cassandra {getattr(got, col)} != gold {row[col]}")
    return len(rows), problems


def batch_covered_until(session, table: str) -> date | None:
    """The serving watermark: the last date the batch layer has loaded into ``table``."""
    row = session.execute(session.prepare("SELECT batch_covered_until FROM serving_state WHERE table_name = ?"),
                          (table,)).one()
    return as_date(row.batch_covered_until) if row and row.batch_covered_until is not None else None


def update_state(session, table: str, newest: date | None, covered_until: date) -> None:
    """Record the newest batch date and the serving watermark; a backfill of older days never
    moves the watermark back (the speed layer would then rewrite dates the batch owns)."""
    covered_until = max(d for d in (covered_until, batch_covered_until(session, table)) if d is not None)
    session.execute(session.prepare(
        "UPDATE serving_state SET max_date = ?, batch_covered_until = ?, loaded_at = toTimestamp(now()) "
        "WHERE table_name = ?"), (newest, covered_until, table))


def build_serving_asset(spec: ServingTable):
    key = AssetKey(["serving", spec.name])
    mart = MARTS_BY_NAME[spec.mart]

    @asset(
        key=key, group_name="serving", deps=[AssetKey(["gold", spec.mart])], partitions_def=mart.partitions,
        backfill_policy=BackfillPolicy.single_run(), kinds={"spark", "cassandra"}, tags={"layer": "serving"},
        description=f"Cassandra table `{spec.name}` (primary key {', '.join(spec.key)}), loaded from gold/{spec.mart}.",
        check_specs=[AssetCheckSpec(ROW_COUNT, asset=key, blocking=True, description="Cassandra rows = gold rows, per window"),
                     AssetCheckSpec(SAMPLE, asset=key, description="a sample of rows read back equals gold")],
    )
    def _serving(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
                 cassandra: CassandraResource) -> MaterializeResult:
        session_spark = spark.spark_session
        start, end = day_window(context)
        gold_all = session_spark.read.format("delta").load(lake.table("gold", spec.mart))
        window = spec.select(gold_all.filter(date_window_predicate(mart.partition_column, start, end))).cache()
        with cassandra.session() as session:
            create_schema(session)
            partitions = _partitions(session, spec, spec.select(gold_all), start, end)
            result = load_window(session, spec.name, spec.columns,
                                 (tuple(r) for r in window.select(*spec.columns).toLocalIterator()),
                                 f"DELETE FROM {spec.name} USING TIMESTAMP ? WHERE {_where(spec)}",
                                 [(p, *_bounds(spec, start, end)) for p in partitions], cassandra.target)
            newest = gold_all.agg(F.max(mart.partition_column)).first()[0]
            update_state(session, spec.name, newest, end)
            gold_rows = window.count()
            in_cassandra = count_window(session, spec, partitions, start, end)
            sample_rows = [r.asDict() for r in window.select(*spec.key, *spec.compare).collect()]
            checked, problems = sample_check(session, spec, random.Random(0).sample(sample_rows, min(SAMPLE_SIZE, len(sample_rows))))
        window.unpersist()
        text = f"{result.rows:,} rows loaded in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s)"
        context.log.info(f"serving/{spec.name}: {text}")
        return MaterializeResult(
            metadata={"dagster/row_count": MetadataValue.int(result.rows), "rows_per_second": round(result.rows_per_second),
                      "partitions_replaced": result.deleted_ranges, "cassandra": cassandra.target,
                      "keyspace": cassandra.keyspace, "summary": text},
            check_results=[
                AssetCheckResult(asset_key=key, check_name=ROW_COUNT, passed=in_cassandra == gold_rows,
                                 severity=AssetCheckSeverity.ERROR,
                                 metadata={"gold_rows": gold_rows, "cassandra_rows": in_cassandra}),
                AssetCheckResult(asset_key=key, check_name=SAMPLE, passed=not problems, severity=AssetCheckSeverity.ERROR,
                                 metadata={"rows_compared": checked, "problems": MetadataValue.text("; ".join(problems[:5]) or "none")}),
            ],
        )

    return _serving


assets = [build_serving_asset(spec) for spec in TABLES]
