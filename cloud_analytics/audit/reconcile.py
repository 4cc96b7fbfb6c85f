"""Law 3, ``gold = silver``: each gold spec's ``reconciliations`` (``lib.spec.Reconciliation``),
evaluated generically. A measure's ``expr`` is aggregated over the mart and must equal its
``equals`` aggregated over the reference table (rows matching ``where``); empty sums count as
zero.

``scope="latest_snapshot"`` compares with the reference's newest ``snapshot_date``; the mart's
rows are chosen by ``own_scope``: ``"all"``, ``"newest"`` (its newest ``partition_column``
value) or ``"reference_snapshot"`` (its ``snapshot_date`` equal to the reference's). Without
``own_scope`` they are inferred: the reference's snapshot when the mart has a ``snapshot_date``
column (the per-snapshot summaries), the whole mart when it is on the ``snapshot_daily``
partitions without one (rebuilt whole from the newest snapshot), else its newest partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloud_analytics.audit.gather import Aggregate
from cloud_analytics.audit.report import AuditReport, Law, fmt, missing
from cloud_analytics.lib.spec import Reconciliation, TableSpec

SNAPSHOT = "snapshot_date"


def law_name(spec: TableSpec) -> str:
    return f"gold = silver: {spec.name}"


def _mart_window(spec: TableSpec, rec: Reconciliation) -> tuple[str, str] | None:
    """How the mart's rows are chosen: None (all), ("reference_snapshot", "snapshot_date") or
    ("newest", its partition column)."""
    own = rec.own_scope
    if own is None:
        if rec.scope == "all":
            own = "all"
        elif SNAPSHOT in spec.column_names:
            own = "reference_snapshot"
        elif spec.partitions == "snapshot_daily" or spec.partition_column is None:
            own = "all"
        else:
            own = "newest"
    if own == "reference_snapshot":
        if rec.scope != "latest_snapshot":
            raise ValueError(f"{spec.path}: own_scope 'reference_snapshot' needs scope 'latest_snapshot'")
        return own, SNAPSHOT
    if own == "newest":
        if spec.partition_column is None:
            raise ValueError(f"{spec.path}: own_scope 'newest' needs a partition column")
        return own, spec.partition_column
    return None


def _laws(specs: Sequence[TableSpec]) -> list[tuple[str, TableSpec, Reconciliation]]:
    return [(f"gold-law/{spec.name}/{i}", spec, rec)
            for spec in specs for i, rec in enumerate(spec.reconciliations)]


def requests(specs: Sequence[TableSpec]) -> dict[str, Aggregate]:
    """Two aggregations per law: the mart's measures and the reference's."""
    out: dict[str, Aggregate] = {}
    for key, spec, rec in _laws(specs):
        window = _mart_window(spec, rec)
        out[f"{key}/mart"] = Aggregate(spec.layer, spec.name, tuple((m.name, m.expr) for m in rec.measures),
                                       by=(window[1],) if window else ())
        layer, table = rec.against.split("/", 1)
        out[f"{key}/reference"] = Aggregate(layer, table, tuple((m.name, m.equals) for m in rec.measures),
                                            by=(SNAPSHOT,) if rec.scope == "latest_snapshot" else (),
                                            where=rec.where)
    return out


def _newest(grouped: dict):
    return max((k for k in grouped if k is not None), default=None)


def zero(value):
    """An empty sum (None) counts as zero."""
    return 0 if value is None else value


def equal(a, b) -> bool:
    """Exact for integers and decimals; doubles to a relative 1e-6 (their sums depend on order)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return a == b


def gold_laws(facts: dict, report: AuditReport, specs: Sequence[TableSpec]) -> None:
    """Law 3, and each source's gold count (its records as the marts count them)."""
    for key, spec, rec in _laws(specs):
        name = law_name(spec)
        mart, reference = facts[f"{key}/mart"], facts[f"{key}/reference"]
        if mart is None:
            report.laws.append(missing(name, spec.path))
            continue
        if reference is None:
            continue  # the reference table's own law already failed
        names = [m.name for m in rec.measures]
        against = rec.against.replace("/", " ", 1) + (f" where {rec.where}" if rec.where else "")
        if rec.scope == "latest_snapshot":
            day = _newest(reference)
            if day is None:
                continue  # no snapshot yet: the source's own laws say why
            reference = reference[day]
            against += f" snapshot {day}"
        what = rec.label or ", ".join(names)
        window = _mart_window(spec, rec)
        if window is not None:
            if window[0] == "newest":
                at = _newest(mart)
                what += f" as of {at}"
            else:
                at = day  # named in ``against`` already
            mart = mart.get(at) or dict.fromkeys(names, 0)
        gold: dict[str, Any] = {n: mart[n] for n in names}
        expected: dict[str, Any] = {n: reference[n] for n in names}
        ok = all(equal(zero(gold[n]), zero(expected[n])) for n in names)
        detail = (f"{what}: gold " + ", ".join(fmt(v) for v in gold.values()) + f" = {against} "
                  + ", ".join(fmt(v) for v in expected.values()))
        report.laws.append(Law(name, ok, detail))
        report.gold.append({"mart": spec.name, "measures": what, "gold": gold, "against": against,
                            "expected": expected, "ok": ok})
        if rec.counts_source is not None and rec.counts_source in report.counts:
            first = gold[names[0]]
            report.counts[rec.counts_source]["gold"] = None if first is None else int(first)
