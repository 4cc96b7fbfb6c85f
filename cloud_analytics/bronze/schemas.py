"""Explicit schemas of every landing source, in one place.

CSV sources are read as text and cast column by column (``csv_ingest.py``), so a value that
fails its cast is kept, not nulled. The usage-event schema is a registry keyed by
``schema_version``: adding version 3 is one entry in ``EVENT_SCHEMA_VERSIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- CSV sources -------------------------------------------------------------------


@dataclass(frozen=True)
class CsvSource:
    """One landing CSV: its file, its columns (name, Spark type) in file order, its key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    # "snapshot": a partition is the day the file was captured (column snapshot_date);
    # otherwise the name of the date column whose month is the partition.
    partitioning: str = "snapshot"
    description: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def partition_column(self) -> str:
        return "snapshot_date" if self.partitioning == "snapshot" else self.partitioning


CSV_SOURCES: tuple[CsvSource, ...] = (
    CsvSource(
        "customers_orgs",
        (("org_id", "string"), ("org_name", "string"), ("industry", "string"), ("hq_region", "string"),
         ("plan_tier", "string"), ("is_enterprise", "boolean"), ("signup_date", "date"),
         ("sales_rep", "string"), ("lifecycle_stage", "string"), ("marketing_source", "string"),
         ("nps_score", "double")),
        key=("org_id",),
        description="Customer organizations (master data), one row per org per snapshot day.",
    ),
    CsvSource(
        "users",
        (("user_id", "string"), ("org_id", "string"), ("email", "string"), ("role", "string"),
         ("active", "boolean"), ("created_at", "date"), ("last_login", "date")),
        key=("user_id",),
        description="Users of the customer orgs (holds personal data: emails), per snapshot day.",
    ),
    CsvSource(
        "resources",
        (("resource_id", "string"), ("org_id", "string"), ("service", "string"), ("region", "string"),
         ("created_at", "date"), ("state", "string"), ("tags_json", "string")),
        key=("resource_id",),
        description="Cloud resources owned by orgs, per snapshot day.",
    ),
    CsvSource(
        "billing_monthly",
        (("invoice_id", "string"), ("org_id", "string"), ("month", "date"), ("subtotal", "double"),
         ("credits", "double"), ("taxes", "double"), ("currency", "string"),
         ("exchange_rate_to_usd", "double")),
        key=("invoice_id",),
        partitioning="month",
        description="Monthly invoices, partitioned by invoice month.",
    ),
    CsvSource(
        "support_tickets",
        (("ticket_id", "string"), ("org_id", "string"), ("category", "string"), ("severity", "string"),
         ("created_at", "date"), ("resolved_at", "date"), ("csat", "double"), ("sla_breached", "boolean")),
        key=("ticket_id",),
        description="Support tickets, per snapshot day.",
    ),
    CsvSource(
        "marketing_touches",
        (("touch_id", "string"), ("org_id", "string"), ("campaign", "string"), ("channel", "string"),
         ("timestamp", "date"), ("clicked", "boolean"), ("converted", "boolean")),
        key=("touch_id",),
        description="Marketing touches (campaign contacts), per snapshot day.",
    ),
    CsvSource(
        "nps_surveys",
        (("org_id", "string"), ("survey_date", "date"), ("nps_score", "double"), ("comment", "string")),
        key=("org_id", "survey_date"),
        description="NPS survey answers, per snapshot day.",
    ),
)
CSV_SOURCES_BY_NAME = {source.name: source for source in CSV_SOURCES}

# -- usage events ------------------------------------------------------------------

EVENTS_DIR = "usage_events_stream"

# Every field of each known schema version, in landing order. All are read as text and
# cast afterwards, so a number written as a string is parsed, not nulled.
EVENT_SCHEMA_VERSIONS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (
        ("event_id", "string"), ("timestamp", "timestamp"), ("org_id", "string"),
        ("resource_id", "string"), ("service", "string"), ("region", "string"),
        ("metric", "string"), ("value", "double"), ("unit", "string"),
        ("cost_usd_increment", "double"), ("schema_version", "int"),
    ),
}
EVENT_SCHEMA_VERSIONS[2] = EVENT_SCHEMA_VERSIONS[1] + (("carbon_kg", "double"), ("genai_tokens", "bigint"))


def event_fields() -> list[tuple[str, str]]:
    """The union of the fields of every known version, first-seen order."""
    seen: dict[str, str] = {}
    for version in sorted(EVENT_SCHEMA_VERSIONS):
        for name, dtype in EVENT_SCHEMA_VERSIONS[version]:
            seen.setdefault(name, dtype)
    return list(seen.items())
