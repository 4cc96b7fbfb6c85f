"""The rules of the CSV-fed tables (master data, billing, tickets, marketing, NPS), in order."""

from __future__ import annotations

from pyspark.sql import functions as F

from cloud_analytics.bronze.specs import CSV_SOURCES_BY_NAME
from cloud_analytics.quality import common
from cloud_analytics.quality.domains import canonical
from cloud_analytics.quality.model import FIX_AND_FLAG, FLAG, QUARANTINE, Rule

CSAT_MIN, CSAT_MAX = 1, 5


def _head(table: str) -> list[Rule]:
    """Rules every CSV table starts with: typed values, a key, a known org."""
    rules = [common.cast_failed(table), common.key_missing(table, CSV_SOURCES_BY_NAME[table].key)]
    return rules + ([common.org_exists(table)] if table != "customers_orgs" else [])


def _tail(table: str) -> list[Rule]:
    return [common.key_conflict(table)]


ORGS = [*_head("customers_orgs"), common.in_domain("customers_orgs"),
        common.nps_in_range("customers_orgs"), *_tail("customers_orgs")]

USERS = [*_head("users"), common.in_domain("users"),
         common.not_before_org_signup("users", "created_at", "The user's creation"),
         Rule("US-01", "users", "last_login is not before created_at.", "warning", FLAG,
              "A login before the account existed is clock skew or a migrated account; the user is "
              "real, so the row is kept and flagged, and activity figures can leave it out.",
              condition=lambda: F.col("last_login") < F.col("created_at")),
         *_tail("users")]

RESOURCES = [*_head("resources"), common.in_domain("resources"),
             common.not_before_org_signup("resources", "created_at", "The resource's creation"),
             *_tail("resources")]

B = "billing_monthly"
BILLING = [
    *_head(B), common.in_domain(B),
    Rule("BI-01", B, "subtotal and taxes have the same sign.", "warning", FLAG,
         "Taxes are computed on the subtotal; opposite signs mean a credit note taxed as a charge "
         "(or the reverse). The invoice is money, so it is kept.",
         condition=lambda: F.signum("subtotal") * F.signum("taxes") < 0),
    Rule("BI-02", B, "credits missing → 0.", "info", FIX_AND_FLAG,
         "An invoice without a credits figure had no credits; null would null the total.",
         condition=lambda: F.col("credits").isNull(),
         fixes=(("credits", lambda: F.lit(0.0)),)),
    Rule("BI-03", B, "USD invoices use exchange_rate_to_usd = 1.", "info", FIX_AND_FLAG,
         "A dollar is a dollar: any other rate on a USD invoice is a feed error that would "
         "misstate revenue.",
         condition=lambda: (canonical("currency", "currency") == "USD")
         & ~F.col("exchange_rate_to_usd").eqNullSafe(F.lit(1.0)),
         fixes=(("exchange_rate_to_usd", lambda: F.lit(1.0)),)),
    *_tail(B),
]

K = "support_tickets"
TICKETS = [
    *_head(K),
    Rule("TK-01", K, "resolved_at is not before created_at.", "error", QUARANTINE,
         "A negative resolution time would corrupt every SLA and resolution-time average.",
         condition=lambda: F.col("resolved_at") < F.col("created_at"),
         reason=lambda: F.concat(common.quoted("resolved_at"), F.lit(" before "), common.quoted("created_at"))),
    common.in_domain(K),
    Rule("TK-02", K, f"csat is within {CSAT_MIN}..{CSAT_MAX}.", "warning", FLAG,
         "An out-of-scale score is kept for audit and excluded from averages (csat_valid).",
         condition=lambda: F.col("csat").isNotNull() & ~F.col("csat").between(CSAT_MIN, CSAT_MAX)),
    Rule("TK-03", K, "An open ticket (resolved_at null) carries no csat.", "warning", FLAG,
         "Satisfaction is asked on resolution; a score on an open ticket is premature or stale.",
         condition=lambda: F.col("resolved_at").isNull() & F.col("csat").isNotNull()),
    common.not_before_org_signup(K, "created_at", "The ticket"),
    *_tail(K),
]

TOUCHES = [*_head("marketing_touches"), common.in_domain("marketing_touches"), *_tail("marketing_touches")]

NPS = [*_head("nps_surveys"), common.nps_in_range("nps_surveys"),
       common.not_before_org_signup("nps_surveys", "survey_date", "The survey"), *_tail("nps_surveys")]

RULES: list[Rule] = ORGS + USERS + RESOURCES + BILLING + TICKETS + TOUCHES + NPS
