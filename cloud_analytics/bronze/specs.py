"""The contract of every bronze table, Dagster-free: one ``TableSpec`` per table.

A CSV table stores the landing file's columns typed (``CsvSource``: the spec plus what only
the landing needs) followed by the bronze columns every CSV table gets (``CSV_EXTRAS``).
The stream tables' Delta schemas (``bronze/events.py``) and the reject table's are rendered
from these specs, so the declared columns are the stored ones, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_analytics.lib.spec import Column, Dep, TableSpec, by_name, columns, ddl
from cloud_analytics.lib.table_checks import reason_present

EVENTS_DIR = "usage_events_stream"  # the landing folder of the usage-event JSONL files

_INGEST_TS = ("ingest_ts", "timestamp", "When bronze ingested the row (UTC).")
_SOURCE_FILE = ("source_file", "string", "Landing file the row came from, relative to the lake root.")
_CAST_ERRORS = ("cast_errors", "map<string,string>",
                "Raw text of each value that failed its cast, by column; null when every cast worked.")
_ORG_ID = ("org_id", "string", "Customer organization id.")
SNAPSHOT_DATE = "snapshot_date"
# Appended to a CSV's own columns, in this order (snapshot_date only for snapshot sources).
CSV_EXTRAS: tuple[Column, ...] = columns(
    _CAST_ERRORS,
    ("key_conflict", "boolean", "True when another row of the file has the same key but other values."),
    (SNAPSHOT_DATE, "date", "UTC day the landing file was captured (the snapshot); the partition."),
    _INGEST_TS,
    _SOURCE_FILE,
)
_EXTRA_NAMES = frozenset(c.name for c in CSV_EXTRAS)

@dataclass(frozen=True)
class CsvSource:
    """One landing CSV: the bronze table's spec, whose non-bronze columns are the file's, in
    file order, typed as they are cast."""

    spec: TableSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def key(self) -> tuple[str, ...]:
        return self.spec.key

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """(name, Spark type) of the file's columns, in file order."""
        return tuple((c.name, c.type) for c in self.spec.columns if c.name not in _EXTRA_NAMES)

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def partition_column(self) -> str:
        return self.spec.partition_column

    @property
    def partitioning(self) -> str:
        """"snapshot" (a partition is the capture day) or the date column whose month is the partition."""
        return "snapshot" if self.partition_column == SNAPSHOT_DATE else self.partition_column


def _csv(name: str, landed: tuple[Column, ...], key: tuple[str, ...], description: str, grain: str,
         month_of: str | None = None) -> CsvSource:
    """A snapshot source (a partition per capture day), or with ``month_of`` a source partitioned
    by the month of that date column."""
    extras = tuple(c for c in CSV_EXTRAS if month_of is None or c.name != SNAPSHOT_DATE)
    return CsvSource(TableSpec(
        layer="bronze", name=name, description=description, grain=grain, columns=(*landed, *extras), key=key,
        partitions="billing_monthly" if month_of else "snapshot_daily",
        partition_column=month_of or SNAPSHOT_DATE,
    ))


CSV_SOURCES: tuple[CsvSource, ...] = (
    _csv("customers_orgs", columns(
        _ORG_ID, ("org_name", "string", "Organization name."), ("industry", "string", "Industry, as landed."),
        ("hq_region", "string", "Region of the headquarters, as landed."), ("plan_tier", "string", "Plan tier."),
        ("is_enterprise", "boolean", "Enterprise account flag."), ("signup_date", "date", "Day the org signed up."),
        ("sales_rep", "string", "Sales representative."), ("lifecycle_stage", "string", "Lifecycle stage."),
        ("marketing_source", "string", "Acquisition channel."), ("nps_score", "double", "NPS score as recorded.")),
        key=("org_id",), grain="one landed org row per snapshot day",
        description="Customer organizations (master data), one row per org per snapshot day."),
    _csv("users", columns(
        ("user_id", "string", "User id."), _ORG_ID, ("email", "string", "Email address (personal data)."),
        ("role", "string", "User role, as landed."), ("active", "boolean", "Account active flag."),
        ("created_at", "date", "Day the account was created."), ("last_login", "date", "Day of the last login.")),
        key=("user_id",), grain="one landed user row per snapshot day",
        description="Users of the customer orgs (holds personal data: emails), per snapshot day."),
    _csv("resources", columns(
        ("resource_id", "string", "Cloud resource id."), _ORG_ID, ("service", "string", "Cloud service."),
        ("region", "string", "Cloud region."), ("created_at", "date", "Day the resource was created."),
        ("state", "string", "Resource state."), ("tags_json", "string", "Tags as raw JSON text.")),
        key=("resource_id",), grain="one landed resource row per snapshot day",
        description="Cloud resources owned by orgs, per snapshot day."),
    _csv("billing_monthly", columns(
        ("invoice_id", "string", "Invoice id."), _ORG_ID, ("month", "date", "Invoice month; its month is the partition."),
        ("subtotal", "double", "Subtotal, invoice currency."), ("credits", "double", "Credits granted."),
        ("taxes", "double", "Taxes."), ("currency", "string", "Invoice currency."),
        ("exchange_rate_to_usd", "double", "USD per unit of currency.")),
        key=("invoice_id",), grain="one landed invoice row", month_of="month",
        description="Monthly invoices, partitioned by invoice month."),
    _csv("support_tickets", columns(
        ("ticket_id", "string", "Support ticket id."), _ORG_ID, ("category", "string", "Ticket category."),
        ("severity", "string", "Ticket severity."), ("created_at", "date", "Day the ticket was opened."),
        ("resolved_at", "date", "Day the ticket was resolved; null while open."),
        ("csat", "double", "Satisfaction score as recorded."), ("sla_breached", "boolean", "SLA breached flag.")),
        key=("ticket_id",), grain="one landed ticket row per snapshot day",
        description="Support tickets, per snapshot day."),
    _csv("marketing_touches", columns(
        ("touch_id", "string", "Marketing touch id."), _ORG_ID, ("campaign", "string", "Campaign."),
        ("channel", "string", "Channel."), ("timestamp", "date", "Day of the touch."),
        ("clicked", "boolean", "Clicked flag."), ("converted", "boolean", "Converted flag.")),
        key=("touch_id",), grain="one landed touch row per snapshot day",
        description="Marketing touches (campaign contacts), per snapshot day."),
    _csv("nps_surveys", columns(
        _ORG_ID, ("survey_date", "date", "Day the survey was answered."),
        ("nps_score", "double", "The answer's NPS score."), ("comment", "string", "Free-text comment.")),
        key=("org_id", "survey_date"), grain="one landed survey answer per snapshot day",
        description="NPS survey answers, per snapshot day."),
)
CSV_SOURCES_BY_NAME = {source.name: source for source in CSV_SOURCES}

CSV_REJECTS = TableSpec(
    layer="bronze", name="csv_rejects",
    description="CSV lines that cannot become a bronze row (wrong width, bytes not UTF-8, empty key, unusable "
    "partition value), with the line and the reason. Written by the CSV assets, which replace their own "
    "source's partition keys; this asset publishes and checks it after them.",
    grain="one rejected landing line per partition key (a snapshot source's line, once per snapshot day)",
    columns=columns(
        ("source", "string", "The CSV source (bronze table) the line belongs to; the Delta partition."),
        ("partition_key", "string", "Snapshot day of the reject, or 'invalid' for a month source's line "
         "without a usable month."),
        _SOURCE_FILE,
        ("line", "string", "The raw line (as JSON of its fields when Spark could split it)."),
        ("reason", "string", "Why the line was rejected: `<code>: <detail>`."),
        _INGEST_TS,
    ),
    key=(),
    partition_column="source",
    deps=tuple(Dep(source.spec.path, "all") for source in CSV_SOURCES),
    checks=(reason_present("source", "source_file", "reason"),),
)

USAGE_EVENTS = TableSpec(
    layer="bronze", name="usage_events",
    description="Usage events from the JSONL stream, typed, deduplicated by event_id against everything stored, "
    "partitioned by event_date (UTC). A partition of this asset is one stream trigger; re-running one "
    "ingests only files not yet seen.",
    grain="one usage event (unique event_id)",
    columns=columns(
        ("event_id", "string", "Event id; unique in the table."),
        ("event_ts", "timestamp", "Event time (UTC), parsed from timestamp_raw."),
        ("timestamp_raw", "string", "The event's timestamp as landed."),
        _ORG_ID,
        ("resource_id", "string", "Cloud resource id."),
        ("service", "string", "Cloud service, as landed."),
        ("region", "string", "Cloud region, as landed."),
        ("metric", "string", "What value measures."),
        ("value", "double", "Measured quantity (parsed also when landed as a string)."),
        ("value_raw", "string", "value as landed."),
        ("value_is_string", "boolean", "True when the JSON held value as a string."),
        ("unit", "string", "Unit of value, as landed."),
        ("cost_usd_increment", "double", "Cost of the event in USD."),
        ("schema_version", "int", "Schema version the event declares."),
        ("schema_version_known", "boolean", "True when schema_version is a known version."),
        ("carbon_kg", "double", "Carbon emitted, kg (v2)."),
        ("genai_tokens", "bigint", "GenAI tokens (v2)."),
        _CAST_ERRORS,
        ("extra_fields", "string", "JSON of the keys no known schema version declares; null when none."),
        ("is_late", "boolean", "True when older than the newest stored event minus the allowed lateness."),
        ("lateness_seconds", "bigint", "Seconds older than the newest event stored before its batch."),
        ("event_date", "date", "UTC day of event_ts; the Delta partition."),
        _SOURCE_FILE,
        _INGEST_TS,
        ("stream_run", "string", "The stream trigger (Dagster partition) that stored the row."),
        ("stream_batch_id", "bigint", "The micro-batch of that trigger."),
    ),
    key=("event_id",),
    partitions="stream_runs",
    partition_column="event_date",
)

USAGE_EVENTS_REJECTS = TableSpec(
    layer="bronze", name="usage_events_rejects",
    description="Event lines that cannot be stored: not JSON, no event_id, no usable timestamp; "
    "with the file, the line text and the reason.",
    grain="one rejected landing line",
    columns=columns(
        _SOURCE_FILE,
        ("line", "string", "The raw line."),
        ("reason", "string", "Why the line was rejected: `<code>[: <detail>]`."),
        ("reject_date", "date", "UTC day of the rejection; the Delta partition."),
        _INGEST_TS,
        ("stream_run", "string", "The stream trigger that read the line."),
        ("stream_batch_id", "bigint", "The micro-batch of that trigger."),
    ),
    key=(),
    partitions="stream_runs",
    partition_column="reject_date",
    checks=(reason_present("source_file", "reason"),),
)

# The ledger ``_usage_events_ledger`` is the stream's own bookkeeping (``stream.py``), not a table
# anyone reads as data; it is not declared here.
BRONZE_SPECS: tuple[TableSpec, ...] = (*(s.spec for s in CSV_SOURCES), CSV_REJECTS, USAGE_EVENTS,
                                       USAGE_EVENTS_REJECTS)
BRONZE_BY_NAME = by_name(BRONZE_SPECS)


__all__ = ["BRONZE_BY_NAME", "BRONZE_SPECS", "CSV_REJECTS", "CSV_SOURCES", "CSV_SOURCES_BY_NAME", "CsvSource",
           "EVENTS_DIR", "USAGE_EVENTS", "USAGE_EVENTS_REJECTS", "ddl"]
