"""The generic asset checks every table gets from its spec, and the adapters that turn a
spec's Dagster-free parts into Dagster objects (asset key, deps with partition mappings,
``Check`` into ``AssetCheckSpec`` / ``AssetCheckResult``).

Check names are constants so that jobs, tests and the UI agree on them. The figures the key
checks need (null keys, duplicated keys) and an asset's own figures (row count, summary sums)
are aggregate columns: ``Written`` computes all of them in the pass that writes the rows (no
read-back, no extra Spark job), ``figures_of`` in one aggregation over a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetKey,
    LastPartitionMapping,
    MetadataValue,
)
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from cloud_analytics.lib.delta_io import observe, observed
from cloud_analytics.lib.spec import Check, CheckInput, Outcome, TableSpec

RECONCILIATION = "row_reconciliation"
KEY_NOT_NULL = "key_not_null"
KEY_UNIQUE = "key_unique"
SCHEMA = "schema_matches"

_SEVERITY = {"ERROR": AssetCheckSeverity.ERROR, "WARN": AssetCheckSeverity.WARN}


_MAPPINGS = {"same": None, "last": LastPartitionMapping(), "all": AllPartitionMapping()}


def asset_key(spec: TableSpec) -> AssetKey:
    return AssetKey(spec.key_path)


def asset_deps(spec: TableSpec) -> list[AssetDep]:
    """The spec's upstream tables as Dagster deps, with their partition mappings."""
    return [AssetDep(AssetKey(dep.table.split("/")), partition_mapping=_MAPPINGS[dep.mapping]) for dep in spec.deps]


def reconciliation(key: AssetKey, landed_in_window: int, bronze_rows: int, rejects: int,
                   duplicates: int) -> AssetCheckResult:
    """landing rows = bronze rows + rejects + duplicates removed (for the window checked)."""
    balance = bronze_rows + rejects + duplicates
    return AssetCheckResult(
        asset_key=key, check_name=RECONCILIATION, passed=landed_in_window == balance,
        severity=AssetCheckSeverity.ERROR,
        metadata={"landing_rows": landed_in_window, "bronze_rows": bronze_rows, "rejects": rejects,
                  "duplicates_removed": duplicates, "difference": landed_in_window - balance},
    )


# -- figures: what the checks count, computed with the write or in one aggregation --------------------

ROWS = "rows"
NULL_KEYS = "null_keys"
DUPLICATED_KEYS = "duplicated_keys"
DUPLICATED_ROWS = "rows_with_duplicated_keys"
_KEY_ROWS, _KEY_FIRST = "_key_rows", "_key_first"


@dataclass(frozen=True)
class KeyFigures:
    """What the generic key checks count: rows with a null in ``not_null``, and keys ``unique``
    (within each ``per`` group, e.g. a snapshot day) held by several rows. Duplicates are found
    with a window over the key (one shuffle), so the counts are plain aggregates over rows."""

    not_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    per: tuple[str, ...] = ()

    def prepare(self, df: DataFrame) -> DataFrame:
        """``df`` with each row's key multiplicity and a mark on the first row of each key."""
        if not self.unique:
            return df
        group = [F.col(f"`{c}`") for c in (*self.per, *self.unique)]
        by_key = Window.partitionBy(*group)
        return df.withColumns({_KEY_ROWS: F.count(F.lit(1)).over(by_key),
                               _KEY_FIRST: F.row_number().over(by_key.orderBy(*group)) == 1})

    @property
    def helpers(self) -> list[str]:
        return [_KEY_ROWS, _KEY_FIRST] if self.unique else []

    def columns(self) -> dict[str, Column]:
        out: dict[str, Column] = {}
        if self.not_null:
            out[NULL_KEYS] = F.count_if(F.expr(" OR ".join(f"`{c}` IS NULL" for c in self.not_null)))
        if self.unique:
            several = F.col(_KEY_ROWS) > 1
            out[DUPLICATED_KEYS] = F.count_if(several & F.col(_KEY_FIRST))
            out[DUPLICATED_ROWS] = F.count_if(several)
        return out


def _all_figures(keys: KeyFigures, extra: dict[str, Column]) -> dict[str, Column]:
    return {ROWS: F.count(F.lit(1)), **keys.columns(), **extra}


def figures_of(df: DataFrame, keys: KeyFigures = KeyFigures(), extra: dict[str, Column] | None = None
               ) -> dict[str, Any]:
    """Row count, key figures and ``extra`` aggregates of ``df`` in one aggregation."""
    columns = _all_figures(keys, extra or {})
    row = keys.prepare(df).agg(*[c.alias(n) for n, c in columns.items()]).first()
    return row.asDict()


class Written:
    """The frame to write (``frame``), whose row count, key figures and ``extra`` aggregates are
    observed while the write reads it: after the write, ``figures()`` are those of exactly the
    rows committed, without reading them back. ``extra`` may not use DISTINCT aggregates."""

    def __init__(self, df: DataFrame, keys: KeyFigures = KeyFigures(), extra: dict[str, Column] | None = None):
        self._df, self._keys, self._extra = df, keys, dict(extra or {})
        prepared, self._observation = observe(keys.prepare(df), _all_figures(keys, self._extra))
        self.frame = prepared.drop(*keys.helpers) if keys.helpers else prepared

    def figures(self) -> dict[str, Any]:
        values = observed(self._observation)
        # Never observed (the frame was not read by the write): the same figures, one pass more.
        return values if values is not None else figures_of(self._df, self._keys, self._extra)


# -- the generic checks --------------------------------------------------------------------------------


def key_not_null_result(key: AssetKey, figures: dict[str, Any], columns: tuple[str, ...] | list[str]
                        ) -> AssetCheckResult:
    nulls = int(figures[NULL_KEYS] or 0)
    return AssetCheckResult(asset_key=key, check_name=KEY_NOT_NULL, passed=nulls == 0,
                            severity=AssetCheckSeverity.ERROR,
                            metadata={"null_keys": nulls, "key": ", ".join(columns)})


def key_unique_result(key: AssetKey, figures: dict[str, Any], columns: tuple[str, ...] | list[str],
                      rows: DataFrame | Callable[[], DataFrame], per: tuple[str, ...] = (),
                      severity: AssetCheckSeverity = AssetCheckSeverity.WARN) -> AssetCheckResult:
    """No key appears twice (within each ``per`` group); a sample of up to 5 duplicated keys
    is read from ``rows`` (a frame, or a function returning one) only when there are some."""
    keys = int(figures[DUPLICATED_KEYS] or 0)
    sample: list[str] = []
    if keys:
        frame = rows() if callable(rows) else rows
        dupes = frame.groupBy(*per, *columns).count().filter("count > 1")
        sample = [", ".join(str(r[c]) for c in columns) for r in dupes.limit(5).collect()]
    return AssetCheckResult(
        asset_key=key, check_name=KEY_UNIQUE, passed=keys == 0, severity=severity,
        metadata={"duplicated_keys": keys, "rows_with_duplicated_keys": int(figures[DUPLICATED_ROWS] or 0),
                  "sample": MetadataValue.text("; ".join(sample) or "none")},
    )


def key_not_null(key: AssetKey, rows: DataFrame, columns: tuple[str, ...] | list[str]) -> AssetCheckResult:
    return key_not_null_result(key, figures_of(rows, KeyFigures(not_null=tuple(columns))), columns)


def key_unique(key: AssetKey, rows: DataFrame, columns: tuple[str, ...] | list[str], per: tuple[str, ...] = (),
               severity: AssetCheckSeverity = AssetCheckSeverity.WARN) -> AssetCheckResult:
    """No key appears twice (within each ``per`` group, e.g. a snapshot day)."""
    figures = figures_of(rows, KeyFigures(unique=tuple(columns), per=tuple(per)))
    return key_unique_result(key, figures, columns, rows, per=tuple(per), severity=severity)


def schema_matches(key: AssetKey, df: DataFrame, declared: list[str]) -> AssetCheckResult:
    """The stored columns are exactly the declared ones, in order."""
    actual = df.columns
    return AssetCheckResult(
        asset_key=key, check_name=SCHEMA, passed=actual == declared, severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.json([c for c in declared if c not in actual]),
                  "unexpected": MetadataValue.json([c for c in actual if c not in declared])},
    )


def check_spec(key: AssetKey, check: Check) -> AssetCheckSpec:
    return AssetCheckSpec(check.name, asset=key, blocking=check.blocking, description=check.description)


def check_result(key: AssetKey, check: Check, given: CheckInput) -> AssetCheckResult:
    return outcome_result(key, check, check.evaluate(given))


def outcome_result(key: AssetKey, check: Check, outcome: Outcome) -> AssetCheckResult:
    """A spec check's outcome (however it was computed) as the asset check result."""
    return AssetCheckResult(asset_key=key, check_name=check.name, passed=bool(outcome.passed),
                            severity=_SEVERITY[check.severity], metadata=dict(outcome.metadata))
