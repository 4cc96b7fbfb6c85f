"""The contract of every silver table, Dagster-free: one ``TableSpec`` per table, in build order.

Two kinds of table. A table *conformed* from bronze (``CONFORMED``): its bronze partition
window is evaluated by the table's data-quality rules (``quality``), the kept rows are
conformed by ``build`` and replace the window; the first dep is the bronze source. A *history*
(``HISTORIES``): an SCD2 history rebuilt whole from every stored snapshot of its silver source
(small tables) up to the run's day; its checks are the SCD2 invariants. ``build`` is a function
of ``inputs.SilverInputs``; ``assets.py`` derives the Dagster assets and checks from these specs.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib.spec import Check, CheckInput, Column, Dep, Outcome, TableSpec, by_name, columns
from cloud_analytics.lib.table_checks import key_unique
from cloud_analytics.lib.windows import date_window_predicate
from cloud_analytics.silver import scd2
from cloud_analytics.silver.billing import conform_billing
from cloud_analytics.silver.dims import conform_orgs, conform_resources, conform_users, orgs_history, resources_history
from cloud_analytics.silver.inputs import SilverInputs
from cloud_analytics.silver.marketing import conform_surveys, conform_touches
from cloud_analytics.silver.tickets import conform_tickets
from cloud_analytics.silver.usage_events import build_silver_events

# -- columns several tables share -------------------------------------------------------------

ARR = "array<string>"
ORG_ID = ("org_id", "string", "Customer organization id.")
DQ_FLAGS = ("dq_flags", ARR,
            "Ids of the flag and fix_and_flag rules that fired on the row (data-quality.md); empty when clean.")
SNAPSHOT_DATE = ("snapshot_date", "date", "UTC day the landing file was captured (the snapshot); the partition.")
NPS_IN_RANGE = ("nps_in_range", "boolean", "True when nps_score is on the −100..100 scale (DOM-01); only those "
                "enter averages. Null without a score.")
ORG_ATTRIBUTES = (
    ("org_name", "string", "Organization name, trimmed."),
    ("industry", "string", "Industry of the org (canonical domain value, e.g. Fintech)."),
    ("hq_region", "string", "Region of the org's headquarters (canonical region code)."),
    ("plan_tier", "string", "Plan tier: free, standard, pro or enterprise."),
    ("is_enterprise", "boolean", "True for enterprise accounts (source flag)."),
    ("signup_date", "date", "Day the org signed up."),
    ("sales_rep", "string", "Sales representative of the account (canonical)."),
    ("lifecycle_stage", "string", "Lifecycle stage: lead, prospect, active, at_risk or churned."),
    ("marketing_source", "string", "Channel the org was acquired through (partner, event, organic, ads, referral)."),
    ("nps_score", "double", "NPS score as recorded; kept when off the −100..100 scale (see nps_in_range)."),
    NPS_IN_RANGE,
)
# The SCD2 columns of a history, after the entity's own (see ``scd2.HISTORY_COLUMNS``).
VERSION_COLUMNS = (
    ("valid_from", "date", "First day the version is valid (inclusive); 1900-01-01 for an entity's first version."),
    ("valid_to", "date", "Day the version stops being valid (exclusive); 9999-12-31 while open, the day after the "
     "last snapshot that had the entity when it disappeared."),
    ("is_current", "boolean", "True for the open version (valid_to = 9999-12-31)."),
    ("version", "int", "Version number within the entity, 1 = first seen."),
    ("changed_on", "date", "Snapshot day on which this version first appeared."),
)
RESOURCE_ID = ("resource_id", "string", "Cloud resource id.")
RESOURCE_ATTRIBUTES = (
    ("service", "string", "Cloud service: compute, storage, database, networking, analytics or genai."),
    ("region", "string", "Cloud region (canonical code, e.g. us-east)."),
    ("created_at", "date", "Day the resource was created."),
    ("state", "string", "Resource state: running, stopped or terminated."),
)
TAGS_JSON = ("tags_json", "string", "Tags as the source's raw JSON text.")
TAGS = (
    ("tags", ARR, "Tags parsed from tags_json: trimmed, lower-case, distinct `key:value` strings."),
    ("tags_map", "map<string,string>", "`key:value` tags as a map (several values of one key joined with ',')."),
    ("has_pii", "boolean", "True when the resource is tagged `pii:true`."),
)

# -- builders: what each table's ``build`` does with its inputs ---------------------------------


def _conform(conform):
    """A conform of the kept rows alone."""
    return lambda given: conform(given.rows)


def _users(given: SilverInputs) -> DataFrame:
    return conform_users(given.rows, given.pepper)


def _events(given: SilverInputs) -> DataFrame:
    """Enriched with the histories as of each event date; anomaly statistics also over every
    stored event outside the window (the baseline)."""
    # Pinned: the baseline is the stored table before this window is replaced, however often
    # the frame is evaluated (write, checks). Nothing is held in memory, at any scale.
    stored = given.lake.read_pinned("silver", "usage_events")
    outside = None if stored is None else stored.filter(
        f"NOT ({date_window_predicate('event_date', given.start, given.end)})")
    return build_silver_events(given.rows, given.lake.load("silver", "customers_orgs_history"),
                               given.lake.load("silver", "resources_history"), baseline=outside)


# -- the SCD2 invariants, checked on every stored history --------------------------------------

ONE_CURRENT = "one_current_version"
NO_OVERLAP = "versions_do_not_overlap"


def _history_checks(entity: str) -> tuple[Check, ...]:
    def one_current(given: CheckInput) -> Outcome:
        several = scd2.keys_with_several_current(given.written, entity)
        return Outcome(several == 0, {"keys_with_several_current": several})

    def no_overlap(given: CheckInput) -> Outcome:
        bad = scd2.bad_versions(given.written, entity)
        return Outcome(bad == 0, {"bad_versions": bad})

    return (Check(ONE_CURRENT, "at most one current version per key", one_current, blocking=True),
            Check(NO_OVERLAP, "valid_from < valid_to, and a key's versions never overlap", no_overlap,
                  blocking=True))


def _history(name: str, source: str, entity: str, cols: tuple[Column, ...], build, grain: str,
             description: str) -> TableSpec:
    return TableSpec(
        layer="silver", name=name, description=description, grain=grain, columns=cols,
        key=(entity, "valid_from"), partitions="snapshot_daily", partition_column=None,
        deps=(Dep(f"silver/{source}"),), build=lambda given: build(given.rows), checks=_history_checks(entity),
    )


# -- the tables -------------------------------------------------------------------------------

ORGS_HISTORY_DEP = Dep("silver/customers_orgs_history")

CUSTOMERS_ORGS = TableSpec(
    layer="silver", name="customers_orgs",
    description="Customer orgs per snapshot day: domains canonical, NPS range flagged (DOM-01).",
    grain="one org per snapshot day",
    columns=columns(ORG_ID, *ORG_ATTRIBUTES, DQ_FLAGS, SNAPSHOT_DATE),
    key=("org_id",), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/customers_orgs"),), build=_conform(conform_orgs),
)
CUSTOMERS_ORGS_HISTORY = _history(
    "customers_orgs_history", "customers_orgs", "org_id",
    columns(ORG_ID, *ORG_ATTRIBUTES, DQ_FLAGS, *VERSION_COLUMNS), orgs_history,
    grain="one version of an org (a change of any tracked attribute starts a new one)",
    description="SCD type 2 history of orgs from the daily snapshots (valid_from/valid_to/is_current); the "
    "first version is valid from 1900-01-01 so older facts find their attributes.")
RESOURCES = TableSpec(
    layer="silver", name="resources",
    description="Resources per snapshot day: tags parsed into an array and a map, PII flag.",
    grain="one resource per snapshot day",
    columns=columns(RESOURCE_ID, ORG_ID, *RESOURCE_ATTRIBUTES, TAGS_JSON, *TAGS, DQ_FLAGS, SNAPSHOT_DATE),
    key=("resource_id",), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/resources"), ORGS_HISTORY_DEP), build=_conform(conform_resources),
)
RESOURCES_HISTORY = _history(
    "resources_history", "resources", "resource_id",
    columns(RESOURCE_ID, ORG_ID, *RESOURCE_ATTRIBUTES, *TAGS, DQ_FLAGS, TAGS_JSON, *VERSION_COLUMNS),
    resources_history,
    grain="one version of a resource (state, tags or PII changes start a new one)",
    description="SCD type 2 history of resources from the daily snapshots.")
USERS = TableSpec(
    layer="silver", name="users",
    description="Users per snapshot day: email pseudonymized (HMAC-SHA256 + domain), role canonical, "
    "has_logged_in. No plain email past bronze.",
    grain="one user per snapshot day",
    columns=columns(
        ("user_id", "string", "User id."), ORG_ID,
        ("email_hash", "string", "Hex HMAC-SHA256 of the trimmed lower-case email, keyed by "
         "CLOUD_ANALYTICS_PII_PEPPER; null without email."),
        ("email_domain", "string", "Domain part of the email (after '@'); null when there is none."),
        ("role", "string", "User role (admin, developer, devops, data_engineer, ml_engineer, analyst)."),
        ("active", "boolean", "True when the account is active."),
        ("created_at", "date", "Day the user account was created."),
        ("last_login", "date", "Day of the user's last login; null = never logged in."),
        ("has_logged_in", "boolean", "True when last_login is set."),
        DQ_FLAGS, SNAPSHOT_DATE),
    key=("user_id",), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/users"), ORGS_HISTORY_DEP), build=_users,
)
SUPPORT_TICKETS = TableSpec(
    layer="silver", name="support_tickets",
    description="Tickets per snapshot day: status, resolution hours, CSAT validity.",
    grain="one ticket per snapshot day",
    columns=columns(
        ("ticket_id", "string", "Support ticket id."), ORG_ID,
        ("category", "string", "Ticket category (performance, security, availability, usability, integration, "
         "billing)."),
        ("severity", "string", "Ticket severity: low, medium, high or critical."),
        ("created_at", "date", "Day the ticket was opened."),
        ("resolved_at", "date", "Day the ticket was resolved; null while open."),
        ("status", "string", "open or resolved (from resolved_at)."),
        ("resolution_hours", "double", "(resolved_at − created_at) in days × 24 (the source has dates only); "
         "null while open."),
        ("csat", "double", "Satisfaction score as recorded (1..5 expected)."),
        ("csat_valid", "boolean", "True when csat is on 1..5 and the ticket is resolved (TK-02, TK-03); only those "
         "enter averages."),
        ("sla_breached", "boolean", "True when the ticket breached its SLA (source flag)."),
        DQ_FLAGS, SNAPSHOT_DATE),
    key=("ticket_id",), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/support_tickets"), ORGS_HISTORY_DEP), build=_conform(conform_tickets),
)
MARKETING_TOUCHES = TableSpec(
    layer="silver", name="marketing_touches",
    description="Marketing touches per snapshot day, domains canonical.",
    grain="one marketing touch per snapshot day",
    columns=columns(
        ("touch_id", "string", "Marketing touch id."), ORG_ID,
        ("campaign", "string", "Campaign of the touch (canonical)."),
        ("channel", "string", "Channel of the touch: email, ads, event or in_app."),
        ("touch_date", "date", "Day of the touch (the source's `timestamp`)."),
        ("clicked", "boolean", "True when the org clicked."),
        ("converted", "boolean", "True when the touch is credited with a conversion."),
        ("converted_without_click", "boolean", "Converted without a click (attributed by another path)."),
        DQ_FLAGS, SNAPSHOT_DATE),
    key=("touch_id",), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/marketing_touches"), ORGS_HISTORY_DEP), build=_conform(conform_touches),
)
NPS_SURVEYS = TableSpec(
    layer="silver", name="nps_surveys",
    description="NPS survey answers per snapshot day, range flagged.",
    grain="one survey answer (org, survey day) per snapshot day",
    columns=columns(
        ORG_ID, ("survey_date", "date", "Day the survey was answered."),
        ("nps_score", "double", "The answer's NPS score; kept when off the −100..100 scale (see nps_in_range)."),
        NPS_IN_RANGE, ("comment", "string", "Free-text comment, trimmed; null when blank."),
        DQ_FLAGS, SNAPSHOT_DATE),
    key=("org_id", "survey_date"), partitions="snapshot_daily", partition_column="snapshot_date",
    deps=(Dep("bronze/nps_surveys"), ORGS_HISTORY_DEP), build=_conform(conform_surveys),
)
BILLING_MONTHLY = TableSpec(
    layer="silver", name="billing_monthly",
    description="Invoices per month: credits filled, USD rate fixed, totals in USD and original currency.",
    grain="one invoice",
    columns=columns(
        ("invoice_id", "string", "Invoice id."), ORG_ID,
        ("month", "date", "Invoice month (its first day); the partition."),
        ("currency", "string", "Invoice currency: USD, ARS or EUR."),
        ("exchange_rate_to_usd", "double", "USD per unit of currency; 1 for USD invoices (BI-03)."),
        ("subtotal", "double", "Subtotal in the invoice currency, rounded to cents; negative on a credit note."),
        ("credits", "double", "Credits granted, invoice currency, cents; a missing figure is 0 (BI-02)."),
        ("taxes", "double", "Taxes, invoice currency, cents."),
        ("total", "double", "subtotal − credits + taxes, invoice currency, cents."),
        ("subtotal_usd", "double", "subtotal × exchange_rate_to_usd, rounded to cents; null for a non-USD invoice "
         "without a rate."),
        ("credits_usd", "double", "credits in USD, cents (same conversion)."),
        ("taxes_usd", "double", "taxes in USD, cents (same conversion)."),
        ("total_usd", "double", "total in USD, cents (same conversion)."),
        DQ_FLAGS),
    key=("invoice_id",), partitions="billing_monthly", partition_column="month",
    # Invoices take the orgs' newest history, whatever snapshot day that is.
    deps=(Dep("bronze/billing_monthly"), Dep(ORGS_HISTORY_DEP.table, "last")), build=_conform(conform_billing),
)
USAGE_EVENTS = TableSpec(
    layer="silver", name="usage_events",
    description="Usage events per UTC day: one schema for v1 and v2, canonical names, unit imputed, metric spread "
    "into columns, enriched with org and resource attributes as of the event date, cost anomaly flags by three "
    "methods (statistics over every stored event).",
    grain="one usage event (deduplicated by event_id, not quarantined)",
    columns=columns(
        ("event_id", "string", "Event id; unique in the table."),
        ("event_ts", "timestamp", "Event time (UTC)."),
        ("event_date", "date", "UTC day of event_ts; the partition."),
        ("event_hour", "timestamp", "event_ts truncated to the hour (UTC)."),
        ORG_ID, RESOURCE_ID,
        ("service", "string", "Cloud service of the event (canonical)."),
        ("region", "string", "Region where the usage happened (canonical)."),
        ("metric", "string", "What value measures: requests, cpu_hours or storage_gb_hours."),
        ("value", "double", "Measured quantity (also parsed when the JSON held it as a string)."),
        ("unit", "string", "Unit of value: count, hours or gb_hours (imputed from the metric when missing, EV-03)."),
        ("requests", "double", "value when metric = requests, else null (not measured by this event)."),
        ("cpu_hours", "double", "value when metric = cpu_hours, else null."),
        ("storage_gb_hours", "double", "value when metric = storage_gb_hours, else null."),
        ("cost_usd_increment", "double", "Cost of the event in USD as recorded; at least the minimum increment "
         "(−0.01 by default): lower ones are quarantined by EV-05 (kept and flagged in flag-only mode)."),
        ("schema_version", "int", "Schema version of the event (1 or 2)."),
        ("carbon_kg", "double", "Carbon emitted, kg; null on versions that do not declare it (v1)."),
        ("genai_tokens", "bigint", "GenAI tokens; null on versions that do not declare them (v1)."),
        ("value_was_string", "boolean", "True when the JSON held value as a string."),
        ("is_late", "boolean", "True when, on ingest, the event was older than the newest stored event minus the "
         "allowed lateness (1 h); stored anyway."),
        DQ_FLAGS,
        ("source_file", "string", "Landing file the row came from, relative to the lake root."),
        ("ingest_ts", "timestamp", "When bronze ingested the row (UTC)."),
        ("plan_tier", "string", "Org's plan tier on the event date (SCD2 as-of join)."),
        ("industry", "string", "Org's industry on the event date (SCD2 as-of join)."),
        ("hq_region", "string", "Org's headquarters region on the event date (SCD2 as-of join)."),
        ("resource_created_at", "date", "created_at of the resource version valid on the event date."),
        ("resource_state", "string", "State of the resource version valid on the event date."),
        ("resource_has_pii", "boolean", "has_pii of the resource version valid on the event date."),
        ("anomaly_zscore", "boolean", "Cost |z| > 3 within its service + metric (mean and stddev over every "
         "stored event)."),
        ("anomaly_robust_z", "boolean", "|0.6745 (cost − median) / MAD| > 3.5 within its service + metric "
         "(mean-AD fallback when MAD = 0)."),
        ("anomaly_percentile", "boolean", "Cost > 1.5 × the p99 of its service + metric."),
        ("anomaly_votes", "int", "How many of the three methods fired (0..3)."),
        ("is_anomaly", "boolean", "anomaly_votes ≥ 2."),
    ),
    key=("event_id",), partitions="events_daily", partition_column="event_date",
    # Bronze events are partitioned by stream trigger, not by day: any trigger may hold any day.
    deps=(Dep("bronze/usage_events", "all"), Dep(ORGS_HISTORY_DEP.table, "last"),
          Dep("silver/resources_history", "last")),
    build=_events,
)

SILVER_SPECS: tuple[TableSpec, ...] = (
    CUSTOMERS_ORGS, CUSTOMERS_ORGS_HISTORY, RESOURCES, RESOURCES_HISTORY, USERS, SUPPORT_TICKETS,
    MARKETING_TOUCHES, NPS_SURVEYS, BILLING_MONTHLY, USAGE_EVENTS,
)
SILVER_BY_NAME = by_name(SILVER_SPECS)
HISTORIES: tuple[TableSpec, ...] = (CUSTOMERS_ORGS_HISTORY, RESOURCES_HISTORY)


def is_history(spec: TableSpec) -> bool:
    return any(spec is h for h in HISTORIES)


CONFORMED: tuple[TableSpec, ...] = tuple(s for s in SILVER_SPECS if not is_history(s))


# -- the data-quality outputs of the conformed tables ----------------------------------------------

QUARANTINE_COLUMNS = columns(
    ("table", "string", "The silver table whose rules rejected the row."),
    ("rule_id", "string", "The first quarantine rule that fired (rule order), naming the reason."),
    ("severity", "string", "That rule's severity."),
    ("reason", "string", "`<rule id>: <why>`, naming the offending values."),
    ("rule_ids", "array<string>", "Every rule that fired on the row (quarantine and flag rules)."),
    ("source_file", "string", "The landing file the bronze row came from."),
    ("raw_record", "string", "The bronze row as JSON, emails masked (`***@domain`)."),
    ("partition_date", "date", "The row's partition (event day, snapshot day or invoice month); the Delta "
                               "partition the window replaces."),
)


def _quarantine(spec: TableSpec) -> TableSpec:
    return TableSpec(
        layer="quarantine", name=spec.name,
        description=f"Rows of {spec.deps[0].table} that a quarantine rule of silver/{spec.name} rejected, with "
        "the rule, the reason and the raw record: nothing is dropped. Written with the silver table, the same "
        "partition window replaced.",
        grain="one quarantined bronze row",
        columns=QUARANTINE_COLUMNS, key=(), partitions=spec.partitions, partition_column="partition_date",
        deps=(spec.deps[0],),
    )


QUARANTINE_SPECS: tuple[TableSpec, ...] = tuple(_quarantine(spec) for spec in CONFORMED)
QUARANTINE_BY_TABLE: dict[str, TableSpec] = by_name(QUARANTINE_SPECS)

def _counts_consistent(given: CheckInput) -> Outcome:
    """0 ≤ quarantined ≤ failed ≤ evaluated on every row: a rule quarantines only rows it fired on."""
    q, f, e = (F.col(c) for c in ("quarantined_count", "failed_count", "evaluated_count"))
    bad = int(given.written.agg(F.count_if(~((q >= 0) & (q <= f) & (f <= e)))).first()[0] or 0)
    return Outcome(bad == 0, {"inconsistent_rows": bad})


DQ_METRICS = TableSpec(
    layer="quarantine", name="dq_metrics",
    description="Per silver table, partition and rule: rows the rule fired on, rows it quarantined and rows "
    "evaluated; every rule has a row in every evaluated partition (zero counts included). Written by the "
    "silver assets, which replace their own table's window; this asset publishes and checks it after them.",
    grain="one row per table, partition and rule",
    columns=columns(
        ("table", "string", "The silver table; the Delta partition."),
        ("partition_date", "date", "The evaluated partition (event day, snapshot day or invoice month)."),
        ("rule_id", "string", "The rule (see docs/data-quality.md)."),
        ("action", "string", "quarantine, flag or fix_and_flag."),
        ("severity", "string", "error, warning or info."),
        ("failed_count", "bigint", "Rows of the partition the rule fired on."),
        ("quarantined_count", "bigint", "Rows it quarantined as their first quarantine rule."),
        ("evaluated_count", "bigint", "Rows of the partition evaluated."),
    ),
    key=("table", "partition_date", "rule_id"), partition_column="table",
    deps=tuple(Dep(spec.path, "all") for spec in CONFORMED),
    checks=(key_unique("table", "partition_date", "rule_id"),
            Check("counts_consistent", "0 ≤ quarantined_count ≤ failed_count ≤ evaluated_count on every row",
                  _counts_consistent)),
)
DQ_SPECS: tuple[TableSpec, ...] = (*QUARANTINE_SPECS, DQ_METRICS)
