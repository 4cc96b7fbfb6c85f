"""The contract of a table, declared once and Dagster-free.

Every bronze, silver, gold and serving table has one ``TableSpec`` in its layer's ``specs``
module. Everything else is derived from it: the Dagster asset (key, group, partitions, deps,
description, ``dagster/column_schema``), its asset checks (the generic ones from ``key`` and
``columns``, plus ``checks``), the materialization summary, the data dictionary, the job
selections and the audit's laws (``reconciliations``). Adding a table is one spec, one pure
transform function and its tests.

Partitions are named, not imported (``"events_daily"``, see ``cloud_analytics.partitions``),
so that specs stay free of Dagster and any layer, the audit or a notebook may import them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Literal

# The partitions definitions of ``cloud_analytics.partitions``, by name.
PartitionsName = Literal["snapshot_daily", "events_daily", "billing_monthly", "stream_runs"]
# How a dependency's partitions map onto this table's: the same window, the newest partition
# (reference data), or every partition.
DepMapping = Literal["same", "last", "all"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark ``DataType.simpleString()``: "string", "decimal(18,2)", "array<string>", ...
    meaning: str = ""


@dataclass(frozen=True)
class Dep:
    """An upstream table, ``"<layer>/<name>"``, and how its partitions map onto ours."""

    table: str
    mapping: DepMapping = "same"


@dataclass(frozen=True)
class CheckInput:
    """What a table-specific check sees: the rows just written (the run's window), a reader
    for other lake tables (``read("silver", "usage_events")``), the window and run parameters."""

    written: Any  # pyspark DataFrame
    read: Callable[[str, str], Any]
    start: date | None = None
    end: date | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """A check beyond the generic ones (keys, schema). ERROR checks with ``blocking`` stop
    downstream assets; WARN checks inform."""

    name: str
    description: str
    evaluate: Callable[[CheckInput], Outcome]
    severity: Literal["ERROR", "WARN"] = "ERROR"
    blocking: bool = False


@dataclass(frozen=True)
class Measure:
    """One figure of a reconciliation: ``expr`` aggregated over this table must equal
    ``equals`` aggregated over the reference table (Spark SQL aggregate expressions)."""

    name: str
    expr: str
    equals: str


@dataclass(frozen=True)
class Reconciliation:
    """A conservation law the audit checks: this table's measures against another table's.

    ``scope``: ``"all"`` compares every row of both tables; ``"latest_snapshot"`` compares
    this table's newest partition (or the partition equal to the reference's newest
    ``snapshot_date``) with the reference table's newest snapshot. ``own_scope`` says which
    rows of this table precisely, when that differs: ``"all"``, ``"newest"`` (its newest
    ``partition_column`` value) or ``"reference_snapshot"`` (its partition equal to the
    reference's newest ``snapshot_date``); None follows ``scope``. ``where`` filters the
    reference table. ``counts_source`` names the landing source whose "gold" stage in the
    audit's count table this law's first measure reports. ``label`` names the measures in
    the audit report (default: the measure names).
    """

    against: str  # "<layer>/<table>"
    measures: tuple[Measure, ...]
    where: str | None = None
    scope: Literal["all", "latest_snapshot"] = "all"
    counts_source: str | None = None
    own_scope: Literal["all", "newest", "reference_snapshot"] | None = None
    label: str = ""


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    description: str  # what the table is for: the asset description and the dictionary's line
    grain: str  # one row per ...
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partitions: PartitionsName | None = None
    partition_column: str | None = None
    deps: tuple[Dep, ...] = ()
    build: Callable[..., Any] | None = None  # the pure transform (signature per layer)
    checks: tuple[Check, ...] = ()
    reconciliations: tuple[Reconciliation, ...] = ()
    # (label, Spark SQL aggregate) figures of the materialization's summary line, computed in
    # the same aggregation as the row count: ("cost USD", "sum(daily_cost_usd)").
    summary: tuple[tuple[str, str], ...] = ()
    # False for tables that are documented and audited but not assets (never selected in a job).
    asset: bool = True

    def __post_init__(self) -> None:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.path}: duplicate columns")
        if set(self.key) - set(names):
            raise ValueError(f"{self.path}: key columns {sorted(set(self.key) - set(names))} not declared")
        if self.partition_column is not None and self.partition_column not in names:
            raise ValueError(f"{self.path}: partition column {self.partition_column} not declared")

    @property
    def path(self) -> str:
        """``"<layer>/<name>"``: the asset key path and the table's folder under the lake root."""
        return f"{self.layer}/{self.name}"

    @property
    def key_path(self) -> list[str]:
        return [self.layer, self.name]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    @property
    def meanings(self) -> dict[str, str]:
        return {c.name: c.meaning for c in self.columns}


def columns(*triples: tuple[str, str] | tuple[str, str, str]) -> tuple[Column, ...]:
    """``columns(("org_id", "string", "the org"), ...)``: a compact way to declare columns."""
    return tuple(Column(*t) for t in triples)


def ddl(spec: TableSpec) -> str:
    """The spec's columns as a Spark DDL schema string (``ensure_table``, ``createDataFrame``).
    Column names are plain identifiers, so they need no quoting."""
    return ", ".join(f"{c.name} {c.type}" for c in spec.columns)


def by_name(specs: tuple[TableSpec, ...] | list[TableSpec]) -> dict[str, TableSpec]:
    return {s.name: s for s in specs}
