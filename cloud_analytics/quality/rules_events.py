"""The rules of the usage_events table, in evaluation order (``rules(policy)``: EV-05 follows
the deployment's choice of threshold and action).

Order matters only for quarantine rules: the first one that fires names the row's
quarantine reason (all fired ids are kept beside it), so the most specific comes first
(EV-02 "value not a number" before the generic CAST-01).
"""

from __future__ import annotations

from pyspark.sql import Column, Window
from pyspark.sql import functions as F

from cloud_analytics.bronze.schemas import EVENT_SCHEMA_VERSIONS
from cloud_analytics.quality import common
from cloud_analytics.quality.domains import blank, canonical, unit_for_metric
from cloud_analytics.quality.model import DEFAULT_POLICY, FIX_AND_FLAG, FLAG, QUARANTINE, Policy, Rule

T = "usage_events"
KNOWN_VERSIONS = sorted(EVENT_SCHEMA_VERSIONS)
TOKEN_VERSIONS = sorted(v for v, fields in EVENT_SCHEMA_VERSIONS.items()
                        if "genai_tokens" in dict(fields))
# The columns every gold key and Cassandra clustering key of usage is built from (EV-08).
KEY_DIMENSIONS = ("service", "region", "metric")


def _copy_number() -> Column:
    """1 for the first copy of an event_id (earliest ingested, then by file, then by stream batch:
    bronze holds an event_id at most once per micro-batch, so the order is total)."""
    order = Window.partitionBy("event_id").orderBy("ingest_ts", "source_file", "stream_run", "stream_batch_id")
    return F.row_number().over(order)


def _version_text() -> Column:
    return F.coalesce(F.col("schema_version").cast("string"),
                      F.try_element_at(F.col("cast_errors"), F.lit("schema_version")), F.lit("null"))


def _resource_reason() -> Column:
    return (F.when(F.col("_ref_res_found").isNull(),
                   F.concat(common.quoted("resource_id"), F.lit(" not found in resources")))
            .otherwise(F.concat(common.quoted("resource_id"), F.lit(" belongs to org '"),
                                F.col("_ref_res_org_id"), F.lit("', not to "), common.quoted("org_id"))))


def _blank_dimensions() -> Column:
    return F.array_contains(F.array(*[blank(c) for c in KEY_DIMENSIONS]), True)


def _blank_dimensions_reason() -> Column:
    return F.concat(F.lit("missing "), F.concat_ws(", ", *[F.when(blank(c), F.lit(c)) for c in KEY_DIMENSIONS]))


def min_cost(policy: Policy) -> Rule:
    """EV-05 as the deployment chose it: quarantine (the specification) or flag (credits)."""
    floor = policy.min_cost_increment
    if policy.quarantines_negative_costs:
        return Rule("EV-05", T, f"cost_usd_increment >= {floor} (the minimum increment).", "error", QUARANTINE,
                    "The specification's business rule: a charge below the minimum is an error or an "
                    "unbooked refund and must not reach any cost figure; above it is rounding noise. "
                    "Teams that book such rows as credits set CLOUD_ANALYTICS_NEGATIVE_COSTS=flag.",
                    condition=lambda: F.col("cost_usd_increment") < floor,
                    reason=lambda: F.concat(common.quoted("cost_usd_increment"), F.lit(f" below the minimum {floor}")))
    return Rule("EV-05", T, f"cost_usd_increment < {floor} is a credit, kept and flagged.", "warning", FLAG,
                "Flag-only mode (CLOUD_ANALYTICS_NEGATIVE_COSTS=flag): such rows are booked as credits, so "
                "they stay in every cost figure and are counted in negative_cost_count.",
                condition=lambda: F.col("cost_usd_increment") < floor)


_HEAD: list[Rule] = [
    Rule("EV-01", T, "event_id is present and unique; extra copies are quarantined.", "error", QUARANTINE,
         "A re-delivered event would double its usage and cost; the first ingested copy is kept.",
         condition=lambda: blank("event_id") | (_copy_number() > 1),
         reason=lambda: F.when(blank("event_id"), F.lit("event_id missing"))
         .otherwise(F.concat(F.lit("duplicate of "), common.quoted("event_id"), F.lit(" (extra copy)")))),
    Rule("EV-07", T, f"schema_version is a known version ({KNOWN_VERSIONS}).", "error", QUARANTINE,
         "Fields of an unknown version cannot be mapped safely; the raw record waits in "
         "quarantine until the registry knows the version.",
         condition=lambda: ~F.coalesce(F.col("schema_version").isin(KNOWN_VERSIONS), F.lit(False)),
         reason=lambda: F.concat(F.lit("unknown schema_version "), _version_text())),
    Rule("EV-02", T, "value is convertible to a number (value_raw present but value null).", "error",
         QUARANTINE, "A usage quantity that is not a number cannot be aggregated.",
         condition=lambda: ~blank("value_raw") & F.col("value").isNull(),
         reason=lambda: F.concat(F.lit("value not a number: "), common.quoted("value_raw"))),
    Rule("EV-04", T, "value or unit is present (an event with neither measures nothing).", "error",
         QUARANTINE, "Without value and unit the event carries no usage at all.",
         condition=lambda: F.col("value").isNull() & blank("unit")),
    common.cast_failed(T),
    common.org_exists(T),
    Rule("RI-02", T, "The event's resource exists and belongs to the event's org.", "error", QUARANTINE,
         "Usage on an unknown or foreign resource would be billed to the wrong customer.",
         condition=lambda: F.col("_ref_res_found").isNull()
         | ~F.col("_ref_res_org_id").eqNullSafe(F.col("org_id")),
         reason=_resource_reason, needs=("resource",)),
    common.in_domain(T),
    Rule("EV-08", T, f"{', '.join(KEY_DIMENSIONS)} are present (not null or blank).", "error", QUARANTINE,
         "They key every usage mart and the Cassandra clustering columns; an event without one "
         "cannot be grouped, and a null clustering value cannot be written at all.",
         condition=_blank_dimensions, reason=_blank_dimensions_reason),
]

_TAIL: list[Rule] = [
    Rule("EV-03", T, "unit missing while value present: impute it from the metric.", "info", FIX_AND_FLAG,
         "The unit is fully determined by the metric (requests→count, cpu_hours→hours, "
         "storage_gb_hours→gb_hours), so the value is usable.",
         condition=lambda: blank("unit") & F.col("value").isNotNull(),
         fixes=(("unit", lambda: unit_for_metric("metric")),)),
    Rule("EV-09", T, "value is null while unit is present.", "warning", FLAG,
         "The producer named a measure but sent no quantity: the event's cost still counts, "
         "its usage sums do not include it; the flag says which usage is missing.",
         condition=lambda: F.col("value").isNull() & ~blank("unit") & blank("value_raw")),
    Rule("EV-06", T, f"genai_tokens only on the genai service and schema versions {TOKEN_VERSIONS}.",
         "warning", FLAG, "Tokens elsewhere mean a mislabelled service or a producer bug.",
         condition=lambda: F.col("genai_tokens").isNotNull() & ~(
             F.coalesce(canonical("service", "service") == "genai", F.lit(False))
             & F.coalesce(F.col("schema_version").isin(TOKEN_VERSIONS), F.lit(False)))),
    Rule("TI-01", T, "The event is not before its resource's created_at.", "warning", FLAG,
         "Usage before the resource existed points at clock skew or a backfilled resource; the "
         "usage is real, so it is flagged, not dropped.",
         condition=lambda: F.col("event_date") < F.col("_ref_res_created_at"), needs=("resource",)),
]


def rules(policy: Policy = DEFAULT_POLICY) -> list[Rule]:
    """The usage_events rules under ``policy``, in evaluation order."""
    return [*_HEAD, min_cost(policy), *_TAIL]
