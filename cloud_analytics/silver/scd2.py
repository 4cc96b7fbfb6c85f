"""Slowly changing dimensions (type 2) from daily snapshots, generic over key and attributes.

Bronze keeps one copy of every entity per snapshot day; history keeps one row per *version*:
a new version starts only on a snapshot whose tracked attributes differ from the previous
snapshot of the same entity, so a thousand identical days make one row. The first version is
valid from ``BEGINNING`` (events older than the first snapshot still find their attributes);
the open version is valid to ``END``. An entity missing from the latest snapshot is closed the
day after it was last seen (it was deleted), so it has no current version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

BEGINNING = date(1900, 1, 1)
END = date(9999, 12, 31)
HISTORY_COLUMNS = ("valid_from", "valid_to", "is_current", "version", "changed_on")


def build_scd2(snapshots: DataFrame, keys: Sequence[str], tracked: Sequence[str],
               snapshot_col: str = "snapshot_date", carry: Sequence[str] = (),
               close_missing: bool = True) -> DataFrame:
    """Snapshots → history: ``keys, tracked, carry, valid_from, valid_to, is_current, version,
    changed_on`` (the snapshot day the version first appeared).

    ``carry`` columns (e.g. dq_flags) are taken from the version's first snapshot and never
    start a version. Rows sharing a key within one snapshot are reduced to one, chosen by
    content so reruns agree. Attributes are compared as JSON, so maps and arrays can be tracked.
    """
    keys, tracked = list(keys), list(tracked)
    rows = snapshots.select(*keys, *tracked, *carry, F.col(snapshot_col).alias("_snap"))
    rows = rows.withColumn("_fp", F.to_json(F.struct(*[F.col(c) for c in tracked])))
    same_day = Window.partitionBy(*keys, "_snap").orderBy("_fp")
    rows = rows.withColumn("_n", F.row_number().over(same_day)).filter("_n = 1").drop("_n")

    by_key = Window.partitionBy(*keys).orderBy("_snap")
    rows = rows.withColumn("_prev", F.lag("_fp").over(by_key)).withColumn(
        "_last_seen", F.max("_snap").over(Window.partitionBy(*keys)))
    versions = rows.filter(F.col("_prev").isNull() | (F.col("_fp") != F.col("_prev")))
    latest = snapshots.agg(F.max(snapshot_col).alias("_latest"))

    closed = F.when(F.lit(close_missing) & (F.col("_last_seen") < F.col("_latest")),
                    F.date_add(F.col("_last_seen"), 1))
    history = (
        versions.crossJoin(F.broadcast(latest))
        .withColumn("version", F.row_number().over(by_key))
        .withColumn("valid_from", F.when(F.col("version") == 1, F.lit(BEGINNING)).otherwise(F.col("_snap")))
        .withColumn("valid_to", F.coalesce(F.lead("_snap").over(by_key), closed, F.lit(END)))
        .withColumn("is_current", F.col("valid_to") == F.lit(END))
        .withColumn("changed_on", F.col("_snap"))
    )
    return history.select(*keys, *tracked, *carry, *HISTORY_COLUMNS)


def current_view(history: DataFrame) -> DataFrame:
    """The open version of every entity that still exists (one row per key)."""
    return history.filter(F.col("is_current"))


def as_of_join(facts: DataFrame, history: DataFrame, keys: Sequence[str], date_col: str,
               columns: Mapping[str, str]) -> DataFrame:
    """Left-join ``facts`` to the version valid on ``facts[date_col]``.

    ``columns`` maps a history column to its name in the output (``{"plan_tier": "org_plan_tier"}``).
    Versions of one key never overlap (valid_from ≤ d < valid_to), so each fact gets at most
    one version and the row count is unchanged.
    """
    h = history.select(
        *[F.col(k).alias(f"_h_{k}") for k in keys],
        F.col("valid_from").alias("_h_from"), F.col("valid_to").alias("_h_to"),
        *[F.col(src).alias(dst) for src, dst in columns.items()],
    )
    cond = [F.col(k) == F.col(f"_h_{k}") for k in keys]
    cond += [F.col("_h_from") <= F.col(date_col), F.col(date_col) < F.col("_h_to")]
    joined = facts.join(h, on=cond, how="left")
    return joined.drop(*[f"_h_{k}" for k in keys], "_h_from", "_h_to")


def latest_per_key(df: DataFrame, keys: Sequence[str], order_col: str = "snapshot_date") -> DataFrame:
    """Each key's row from its most recent snapshot (for fact-like snapshot tables)."""
    last = Window.partitionBy(*keys).orderBy(F.col(order_col).desc(), F.to_json(F.struct("*")))
    return df.withColumn("_n", F.row_number().over(last)).filter("_n = 1").drop("_n")


# -- the invariants a history must keep (the history tables' checks) -------------------------


def keys_with_several_current(history: DataFrame, entity: str) -> int:
    """Entities with more than one open version (there must be at most one)."""
    return history.filter("is_current").groupBy(entity).count().filter("count > 1").count()


def bad_versions(history: DataFrame, entity: str) -> int:
    """Versions that are empty (valid_from >= valid_to) or overlap the entity's next version."""
    by_key = Window.partitionBy(entity).orderBy("valid_from")
    ordered = history.withColumn("_next_from", F.lead("valid_from").over(by_key))
    return ordered.filter((F.col("valid_from") >= F.col("valid_to"))
                          | (F.col("_next_from").isNotNull() & (F.col("_next_from") < F.col("valid_to")))).count()
