"""Documented value domains of the categorical columns, and their canonical spelling.

One place for both the DOM-02 rule (a value outside its domain after normalization is
quarantined) and the silver transforms (which write the canonical spelling), so the check
and the fix can never disagree. Normalization is trim + lower-case, then a small alias map
("us_east" → "us-east", "network" → "networking"); the canonical spelling is the one
``landing-dataset.md`` documents (industry "E-commerce", currency "USD", the rest lower-case).
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from cloud_analytics.lib.table_checks import blank  # noqa: F401  (re-exported: the rules use it from here)

REGIONS = ("sa-east", "us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast")

DOMAINS: dict[str, tuple[str, ...]] = {
    "industry": ("Education", "Media", "Manufacturing", "E-commerce", "Retail", "Healthcare",
                 "Energy", "Fintech", "Gaming", "Government"),
    "region": REGIONS,
    "plan_tier": ("free", "standard", "pro", "enterprise"),
    "sales_rep": ("rep_a", "rep_b", "rep_c", "rep_d", "rep_e"),
    "lifecycle_stage": ("lead", "prospect", "active", "at_risk", "churned"),
    "marketing_source": ("partner", "event", "organic", "ads", "referral"),
    "role": ("admin", "developer", "devops", "data_engineer", "ml_engineer", "analyst"),
    "service": ("compute", "storage", "database", "networking", "analytics", "genai"),
    "state": ("running", "stopped", "terminated"),
    "currency": ("USD", "ARS", "EUR"),
    "category": ("performance", "security", "availability", "usability", "integration", "billing"),
    "severity": ("low", "medium", "high", "critical"),
    "campaign": ("welcome", "genai_launch", "security_week", "webinar_finops", "upgrade_pro",
                 "upgrade_enterprise"),
    "channel": ("email", "ads", "event", "in_app"),
    "metric": ("requests", "cpu_hours", "storage_gb_hours"),
    "unit": ("count", "hours", "gb_hours"),
}

# Spellings seen in feeds that mean a documented value (keys already trimmed + lower-cased).
ALIASES: dict[str, dict[str, str]] = {
    "region": {
        **{code.replace("-", "_"): code for code in REGIONS},
        **{code.replace("-", ""): code for code in REGIONS},
    },
    "service": {"network": "networking", "db": "database", "gen_ai": "genai", "gen-ai": "genai"},
    "industry": {"ecommerce": "E-commerce", "e_commerce": "E-commerce"},
}

# The unit each metric is measured in (EV-03 imputes a missing unit from it).
METRIC_UNITS: dict[str, str] = {"requests": "count", "cpu_hours": "hours", "storage_gb_hours": "gb_hours"}

# Which domain each categorical column of each table draws from (free text, e.g. comment,
# has none).
TABLE_DOMAINS: dict[str, dict[str, str]] = {
    "customers_orgs": {"industry": "industry", "hq_region": "region", "plan_tier": "plan_tier",
                       "sales_rep": "sales_rep", "lifecycle_stage": "lifecycle_stage",
                       "marketing_source": "marketing_source"},
    "users": {"role": "role"},
    "resources": {"service": "service", "region": "region", "state": "state"},
    "billing_monthly": {"currency": "currency"},
    "support_tickets": {"category": "category", "severity": "severity"},
    "marketing_touches": {"campaign": "campaign", "channel": "channel"},
    "nps_surveys": {},
    "usage_events": {"service": "service", "region": "region", "metric": "metric", "unit": "unit"},
}


def _lookup(domain: str) -> dict[str, str]:
    table = {value.lower(): value for value in DOMAINS[domain]}
    table.update(ALIASES.get(domain, {}))
    return table


def _literal_map(pairs: dict[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for pair in sorted(pairs.items()) for x in pair])


def normalized(col: Column | str) -> Column:
    """trim + lower-case: the comparison form of a categorical value."""
    return F.lower(F.trim(F.col(col) if isinstance(col, str) else col))


def canonical(col: Column | str, domain: str) -> Column:
    """The documented spelling of a categorical value; null when it is outside the domain."""
    return F.try_element_at(_literal_map(_lookup(domain)), normalized(col))


def unit_for_metric(metric: Column | str) -> Column:
    """The unit of a metric (null for an unknown metric)."""
    return F.try_element_at(_literal_map(METRIC_UNITS), canonical(metric, "metric"))
