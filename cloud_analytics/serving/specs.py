"""The serving tables' contracts: one ``ServingSpec`` per Cassandra table (Dagster-free).

A serving spec is a ``TableSpec`` of layer ``"serving"`` whose column types are CQL types and
whose ``key`` is the full CQL primary key (partition key first), plus how the table is loaded
from its gold mart: which CQL partitions and clustering range a partition window covers
(``partition_key``, ``range_column``, ``by_month``), what the sample check compares, and the
money (or count) total the audit reconciles with gold. ``build`` turns gold mart rows into
the table's rows (``serving/rows.py``). A spec whose ``partitions`` is None is loaded whole: each
run replaces every CQL partition of the table (``serving/assets.py``).

The DDL stays in ``cql/schema.cql`` (applied by ``schema.create_schema``; its comments say why
each table is shaped as it is); ``cloud_analytics_tests/serving/test_specs.py`` proves the
columns, types and primary keys declared here are the ones that file creates.

Two tables are fed by the speed layer's stream (``speed/assets.py`` materializes them):
``usage_alerts_by_org``, and ``speed_view``, the provisional rows the speed layer writes into
``org_daily_usage`` and ``genai_by_org_day`` (it has no table of its own: ``view_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_analytics.lib.spec import Dep, TableSpec, by_name, columns
from cloud_analytics.serving import rows


@dataclass(frozen=True)
class ServingTotal:
    """What the audit sums over a serving table's batch rows and the gold figure it must equal.

    ``label`` names the gold mart's figure (an aggregate the audit gathers over the mart);
    ``extras`` are further summed columns as (Cassandra column, gold figure); ``rows`` is the
    gold figure giving the number of rows Cassandra must hold. ``snapshot``: the gold figures
    are gathered per value of this column (one assessment per day), and the table reads it
    back too. ``counts_source``: the landing source whose "cassandra" stage of the audit's
    count table this table reports, as the sum of ``counts_column`` (None: the rows of the
    newest ``snapshot``).
    """

    column: str
    label: str
    extras: tuple[tuple[str, str], ...] = ()
    rows: str = "rows"
    snapshot: str | None = None
    counts_source: str | None = None
    counts_column: str | None = None


@dataclass(frozen=True)
class ServingSpec(TableSpec):
    mart: str | None = None  # the gold mart it is loaded from (None: fed by the speed layer)
    partition_key: str | None = None  # the CQL partition key
    range_column: str | None = None  # CQL clustering date bounding a window (None: whole partitions)
    compare: tuple[str, ...] = ()  # columns the sample check compares with gold
    by_month: bool = False  # the partition key is the month ("yyyy-MM") of the window's days
    total: ServingTotal | None = None  # the audit's reconciliation with gold (None: rows only)
    view_of: tuple[str, ...] = ()  # a view without a table of its own: the tables holding its rows

    def __post_init__(self) -> None:
        super().__post_init__()
        names = set(self.column_names)
        used = {self.partition_key, self.range_column, *self.compare} - {None}
        if self.total is not None:
            used |= {self.total.column, *(c for c, _ in self.total.extras), self.total.snapshot,
                     self.total.counts_column} - {None}
        if used - names:
            raise ValueError(f"{self.path}: columns {sorted(used - names)} not declared")
        if self.key and self.partition_key is not None and self.key[0] != self.partition_key:
            raise ValueError(f"{self.path}: the primary key must start with the partition key")

    @property
    def cql_tables(self) -> tuple[str, ...]:
        """The Cassandra tables this spec's rows live in."""
        return self.view_of or (self.name,)

    @property
    def asset_description(self) -> str:
        if self.view_of:
            return self.description
        loaded = f", loaded from gold/{self.mart}" if self.mart else ""
        return f"Cassandra table `{self.name}` (primary key {', '.join(self.key)}){loaded}. {self.description}"


LOADED = "loaded_at"
_LOADED = (LOADED, "timestamp", "when the load wrote the row (not compared between runs)")
_SOURCE = ("source", "text", "'batch' (loaded from gold) or 'speed' (provisional, after the batch watermark)")
_ORG = ("org_id", "text", "the customer organization")


def _gold(mart: str) -> tuple[Dep, ...]:
    return (Dep(f"gold/{mart}"),)


ORG_DAILY_USAGE = ServingSpec(
    layer="serving", name="org_daily_usage", mart="org_daily_usage_by_service", partitions="events_daily",
    description="Daily cost and requests of an org by service (q1) and its top services over the last days "
                "(q2): one partition per org, newest day first.",
    grain="one row per org, usage day and service",
    columns=columns(
        _ORG, ("usage_date", "date", "UTC day of the usage"), ("service", "text", "canonical service name"),
        ("daily_cost_usd", "decimal", "cost of the day in USD"), ("requests", "bigint", "requests of the day"),
        ("event_count", "bigint", "usage events of the day"),
        ("cost_per_request", "double", "daily cost / requests (null without requests)"),
        ("metrics", "map<text, double>", "cpu_hours, storage_gb_hours, genai_tokens, carbon_kg (when measured)"),
        ("anomaly_count", "int", "events flagged anomalous by silver"),
        ("negative_cost_count", "int", "events below the minimum cost increment, kept as credits (EV-05 flag-only mode; else 0)"), _SOURCE, _LOADED),
    key=("org_id", "usage_date", "service"), partition_key="org_id", range_column="usage_date",
    deps=_gold("org_daily_usage_by_service"), build=rows.org_daily_usage,
    compare=("daily_cost_usd", "requests", "event_count"),
    total=ServingTotal("daily_cost_usd", "daily_cost_usd", extras=(("event_count", "events"),),
                       counts_source="usage_events", counts_column="event_count"),
)

GENAI_BY_ORG_DAY = ServingSpec(
    layer="serving", name="genai_by_org_day", mart="genai_tokens_by_org_date", partitions="events_daily",
    description="GenAI tokens and estimated cost per day for an org (q5), newest day first.",
    grain="one row per org and usage day",
    columns=columns(
        _ORG, ("usage_date", "date", "UTC day of the usage"), ("tokens", "bigint", "GenAI tokens of the day"),
        ("events", "bigint", "GenAI usage events of the day"),
        ("estimated_cost_usd", "decimal", "tokens / 1000 x USD 0.002 (list-price assumption)"),
        ("recorded_cost_usd", "decimal", "cost recorded on the GenAI events, rounded to cents"), _SOURCE, _LOADED),
    key=("org_id", "usage_date"), partition_key="org_id", range_column="usage_date",
    deps=_gold("genai_tokens_by_org_date"), build=rows.genai_by_org_day, compare=("tokens", "estimated_cost_usd"),
    total=ServingTotal("recorded_cost_usd", "recorded_cost_usd"),
)

COST_ANOMALIES_BY_ORG = ServingSpec(
    layer="serving", name="cost_anomalies_by_org", mart="cost_anomaly_mart", partitions="events_daily",
    description="Daily cost of an org per service against its baseline, with the anomaly methods that fired; "
                "newest first.",
    grain="one row per org, day and service",
    columns=columns(
        _ORG, ("anomaly_date", "date", "UTC day scored"), ("service", "text", "canonical service name"),
        ("daily_cost_usd", "decimal", "cost of the day in USD"),
        ("baseline_usd", "double", "median daily cost of the org and service over its history"),
        ("scores", "map<text, double>", "zscore, robust_z and percentile_ratio of the day"),
        ("methods_fired", "set<text>", "the methods that flagged the day"),
        ("is_anomaly", "boolean", "at least 2 of the 3 methods fired"), _LOADED),
    key=("org_id", "anomaly_date", "service"), partition_key="org_id", range_column="anomaly_date",
    deps=_gold("cost_anomaly_mart"), build=rows.cost_anomalies_by_org, compare=("daily_cost_usd", "is_anomaly"),
    total=ServingTotal("daily_cost_usd", "daily_cost_usd"),
)

CUSTOMER_HEALTH_BY_ORG = ServingSpec(
    layer="serving", name="customer_health_by_org", mart="customer_360", partitions="events_daily",
    description="Customer health of an org as of each day (customer_360), newest assessment first, with its "
                "components and the facts behind them.",
    grain="one row per org and assessment day",
    columns=columns(
        _ORG, ("as_of_date", "date", "the day the org was assessed"),
        ("health_score", "double", "0-100 weighted health score"),
        ("risk_band", "text", "healthy (score >= 70), watch (>= 50) or at_risk"),
        ("active_resources", "int", "resources running or stopped (not terminated) and created by as_of_date"),
        ("components", "map<text, double>",
         "usage, support, csat, nps, billing and engagement components of the score"),
        ("facts", "map<text, double>", "cost over 30 days, revenue, open (critical) tickets, latest NPS, mean CSAT"),
        _LOADED),
    key=("org_id", "as_of_date"), partition_key="org_id", range_column="as_of_date",
    deps=_gold("customer_360"), build=rows.customer_health_by_org, compare=("health_score", "risk_band"),
    total=ServingTotal("health_score", "health_score", snapshot="as_of_date", counts_source="customers_orgs"),
)

TICKETS_BY_ORG_DAY = ServingSpec(
    # Unpartitioned like its mart (rebuilt whole from the newest tickets snapshot): each run
    # replaces the whole table (serving/assets.py), one materialization instead of one per day.
    layer="serving", name="tickets_by_org_day", mart="tickets_by_org_date", partitions=None,
    description="Tickets of one org per day and severity (q3 for an org), newest day first.",
    grain="one row per org, ticket day and severity",
    columns=columns(
        _ORG, ("ticket_date", "date", "the day (created date; resolved date for resolved)"),
        ("severity", "text", "ticket severity"),
        ("opened", "int", "tickets opened"), ("resolved", "int", "tickets resolved on the day"),
        ("open_backlog", "int", "tickets created up to the day minus tickets resolved up to it"),
        ("critical", "int", "critical tickets opened"),
        ("sla_breached", "int", "tickets that breached their SLA"),
        ("sla_breach_rate", "double", "sla_breached / opened"), ("mean_csat", "double", "mean valid CSAT score"),
        _LOADED),
    key=("org_id", "ticket_date", "severity"), partition_key="org_id", range_column="ticket_date",
    deps=_gold("tickets_by_org_date"), build=rows.tickets_by_org_day, compare=("opened", "critical", "sla_breached"),
    total=ServingTotal("opened", "opened", counts_source="support_tickets", counts_column="opened"),
)

TICKETS_BY_DAY = ServingSpec(
    layer="serving", name="tickets_by_day", mart="tickets_by_org_date", partitions=None,  # like tickets_by_org_day
    description="Critical tickets and SLA breaches of every org per day, one partition per month. q3 across "
                "orgs reads platform_tickets_by_day instead (one partition); no query reads this table.",
    grain="one row per ticket day and org",
    columns=columns(
        ("month", "text", "yyyy-MM of the ticket day (the partition)"),
        ("ticket_date", "date", "the day the tickets were opened"), _ORG,
        ("opened", "int", "tickets opened over all severities"), ("critical", "int", "critical tickets opened"),
        ("sla_breached", "int", "tickets that breached their SLA"), _LOADED),
    key=("month", "ticket_date", "org_id"), partition_key="month", range_column="ticket_date", by_month=True,
    deps=_gold("tickets_by_org_date"), build=rows.tickets_by_day, compare=("opened", "critical"),
    total=ServingTotal("opened", "opened", rows="org_days"),
)

REVENUE_BY_ORG = ServingSpec(
    layer="serving", name="revenue_by_org", mart="revenue_by_org_month", partitions="billing_monthly",
    description="Monthly revenue of an org in USD, credits and taxes applied (q4 for an org), newest first.",
    grain="one row per org and invoice month",
    columns=columns(
        _ORG, ("month", "date", "first day of the invoice month"), ("currency", "text", "invoice currency"),
        ("fx_rate", "double", "USD per unit of the currency; null when the invoices' rates differ"),
        ("subtotal_usd", "decimal", "subtotal in USD"),
        ("credits_usd", "decimal", "credits in USD"), ("taxes_usd", "decimal", "taxes in USD"),
        ("total_usd", "decimal", "invoiced total in USD"),
        ("total_original", "decimal", "invoiced total in the invoice currency"),
        ("flags", "set<text>", "distinct data-quality flags of the month's invoices"), _LOADED),
    key=("org_id", "month"), partition_key="org_id", range_column="month",
    deps=_gold("revenue_by_org_month"), build=rows.revenue_by_org, compare=("total_usd", "credits_usd"),
    total=ServingTotal("total_usd", "total_usd"),
)

REVENUE_BY_MONTH = ServingSpec(
    layer="serving", name="revenue_by_month", mart="revenue_by_org_month", partitions="billing_monthly",
    description="Revenue of every org for a month, one partition per month. q4 across orgs reads "
                "platform_revenue_by_month instead (one partition); no query reads this table.",
    grain="one row per invoice month and org",
    columns=columns(
        ("month", "date", "first day of the invoice month (the partition)"), _ORG,
        ("currency", "text", "invoice currency"), ("subtotal_usd", "decimal", "subtotal in USD"),
        ("credits_usd", "decimal", "credits in USD"), ("taxes_usd", "decimal", "taxes in USD"),
        ("total_usd", "decimal", "invoiced total in USD"), _LOADED),
    key=("month", "org_id"), partition_key="month", range_column=None,
    deps=_gold("revenue_by_org_month"), build=rows.revenue_by_month, compare=("total_usd",),
    total=ServingTotal("total_usd", "total_usd"),
)

# The all-org forms of q3 and q4: every org summed at load time under one partition key (the
# constant queries.PLATFORM), so an all-org query is one partition slice (cql/schema.cql says
# why one partition is bounded enough).
_SCOPE = ("scope", "text", "'all': the one partition, every org summed")

PLATFORM_TICKETS_BY_DAY = ServingSpec(
    # Unpartitioned like tickets_by_org_day: replaced whole from the newest tickets snapshot.
    layer="serving", name="platform_tickets_by_day", mart="tickets_by_org_date", partitions=None,
    description="Tickets of every org summed per day (q3 across orgs) in one partition, newest day first, so a "
                "30-day window is one partition slice. Only days on which a ticket was opened: its newest date, "
                "q3's default as-of, is the newest opened day (not a resolution date).",
    grain="one row per day on which a ticket was opened",
    columns=columns(
        _SCOPE, ("ticket_date", "date", "the day the tickets were opened"),
        ("opened", "int", "tickets opened over all orgs and severities"),
        ("critical", "int", "critical tickets opened"),
        ("sla_breached", "int", "tickets opened on the day that breached their SLA"), _LOADED),
    key=("scope", "ticket_date"), partition_key="scope", range_column="ticket_date",
    deps=_gold("tickets_by_org_date"), build=rows.platform_tickets_by_day,
    compare=("opened", "critical", "sla_breached"),
    total=ServingTotal("opened", "opened", extras=(("critical", "critical_count"),), rows="days_opened"),
)

PLATFORM_REVENUE_BY_MONTH = ServingSpec(
    layer="serving", name="platform_revenue_by_month", mart="revenue_by_org_month", partitions="billing_monthly",
    description="Revenue of every org summed per month in USD, credits and taxes applied (q4 across orgs), in one "
                "partition, newest month first, so 12 months are one partition slice.",
    grain="one row per invoice month",
    columns=columns(
        _SCOPE, ("month", "date", "first day of the invoice month"), ("orgs", "int", "orgs invoiced in the month"),
        ("orgs_without_usd", "int", "orgs whose invoice has no USD amount (no exchange rate): not in the sums"),
        ("subtotal_usd", "decimal", "subtotal in USD, summed over the orgs"),
        ("credits_usd", "decimal", "credits in USD, summed over the orgs"),
        ("taxes_usd", "decimal", "taxes in USD, summed over the orgs"),
        ("total_usd", "decimal", "invoiced total in USD, summed over the orgs"), _LOADED),
    key=("scope", "month"), partition_key="scope", range_column="month",
    deps=_gold("revenue_by_org_month"), build=rows.platform_revenue_by_month, compare=("total_usd", "orgs"),
    total=ServingTotal("total_usd", "total_usd", rows="months"),
)

PLATFORM_COST_BY_DAY = ServingSpec(
    layer="serving", name="platform_cost_by_day", mart="cost_anomaly_mart", partitions="events_daily",
    description="Cost of every org summed per day, with the org/service days flagged anomalous, in one partition "
                "(the dashboard's platform overview: total cost trend and anomaly counts), newest day first.",
    grain="one row per usage day",
    columns=columns(
        _SCOPE, ("usage_date", "date", "UTC day of the usage"),
        ("cost_usd", "decimal", "cost of the day over every org and service, in USD"),
        ("orgs", "int", "orgs with a cost on the day"),
        ("anomalies", "int", "org/service days flagged anomalous (cost_anomalies_by_org)"),
        ("anomalous_orgs", "int", "orgs with at least one anomalous service on the day"), _LOADED),
    key=("scope", "usage_date"), partition_key="scope", range_column="usage_date",
    deps=_gold("cost_anomaly_mart"), build=rows.platform_cost_by_day, compare=("cost_usd", "anomalies"),
    total=ServingTotal("cost_usd", "cost_usd", extras=(("anomalies", "anomalies"),), rows="days"),
)

USAGE_ALERTS_BY_ORG = ServingSpec(
    layer="serving", name="usage_alerts_by_org", partitions="stream_runs",
    description="The speed layer's cost alerts of an org, newest first, kept 90 days (the full history stays "
                "in the lake: speed/usage_alerts).",
    grain="one row per alert",
    columns=columns(
        _ORG, ("alert_date", "date", "UTC day of the event"), ("event_ts", "timestamp", "event time"),
        ("alert_id", "text", "cost:<event_id>"), ("service", "text", "canonical service name"),
        ("resource_id", "text", "the resource that incurred the cost"), ("cost_usd", "double", "the event's cost"),
        ("baseline_median_usd", "double", "median event cost of the baseline it broke"),
        ("robust_z", "double", "robust z-score of the cost against that baseline"),
        ("reason", "text", "why the event is an alert, in words"),
        ("context", "map<text, text>", "plan tier, industry, region and resource state at alert time"),
        ("stream_run", "text", "the stream run that raised it"), _LOADED),
    key=("org_id", "alert_date", "event_ts", "alert_id"), partition_key="org_id",
    deps=(Dep("speed/usage_alerts"),),
)

LIVE_USAGE_BY_ORG = ServingSpec(
    layer="serving", name="live_usage_by_org", partitions="stream_runs",
    description="The live view: per org, the one-hour sliding windows of cost, requests and events per service, "
                "every 5 minutes, newest first; open windows are provisional and updated by every micro-batch, "
                "closed ones final. Kept two days (the lake keeps speed/closed_windows).",
    grain="one row per org, window end and service",
    columns=columns(
        _ORG, ("window_end", "timestamp", "end of the one-hour window (exclusive)"),
        ("service", "text", "canonical service name"),
        ("window_start", "timestamp", "start of the window"), ("cost_usd", "decimal", "cost in the window"),
        ("requests", "double", "requests in the window"), ("event_count", "bigint", "events in the window"),
        ("is_closed", "boolean", "final: no on-time event can still fall in it"), _LOADED),
    key=("org_id", "window_end", "service"), partition_key="org_id",
    deps=(Dep("speed/usage_windows"),),
)

SPEED_VIEW = ServingSpec(
    layer="serving", name="speed_view", partitions="stream_runs",
    description="Provisional rows (source = 'speed') in Cassandra `org_daily_usage` and `genai_by_org_day` for "
                "dates after the batch watermark; batch loads replace them (see speed/serving.py).",
    grain="rows of org_daily_usage and genai_by_org_day, source = 'speed'",
    columns=(), key=(), deps=(Dep("bronze/usage_events"),),
    view_of=(ORG_DAILY_USAGE.name, GENAI_BY_ORG_DAY.name),
)

# Loaded from gold by ``serving/assets.py``, in the order the assets are declared.
GOLD_FED: tuple[ServingSpec, ...] = (
    ORG_DAILY_USAGE, GENAI_BY_ORG_DAY, COST_ANOMALIES_BY_ORG, CUSTOMER_HEALTH_BY_ORG, TICKETS_BY_ORG_DAY,
    TICKETS_BY_DAY, REVENUE_BY_ORG, REVENUE_BY_MONTH, PLATFORM_TICKETS_BY_DAY, PLATFORM_REVENUE_BY_MONTH,
    PLATFORM_COST_BY_DAY,
)
# Written by the speed layer's stream run (``speed/assets.py``).
SPEED_FED: tuple[ServingSpec, ...] = (USAGE_ALERTS_BY_ORG, LIVE_USAGE_BY_ORG, SPEED_VIEW)
SERVING_SPECS: tuple[ServingSpec, ...] = (*GOLD_FED, *SPEED_FED)
SERVING_BY_NAME: dict[str, ServingSpec] = by_name(SERVING_SPECS)
