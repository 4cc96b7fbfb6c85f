"""Rule factories shared by several tables (CAST-01, KEY-*, RI-01, DOM-*, TI-01).

A factory returns a ``Rule`` for one table, so a rule id such as RI-01 is one row per table
in the catalog and its counts are reported per table.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from cloud_analytics.quality.domains import TABLE_DOMAINS, blank, canonical
from cloud_analytics.quality.model import FLAG, QUARANTINE, Lookup, Rule

ORG_LOOKUP = Lookup("org", ref="orgs", keys=("org_id",),
                    columns={"_ref_org_signup_date": "signup_date"}, found="_ref_org_found")
RESOURCE_LOOKUP = Lookup("resource", ref="resources", keys=("resource_id",),
                         columns={"_ref_res_org_id": "org_id", "_ref_res_created_at": "created_at"},
                         found="_ref_res_found")
LOOKUPS = {lookup.name: lookup for lookup in (ORG_LOOKUP, RESOURCE_LOOKUP)}


def quoted(col: str) -> Column:
    """``col='value'`` (or ``col=null``) for reason texts."""
    c = F.col(col).cast("string")
    return F.concat(F.lit(f"{col}="), F.coalesce(F.concat(F.lit("'"), c, F.lit("'")), F.lit("null")))


def cast_failed(table: str) -> Rule:
    def reason() -> Column:
        entries = F.transform(
            F.map_entries(F.col("cast_errors")),
            lambda e: F.concat(e["key"], F.lit("='"), F.coalesce(e["value"], F.lit("")), F.lit("'")),
        )
        return F.concat(F.lit("value(s) not of their column type: "), F.array_join(entries, ", "))

    return Rule(
        "CAST-01", table, "A value failed its type cast at bronze (cast_errors not empty).",
        "error", QUARANTINE,
        "A typed column would hold null where the source had a value; silver must not pretend "
        "the value was missing.",
        condition=lambda: F.size(F.col("cast_errors")) > 0, reason=reason,
    )


def key_missing(table: str, keys: tuple[str, ...]) -> Rule:
    def missing() -> Column:
        out = blank(keys[0])
        for key in keys[1:]:
            out = out | blank(key)
        return out

    return Rule(
        "KEY-02", table, f"The key ({', '.join(keys)}) is present.", "error", QUARANTINE,
        "A row without its key cannot be joined, versioned or deduplicated.",
        condition=missing, reason=lambda: F.concat_ws(", ", *[quoted(k) for k in keys]),
    )


def key_conflict(table: str) -> Rule:
    return Rule(
        "KEY-01", table, "Rows sharing the key in one snapshot differ in content (key_conflict).",
        "warning", FLAG,
        "Both versions are kept for audit; silver picks one deterministically.",
        condition=lambda: F.col("key_conflict"),
    )


def org_exists(table: str) -> Rule:
    return Rule(
        "RI-01", table, "org_id exists in customers_orgs.", "error", QUARANTINE,
        "Facts of an unknown org cannot be attributed to a customer and would skew every "
        "per-org figure.",
        condition=lambda: F.col(ORG_LOOKUP.found).isNull(),
        reason=lambda: F.concat(quoted("org_id"), F.lit(" not found in customers_orgs")),
        needs=("org",),
    )


def in_domain(table: str) -> Rule:
    columns = TABLE_DOMAINS[table]

    def bad(col: str) -> Column:
        return ~blank(col) & canonical(col, columns[col]).isNull()

    def condition() -> Column:
        return F.array_contains(F.array(*[bad(c) for c in columns]), True)

    def reason() -> Column:
        return F.concat_ws("; ", *[F.when(bad(c), F.concat(quoted(c), F.lit(" not in domain")))
                                   for c in columns])

    return Rule(
        "DOM-02", table,
        f"Categorical values ({', '.join(columns)}) are in their documented domains after "
        "trim + lower-case + aliases.",
        "error", QUARANTINE,
        "An unknown category would create a phantom group in every breakdown.",
        condition=condition, reason=reason,
    )


def nps_in_range(table: str) -> Rule:
    return Rule(
        "DOM-01", table, "nps_score is within -100..100.", "warning", FLAG,
        "An NPS outside its scale is a data-entry error; the row stays, the score is excluded "
        "from averages (nps_in_range).",
        condition=lambda: F.col("nps_score").isNotNull() & ~F.col("nps_score").between(-100, 100),
    )


def not_before_org_signup(table: str, date_col: str, what: str) -> Rule:
    return Rule(
        "TI-01", table, f"{what} ({date_col}) is not before the org's signup_date.",
        "warning", FLAG,
        "Cross-table dates out of order point at clock or backfill issues in the source; the "
        "facts are real, so they are flagged, not dropped.",
        condition=lambda: F.col(date_col) < F.col("_ref_org_signup_date"),
        needs=("org",),
    )
