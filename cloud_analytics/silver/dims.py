"""Silver master data: orgs, users and resources, conformed from evaluated bronze snapshots.

Inputs are the ``kept`` frames of ``quality.evaluate`` (bronze columns + ``dq_flags``);
outputs keep ``snapshot_date`` so ``scd2.build_scd2`` can turn them into history with the
``*_TRACKED`` attributes below.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.quality.domains import canonical, normalized
from cloud_analytics.silver.pii import with_hmac
from cloud_analytics.silver.scd2 import build_scd2

NPS_MIN, NPS_MAX = -100, 100

ORG_TRACKED = ("org_name", "industry", "hq_region", "plan_tier", "is_enterprise", "signup_date",
               "sales_rep", "lifecycle_stage", "marketing_source", "nps_score", "nps_in_range")
# last_login moves every day; tracking it would make a version per login, so it is not tracked.
USER_TRACKED = ("org_id", "email_hash", "email_domain", "role", "active", "created_at")
RESOURCE_TRACKED = ("org_id", "service", "region", "created_at", "state", "tags", "tags_map", "has_pii")


def nps_in_range(col: str = "nps_score") -> Column:
    """True when the score is on the NPS scale (DOM-01), null when there is no score."""
    return F.col(col).between(NPS_MIN, NPS_MAX)


def conform_orgs(kept: DataFrame) -> DataFrame:
    """Canonical categoricals, trimmed name, ``nps_in_range`` (out-of-scale scores stay, excluded
    from averages)."""
    return kept.select(
        "org_id", F.trim("org_name").alias("org_name"),
        canonical("industry", "industry").alias("industry"),
        canonical("hq_region", "region").alias("hq_region"),
        canonical("plan_tier", "plan_tier").alias("plan_tier"),
        "is_enterprise", "signup_date",
        canonical("sales_rep", "sales_rep").alias("sales_rep"),
        canonical("lifecycle_stage", "lifecycle_stage").alias("lifecycle_stage"),
        canonical("marketing_source", "marketing_source").alias("marketing_source"),
        "nps_score", nps_in_range().alias("nps_in_range"),
        "dq_flags", "snapshot_date",
    )


def orgs_history(conformed: DataFrame) -> DataFrame:
    """SCD2 history of orgs (see ``scd2.build_scd2`` for the output columns)."""
    return build_scd2(conformed, ["org_id"], ORG_TRACKED, carry=["dq_flags"])


def conform_users(kept: DataFrame, pepper: str | bytes) -> DataFrame:
    """Pseudonymized users: ``email_hash`` = HMAC-SHA256(pepper, trim(lower(email))) as hex,
    ``email_domain`` kept for analytics, no plain email column; role canonical;
    ``has_logged_in`` (a null last_login means never)."""
    email = normalized("email")
    hashed = with_hmac(kept, email, pepper, "email_hash")
    return hashed.select(
        "user_id", "org_id", "email_hash",
        F.when(F.instr(email, "@") > 0, F.substring_index(email, "@", -1)).alias("email_domain"),
        canonical("role", "role").alias("role"),
        F.col("active").cast("boolean").alias("active"),
        "created_at", "last_login",
        F.col("last_login").isNotNull().alias("has_logged_in"),
        "dq_flags", "snapshot_date",
    )


def parse_tags(tags_json: Column) -> Column:
    """``"[\\"env:prod\\", \\"pii:true\\"]"`` → ``["env:prod", "pii:true"]`` (trimmed, lower-case,
    distinct; empty for null or malformed JSON)."""
    raw = F.coalesce(F.from_json(tags_json, "array<string>"), F.array().cast("array<string>"))
    cleaned = F.transform(raw, lambda t: F.lower(F.trim(t)))
    return F.array_distinct(F.filter(cleaned, lambda t: t.isNotNull() & (t != "")))


def tags_to_map(tags: Column) -> Column:
    """``key:value`` tags → map<string,string>; several values of one key are joined with ','
    (a plain map_from_entries would fail on the duplicate key)."""
    pairs = F.transform(F.filter(tags, lambda t: F.instr(t, ":") > 0),
                        lambda t: F.struct(F.get(F.split(t, ":", 2), 0).alias("k"),
                                           F.get(F.split(t, ":", 2), 1).alias("v")))
    keys = F.array_distinct(F.transform(pairs, lambda p: p["k"]))
    values = F.transform(keys, lambda k: F.array_join(
        F.array_distinct(F.transform(F.filter(pairs, lambda p: p["k"] == k), lambda p: p["v"])), ","))
    return F.map_from_arrays(keys, values)


def conform_resources(kept: DataFrame) -> DataFrame:
    """Canonical service/region/state, ``tags`` array, ``tags_map`` (env, team, costcenter,
    pii, backup, …) and ``has_pii`` (tagged pii:true)."""
    with_tags = kept.withColumn("tags", parse_tags(F.col("tags_json")))
    return with_tags.select(
        "resource_id", "org_id",
        canonical("service", "service").alias("service"),
        canonical("region", "region").alias("region"),
        "created_at",
        canonical("state", "state").alias("state"),
        "tags_json", "tags", tags_to_map(F.col("tags")).alias("tags_map"),
        F.array_contains("tags", "pii:true").alias("has_pii"),
        "dq_flags", "snapshot_date",
    )


def resources_history(conformed: DataFrame) -> DataFrame:
    """SCD2 history of resources (state, tags and pii changes make versions)."""
    return build_scd2(conformed, ["resource_id"], RESOURCE_TRACKED, carry=["dq_flags", "tags_json"])
