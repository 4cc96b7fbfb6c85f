"""The evaluation engine: a table's rules applied to a DataFrame in native Spark.

Every rule's condition becomes one boolean column (``_dq_c<i>``) in a single projection;
the fired rule ids, the first quarantine rule (by rule order) and the fixes are all built
from those columns by iterating over the rule list, never by branching on a rule id. Each
input row ends in exactly one of ``kept`` and ``quarantined``, so
``input = kept + quarantined`` holds by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.quality.model import DEFAULT_POLICY, FIX_AND_FLAG, QUARANTINE, Lookup, Policy, Rule
from cloud_analytics.quality.rules import PARTITION_COLUMNS, lookups_for, rules_for

EMAIL_LOCAL_PART = r"[A-Za-z0-9._%+\-]+@(?=[A-Za-z0-9.\-]+\.[A-Za-z]{2,})"
FIRED = "_dq_fired"
FIRST_QUARANTINE = "_dq_quarantine"

QUARANTINE_SCHEMA = (
    "table string, rule_id string, severity string, reason string, rule_ids array<string>, "
    "source_file string, raw_record string, partition_date date"
)
METRICS_SCHEMA = (
    "table string, partition_date date, rule_id string, action string, severity string, "
    "failed_count bigint, quarantined_count bigint, evaluated_count bigint"
)


@dataclass
class Evaluation:
    """The outcome of ``evaluate``: lazily split into ``kept`` and ``quarantined``.

    ``evaluated`` holds every input row with the rule columns; call ``persist()`` before
    reading ``kept``, ``quarantined`` and ``metrics`` if the input is expensive to recompute.
    """

    table: str
    rules: list[Rule]
    evaluated: DataFrame = field(repr=False)
    input_columns: list[str]
    partition_column: str

    def persist(self) -> "Evaluation":
        self.evaluated = self.evaluated.persist()
        return self

    def unpersist(self) -> None:
        self.evaluated.unpersist()

    @property
    def kept(self) -> DataFrame:
        """Rows no quarantine rule fired on, fixes applied, plus ``dq_flags array<string>``."""
        rows = self.evaluated.filter(F.col(FIRST_QUARANTINE).isNull())
        fixed = _fixes(self.rules)
        rows = rows.withColumns(fixed) if fixed else rows
        return rows.select(*[F.col(c) for c in self.input_columns], F.col(FIRED).alias("dq_flags"))

    @property
    def quarantined(self) -> DataFrame:
        """One row per quarantined input row (``QUARANTINE_SCHEMA``)."""
        first = F.col(FIRST_QUARANTINE)
        source = F.col("source_file") if "source_file" in self.input_columns else F.lit(None)
        return self.evaluated.filter(first.isNotNull()).select(
            F.lit(self.table).alias("table"),
            first["rule_id"].alias("rule_id"),
            first["severity"].alias("severity"),
            first["reason"].alias("reason"),
            F.col(FIRED).alias("rule_ids"),
            source.cast("string").alias("source_file"),
            raw_record(self.input_columns).alias("raw_record"),
            _partition_date(self.partition_column).alias("partition_date"),
        )


def evaluate(df: DataFrame, table: str, refs: Mapping[str, DataFrame] | None = None,
             policy: Policy = DEFAULT_POLICY) -> Evaluation:
    """Apply the rules of ``table`` under ``policy`` to ``df`` (a bronze frame of that table).

    ``refs`` holds the reference frames the rules need, by name: ``orgs`` (org_id,
    signup_date) and ``resources`` (resource_id, org_id, created_at); ``rules.refs_for(table)``
    lists which. Silver's current views fit; an SCD2 history fits too (one row per key is
    kept), and is the safer choice for events of a resource deleted since.
    """
    rules = rules_for(table, policy)
    columns = df.columns
    partition = PARTITION_COLUMNS[table]
    if partition not in columns:
        raise ValueError(f"evaluate({table}): partition column {partition!r} missing from input")
    if "dq_flags" in columns:
        raise ValueError(f"evaluate({table}): input already has dq_flags (evaluated twice?)")
    frame = df
    for lookup in lookups_for(table):
        frame = _join_lookup(frame, lookup, refs or {}, table)
    frame = frame.withColumns({_cond(i): F.coalesce(r.condition(), F.lit(False)) for i, r in enumerate(rules)})
    frame = frame.withColumns({FIRED: _fired(rules), FIRST_QUARANTINE: _first_quarantine(rules)})
    return Evaluation(table, rules, frame, columns, partition)


def raw_record(columns: list[str]) -> Column:
    """The input row as JSON, with the local part of any email masked (the raw record travels
    past bronze, into quarantine). Built for quarantined rows only: on every row it would be
    the widest column of the evaluation a silver asset caches."""
    return F.regexp_replace(F.to_json(F.struct(*[F.col(c) for c in columns])), EMAIL_LOCAL_PART, "***@")


def metrics(evaluation: Evaluation) -> DataFrame:
    """Per partition and rule: rows the rule fired on, rows it quarantined (as first quarantine
    rule), and the rows evaluated in that partition (``METRICS_SCHEMA``). Every rule has a row
    in every evaluated partition, zero counts included, so a check can read any rule."""
    rules = evaluation.rules
    first = F.col(FIRST_QUARANTINE)["rule_id"]
    sums = [F.sum(F.col(_cond(i)).cast("bigint")).alias(f"_f{i}") for i in range(len(rules))]
    sums += [F.sum(F.when(first == r.id, 1).otherwise(0)).cast("bigint").alias(f"_q{i}")
             for i, r in enumerate(rules)]
    agg = evaluation.evaluated.groupBy(_partition_date(evaluation.partition_column).alias("partition_date")).agg(
        F.count(F.lit(1)).alias("evaluated_count"), *sums
    )
    per_rule = F.array(*[
        F.struct(F.lit(r.id).alias("rule_id"), F.lit(r.action).alias("action"),
                 F.lit(r.severity).alias("severity"), F.col(f"_f{i}").alias("failed_count"),
                 F.col(f"_q{i}").alias("quarantined_count"))
        for i, r in enumerate(rules)
    ])
    return agg.select(
        F.lit(evaluation.table).alias("table"), "partition_date", "evaluated_count", F.inline(per_rule)
    ).select("table", "partition_date", "rule_id", "action", "severity", "failed_count",
             "quarantined_count", "evaluated_count")


def metrics_summary(metrics_df: DataFrame) -> dict:
    """Totals over partitions, as plain Python for asset metadata (a few rows are collected):
    ``{"evaluated": n, "quarantined": q, "kept": n - q, "rules": {rule_id: failed_count}}``."""
    rows = metrics_df.groupBy("rule_id").agg(
        F.sum("failed_count").alias("failed"), F.sum("quarantined_count").alias("quarantined")
    ).collect()
    per_partition = metrics_df.select("partition_date", "evaluated_count").distinct()
    evaluated = per_partition.agg(F.sum("evaluated_count")).first()[0] or 0
    quarantined = sum(r["quarantined"] or 0 for r in rows)
    return {"evaluated": evaluated, "quarantined": quarantined, "kept": evaluated - quarantined,
            "rules": {r["rule_id"]: r["failed"] or 0 for r in sorted(rows, key=lambda r: r["rule_id"])}}


def _cond(i: int) -> str:
    return f"_dq_c{i}"


def _partition_date(column: str) -> Column:
    return F.col(column).try_cast("date")


def _join_lookup(frame: DataFrame, lookup: Lookup, refs: Mapping[str, DataFrame], table: str) -> DataFrame:
    if lookup.ref not in refs:
        raise KeyError(f"evaluate({table}) needs reference frame {lookup.ref!r} (refs given: {sorted(refs)})")
    ref = refs[lookup.ref].select(
        *[F.col(k) for k in lookup.keys], *[F.col(src).alias(name) for name, src in lookup.columns.items()]
    ).dropDuplicates(list(lookup.keys)).withColumn(lookup.found, F.lit(True))
    return frame.join(ref, on=list(lookup.keys), how="left")


def _fired(rules: list[Rule]) -> Column:
    ids = F.array(*[F.when(F.col(_cond(i)), F.lit(r.id)) for i, r in enumerate(rules)])
    return F.filter(ids, lambda x: x.isNotNull())


def _first_quarantine(rules: list[Rule]) -> Column:
    candidates = [
        F.when(F.col(_cond(i)), F.struct(
            F.lit(r.id).alias("rule_id"), F.lit(r.severity).alias("severity"),
            F.concat(F.lit(f"{r.id}: "), _reason_text(r)).alias("reason"),
        ))
        for i, r in enumerate(rules) if r.action == QUARANTINE
    ]
    if not candidates:
        return F.lit(None).cast("struct<rule_id:string,severity:string,reason:string>")
    return F.coalesce(*candidates) if len(candidates) > 1 else candidates[0]


def _reason_text(rule: Rule) -> Column:
    return F.coalesce(rule.reason(), F.lit(rule.description)) if rule.reason else F.lit(rule.description)


def _fixes(rules: list[Rule]) -> dict[str, Column]:
    """column → fixed expression; all fixes read the row as it was read, the first rule wins."""
    by_column: dict[str, Column] = {}
    for i, rule in enumerate(rules):
        if rule.action != FIX_AND_FLAG:
            continue
        for column, fix in rule.fixes:
            branch = by_column.get(column)
            by_column[column] = (F.when(F.col(_cond(i)), fix()) if branch is None
                                 else branch.when(F.col(_cond(i)), fix()))
    return {column: branch.otherwise(F.col(column)) for column, branch in by_column.items()}
