"""Gold assets, derived from ``specs.GOLD_SPECS``: one Delta table per spec.

A partitioned mart computes its rows from silver for the run's partition window and replaces
exactly that window (``replaceWhere`` on its partition column); a mart without partitions
(``tickets_by_org_date``, ``cost_baselines``) is rebuilt and overwritten whole. Either way it
then checks what it wrote: the key unique (within the partition, or over the whole table), the
declared columns, and the spec's own checks.

The row count, the summary figures, the duplicated keys and the rows failing a row condition
(``specs.ROW_CONDITIONS``) are counted while the rows are written (``lib.checks.Written``), so
a mart is read back by nobody; only a check that needs the rows themselves (the cost
reconciliation) gets them, cached from the build.
"""

from dagster import AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, BackfillPolicy, MaterializeResult, asset
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold.inputs import Inputs
from cloud_analytics.gold.specs import GOLD_SPECS, ROW_CONDITIONS
from cloud_analytics.lib.checks import (
    KEY_UNIQUE,
    ROWS,
    SCHEMA,
    KeyFigures,
    Written,
    asset_deps,
    asset_key,
    check_result,
    check_spec,
    key_unique_result,
    outcome_result,
    schema_matches,
)
from cloud_analytics.lib.delta_io import overwrite, replace_where
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.spec import CheckInput, TableSpec
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource

KIND = {"spark", "delta"}
TAGS = {"layer": "gold"}


def _unique_key(spec: TableSpec) -> tuple[str, ...]:
    """The key checked unique: the spec's key within its partition (one snapshot, one day), or
    over the whole table when it has none."""
    key = spec.key
    return key if spec.partition_column in (None, *key) else (spec.partition_column, *key)


def _summary_columns(spec: TableSpec) -> dict:
    return {f"f{n}": F.expr(expr) for n, (_, expr) in enumerate(spec.summary)}


def figures(spec: TableSpec, written: DataFrame) -> tuple[int, list]:
    """The row count and the spec's summary figures, in one aggregation (None counts as 0)."""
    row = written.agg(F.count(F.lit(1)).alias("rows"), *[c.alias(n) for n, c in _summary_columns(spec).items()]
                      ).first()
    return int(row["rows"]), [row[f"f{n}"] or 0 for n in range(len(spec.summary))]


def summary_line(spec: TableSpec, rows: int, values: list) -> str:
    """``"1,234 rows, cost USD 5,678.90"``: a label with ``{}`` places its value itself."""
    parts = [f"{rows:,} rows"]
    for (label, _), value in zip(spec.summary, values):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        parts.append(label.format(text) if "{}" in label else f"{label} {text}")
    return ", ".join(parts)


def build_mart_asset(spec: TableSpec):
    key = asset_key(spec)
    whole = spec.partitions is None
    unique = _unique_key(spec)
    check_specs = [
        AssetCheckSpec(KEY_UNIQUE, asset=key, blocking=True,
                       description="primary key unique" + (" over the whole table" if whole else "")),
        AssetCheckSpec(SCHEMA, asset=key, blocking=True, description="columns equal the declared contract"),
        *[check_spec(key, check) for check in spec.checks],
    ]
    row_checks = [c for c in spec.checks if c.name in ROW_CONDITIONS]
    frame_checks = [c for c in spec.checks if c.name not in ROW_CONDITIONS]

    @asset(key=key, group_name="gold", description=spec.description, deps=asset_deps(spec),
           partitions_def=partitions_def(spec.partitions),
           backfill_policy=None if whole else BackfillPolicy.single_run(), kinds=KIND, tags=TAGS,
           check_specs=check_specs)
    def _gold(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        path = reader.path("gold", spec.name)
        if whole:
            start = end = window = None
            built = spec.build(Inputs(reader))
        else:
            start, end = day_window(context)
            window = date_window_predicate(spec.partition_column, start, end)
            built = spec.build(Inputs(reader, start, end)).filter(window)
        if frame_checks:  # checks that read the rows: cached by the write, not read back
            built = built.persist()
        conditions = {c.name: ROW_CONDITIONS[c.name].failing(built.schema) for c in row_checks}
        written = Written(built, KeyFigures(unique=unique), extra={
            **_summary_columns(spec),
            **{f"failing_{n}": F.count_if(F.expr(cond)) if cond else F.lit(0) for n, cond in conditions.items()},
        })
        partition_by = [spec.partition_column] if spec.partition_column else []
        if whole:
            overwrite(written.frame, path, partition_by)
        else:
            replace_where(written.frame, path, window, partition_by)
        stats = written.figures()
        rows, values = int(stats[ROWS]), [stats[f"f{n}"] or 0 for n in range(len(spec.summary))]

        def stored_rows():  # read back only to sample duplicated keys, when there are some
            stored = reader.load("gold", spec.name)
            return stored if whole else stored.filter(window)

        given = CheckInput(built, reader.load, start, end)
        results = [key_unique_result(key, stats, unique, rows=stored_rows, severity=AssetCheckSeverity.ERROR),
                   schema_matches(key, reader.load("gold", spec.name), spec.column_names),
                   *[outcome_result(key, c, ROW_CONDITIONS[c.name].outcome(int(stats[f"failing_{c.name}"] or 0),
                                                                           built.schema))
                     for c in row_checks],
                   *[check_result(key, check, given) for check in frame_checks]]
        if frame_checks:
            built.unpersist()
        order = [c.name for c in spec.checks]  # results in the order the specs declare them
        results = results[:2] + sorted(results[2:], key=lambda r: order.index(r.check_name))
        summary = summary_line(spec, rows, values)
        context.log.info(f"{spec.path}: {summary}")
        # A whole table also records its figures by label (e.g. the baselines' org count).
        extra = {label: value for (label, _), value in zip(spec.summary, values)} if whole else {}
        return MaterializeResult(metadata=table_metadata(session, path, rows, summary=summary, **extra),
                                 check_results=results)

    return _gold


assets = [build_mart_asset(spec) for spec in GOLD_SPECS]
