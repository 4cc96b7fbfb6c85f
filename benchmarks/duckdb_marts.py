"""Independent baseline: four challenge marts computed with DuckDB straight from the landing folder.

    .venv/bin/python benchmarks/duckdb_marts.py --landing PATH [--lake PATH]

``compute`` reads ``<landing>/*.csv`` and ``<landing>/usage_events_stream/*.jsonl`` with DuckDB's
built-in ``read_csv`` / ``read_json`` (no extension is installed or loaded, threads=2) and builds

- ``org_daily_usage_by_service``  (org x UTC day x service: events, cost, metric sums, tokens)
- ``revenue_by_org_month``        (org x invoice month: amounts in invoice currency and in USD)
- ``tickets_by_org_date``         (org x day x severity: opened, resolved, backlog, SLA, CSAT)
- ``genai_tokens_by_org_date``    (org x UTC day: genai events, tokens, recorded cost)

in plain SQL that re-implements the pipeline's semantics (read from its code and docs) instead of
calling its transforms: nothing of ``cloud_analytics`` is imported for the computation.
``compare`` checks them against the gold Delta tables the Spark pipeline wrote (key columns and
main measures, ``COMPARED_COLUMNS``); the CLI prints the DuckDB wall time, rows per mart and, with
``--lake``, the comparison.

How the semantics were matched (bronze -> data-quality rules -> silver -> gold), rule ids as in
``cloud_analytics/quality``:

- Event lines (bronze): a line that is not JSON, lacks event_id or has no usable timestamp is a
  reject; any other line is a row, each field read as text, trimmed and cast as Spark casts it (a
  number sent as a string is parsed; integers take digits only, so "2.0" is not schema version 2).
  One row per event_id: the first copy by file name, event time, raw value (bronze's batch dedupe;
  silver's EV-01 keeps the first ingested copy, the same row when files arrive in name order).
  Dedupe comes before the rules, so a bad first copy is quarantined and hides a good later one.
- Events quarantined (silver): EV-07 schema_version not 1 or 2 (or missing); EV-02 value present but
  not a number; EV-04 neither value nor unit; CAST-01 a typed field (value, cost, schema_version,
  carbon_kg, genai_tokens) present but not castable, whatever the version; RI-01 org not a kept
  org; RI-02 resource not a kept resource of the event's org; DOM-02 service / region / metric /
  unit present but outside its domain after trim + lower-case + aliases ("Gen_AI" is genai,
  "us_east" us-east); EV-08 service, region or metric blank; EV-05 cost below -0.01 (the default
  policy; flag-only mode is not mirrored here). EV-03/06/09 and TI-01 only fix or flag: those rows
  count, so negative_cost_count (EV-05 flags) is 0.
- Schema versions: carbon_kg and genai_tokens exist only from v2; what a v1 event sends there is
  ignored. Tokens on a non-genai v2 event are kept (EV-06 flags them), so they add to
  org_daily_usage_by_service but not to genai_tokens_by_org_date (genai-service events only).
- Days are UTC (the connection's TimeZone is set to UTC; offsets in timestamps are honoured).
  Metric sums are 0 when no event measured them; genai_tokens is null when no event carried any.
- Money: each event cost becomes decimal(18,6) as Spark converts a double (``to_exact``), sums are
  exact, cents (half-up) once at the end.
- Master data (the references): a CSV line of the wrong width or without its key is a reject,
  exact duplicates are dropped. Orgs are kept unless CAST-01 (is_enterprise, signup_date,
  nps_score) or DOM-02; resources unless CAST-01 (created_at), RI-01 or DOM-02 (service, region,
  state). Events, invoices and tickets of a quarantined org or resource are quarantined in turn.
- Billing: invoice months before 2025-06-01 (the first billing partition) are bronze rejects;
  quarantine CAST-01, RI-01, DOM-02 (currency). Fixes: missing credits -> 0 (BI-02); USD invoices
  at rate 1 whatever the file says (BI-03; the files carry 0.85-1.12). total = subtotal - credits +
  taxes; each amount and its USD value (amount x rate, in floating point) is rounded to cents per
  invoice as Spark's round does: half-up on the double's shortest decimal text (``to_cents``;
  DuckDB's round of the double 1.005 gives 1.00, Spark's 1.01). Per org and month: sums; local
  amounts and currency only when the invoices share one currency; a USD sum only when every
  invoice has one (a non-USD invoice without a rate has none); is_credit_note = subtotal < 0 in
  USD, else in local currency, null when neither is known.
- Tickets: quarantine CAST-01 (created_at, resolved_at, csat, sla_breached), RI-01, TK-01 (resolved
  before created), DOM-02 (category, severity). opened, critical, SLA and CSAT fall on the created
  date, resolved on the resolved date; CSAT counts only 1..5 on a resolved ticket; open_backlog =
  running opened - running resolved per org and severity, ordered nulls first as Spark orders, so
  a ticket without created_at (its row has no date and is not in the date-partitioned mart) still
  counts as open from the org's first day on, as in gold.
- Not reproduced: the partition windows of a particular run (these marts cover every date in the
  data), and Spark's most lenient casts: "1.5d" as a double, "2025-07" as a date.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import pandas  # imported up front: compute's timing must not include pandas' first import

MARTS: tuple[str, ...] = (
    "org_daily_usage_by_service",
    "revenue_by_org_month",
    "tickets_by_org_date",
    "genai_tokens_by_org_date",
)

# Key columns first; then the measures compared. Kinds (how a column is compared) by name below.
KEYS: dict[str, tuple[str, ...]] = {
    "org_daily_usage_by_service": ("org_id", "usage_date", "service"),
    "revenue_by_org_month": ("org_id", "month"),
    "tickets_by_org_date": ("org_id", "date", "severity"),
    "genai_tokens_by_org_date": ("org_id", "date"),
}
COMPARED_COLUMNS: dict[str, tuple[str, ...]] = {
    "org_daily_usage_by_service": (
        *KEYS["org_daily_usage_by_service"], "event_count", "daily_cost_usd", "daily_cost_usd_exact",
        "requests", "cpu_hours", "storage_gb_hours", "genai_tokens", "negative_cost_count"),
    "revenue_by_org_month": (
        *KEYS["revenue_by_org_month"], "invoice_count", "currency", "subtotal", "credits", "taxes", "total",
        "subtotal_usd", "credits_usd", "taxes_usd", "total_usd", "is_credit_note"),
    "tickets_by_org_date": (
        *KEYS["tickets_by_org_date"], "opened", "resolved", "open_backlog", "critical_count", "sla_breached",
        "sla_breach_rate", "csat_count", "mean_csat"),
    "genai_tokens_by_org_date": (
        *KEYS["genai_tokens_by_org_date"], "genai_event_count", "token_event_count", "genai_tokens",
        "recorded_cost_usd", "recorded_cost_usd_exact"),
}
MONEY = {"daily_cost_usd", "daily_cost_usd_exact", "subtotal", "credits", "taxes", "total", "subtotal_usd",
         "credits_usd", "taxes_usd", "total_usd", "recorded_cost_usd", "recorded_cost_usd_exact"}
DOUBLES = {"requests", "cpu_hours", "storage_gb_hours", "sla_breach_rate", "mean_csat"}
DATES = {"usage_date", "month", "date"}
BOOLS = {"is_credit_note"}
COUNTS = {"event_count", "genai_tokens", "negative_cost_count", "invoice_count", "opened", "resolved",
          "open_backlog", "critical_count", "sla_breached", "csat_count", "genai_event_count", "token_event_count"}
MONEY_TOLERANCE = 0.01  # money may differ by at most a cent
RELATIVE_TOLERANCE = 1e-9  # floating-point sums (metric quantities, means) may add up in another order

BILLING_FLOOR = "2025-06-01"  # first billing partition: earlier invoice months are bronze rejects
EVENTS_DIR = "usage_events_stream"

# Documented value domains (canonical spelling) and the aliases feeds use, for DOM-02 and silver's
# canonical names: a value is trimmed and lower-cased, then looked up.
REGIONS = ("sa-east", "us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast")
DOMAINS: dict[str, tuple[str, ...]] = {
    "industry": ("Education", "Media", "Manufacturing", "E-commerce", "Retail", "Healthcare", "Energy",
                 "Fintech", "Gaming", "Government"),
    "region": REGIONS,
    "plan_tier": ("free", "standard", "pro", "enterprise"),
    "sales_rep": ("rep_a", "rep_b", "rep_c", "rep_d", "rep_e"),
    "lifecycle_stage": ("lead", "prospect", "active", "at_risk", "churned"),
    "marketing_source": ("partner", "event", "organic", "ads", "referral"),
    "service": ("compute", "storage", "database", "networking", "analytics", "genai"),
    "state": ("running", "stopped", "terminated"),
    "currency": ("USD", "ARS", "EUR"),
    "category": ("performance", "security", "availability", "usability", "integration", "billing"),
    "severity": ("low", "medium", "high", "critical"),
    "metric": ("requests", "cpu_hours", "storage_gb_hours"),
    "unit": ("count", "hours", "gb_hours"),
}
ALIASES: dict[str, dict[str, str]] = {
    "region": {**{r.replace("-", "_"): r for r in REGIONS}, **{r.replace("-", ""): r for r in REGIONS}},
    "service": {"network": "networking", "db": "database", "gen_ai": "genai", "gen-ai": "genai"},
    "industry": {"ecommerce": "E-commerce", "e_commerce": "E-commerce"},
}

# Landing CSV columns, in file order (all read as text, cast in SQL like bronze does).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers_orgs": ("org_id", "org_name", "industry", "hq_region", "plan_tier", "is_enterprise", "signup_date",
                       "sales_rep", "lifecycle_stage", "marketing_source", "nps_score"),
    "resources": ("resource_id", "org_id", "service", "region", "created_at", "state", "tags_json"),
    "billing_monthly": ("invoice_id", "org_id", "month", "subtotal", "credits", "taxes", "currency",
                        "exchange_rate_to_usd"),
    "support_tickets": ("ticket_id", "org_id", "category", "severity", "created_at", "resolved_at", "csat",
                        "sla_breached"),
}
EVENT_FIELDS = ("event_id", "timestamp", "org_id", "resource_id", "service", "region", "metric", "value", "unit",
                "cost_usd_increment", "schema_version", "carbon_kg", "genai_tokens")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _macros() -> str:
    """Helpers, and canon_<domain>(x): the canonical spelling of x, null outside the domain."""
    out = [
        # blank = null or whitespace only (an empty CSV/JSON field).
        "CREATE OR REPLACE TEMP MACRO blank(x) AS coalesce(trim(CAST(x AS VARCHAR)), '') = ''",
        # A value is present but its cast (CAST-01) or its canonical lookup (DOM-02) gave null.
        "CREATE OR REPLACE TEMP MACRO invalid(raw, parsed) AS (NOT blank(raw) AND parsed IS NULL)",
        # Spark's string -> integer cast takes digits only ("2.0" and "1e3" fail; DuckDB would round).
        "CREATE OR REPLACE TEMP MACRO to_int(x) AS "
        "CASE WHEN regexp_full_match(trim(x), '[+-]?[0-9]+') THEN TRY_CAST(trim(x) AS BIGINT) END",
        # Spark's string -> boolean cast vocabulary.
        "CREATE OR REPLACE TEMP MACRO to_bool(x) AS CASE WHEN lower(trim(x)) IN ('t', 'true', 'y', 'yes', '1') "
        "THEN true WHEN lower(trim(x)) IN ('f', 'false', 'n', 'no', '0') THEN false END",
        # A double to decimal as Spark rounds it (its cast to decimal, and round(x, 2) in silver
        # billing): half-up on the double's shortest decimal text, so 1.005 gives 1.01 where
        # DuckDB's own cast and round work on the binary value (1.00499...) and give 1.00.
        "CREATE OR REPLACE TEMP MACRO to_exact(x) AS TRY_CAST(CAST(x AS VARCHAR) AS DECIMAL(18, 6))",
        "CREATE OR REPLACE TEMP MACRO to_cents(x) AS TRY_CAST(CAST(x AS VARCHAR) AS DECIMAL(18, 2))",
    ]
    for domain, values in DOMAINS.items():
        lookup = {v.lower(): v for v in values} | ALIASES.get(domain, {})
        entries = ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in sorted(lookup.items()))
        out.append(f"CREATE OR REPLACE TEMP MACRO canon_{domain}(x) AS MAP {{{entries}}}[lower(trim(x))]")
    return ";\n".join(out) + ";"


def _csv(landing: Path, name: str) -> str:
    """read_csv of one landing file, every column as text. Lines of the wrong width are skipped
    (bronze rejects them)."""
    columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in CSV_COLUMNS[name])
    path = _lit(str(landing / f"{name}.csv"))
    return (f"read_csv({path}, header = true, delim = ',', quote = '\"', escape = '\"', "
            f"columns = {{{columns}}}, auto_detect = false, ignore_errors = true)")


def _sql(landing: Path) -> str:
    events = _lit(str(landing / EVENTS_DIR / "*.jsonl"))
    event_columns = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in EVENT_FIELDS)
    return f"""
-- Kept orgs: the RI-01 reference of every fact table. A line without its key is a bronze reject.
CREATE OR REPLACE TEMP TABLE dm_orgs AS
SELECT DISTINCT org_id FROM {_csv(landing, "customers_orgs")}
WHERE NOT blank(org_id)
  AND NOT (invalid(is_enterprise, to_bool(is_enterprise))
           OR invalid(signup_date, TRY_CAST(trim(signup_date) AS DATE))
           OR invalid(nps_score, TRY_CAST(trim(nps_score) AS DOUBLE)))                         -- CAST-01
  AND NOT (invalid(industry, canon_industry(industry)) OR invalid(hq_region, canon_region(hq_region))
           OR invalid(plan_tier, canon_plan_tier(plan_tier)) OR invalid(sales_rep, canon_sales_rep(sales_rep))
           OR invalid(lifecycle_stage, canon_lifecycle_stage(lifecycle_stage))
           OR invalid(marketing_source, canon_marketing_source(marketing_source)));            -- DOM-02

-- Kept resources with their owner: the RI-02 reference of events.
CREATE OR REPLACE TEMP TABLE dm_resources AS
SELECT DISTINCT resource_id, org_id FROM {_csv(landing, "resources")}
WHERE NOT blank(resource_id)
  AND NOT invalid(created_at, TRY_CAST(trim(created_at) AS DATE))                              -- CAST-01
  AND org_id IN (SELECT org_id FROM dm_orgs)                                                    -- RI-01
  AND NOT (invalid(service, canon_service(service)) OR invalid(region, canon_region(region))
           OR invalid(state, canon_state(state)));                                              -- DOM-02

-- Silver usage events: parsed, deduplicated, quarantine rules applied, canonical, v1/v2 conformed.
CREATE OR REPLACE TEMP TABLE dm_events AS
WITH lines AS (
    SELECT trim(event_id) AS event_id, TRY_CAST(trim("timestamp") AS TIMESTAMPTZ) AS event_ts,
           trim(org_id) AS org_id, trim(resource_id) AS resource_id, service, region, metric, unit,
           "value" AS value_raw, TRY_CAST(trim("value") AS DOUBLE) AS value,
           cost_usd_increment AS cost_raw, TRY_CAST(trim(cost_usd_increment) AS DOUBLE) AS cost,
           schema_version AS version_raw, to_int(schema_version) AS schema_version,
           carbon_kg AS carbon_raw, TRY_CAST(trim(carbon_kg) AS DOUBLE) AS carbon_kg,
           genai_tokens AS tokens_raw, to_int(genai_tokens) AS genai_tokens,
           filename
    FROM read_json({events}, format = 'newline_delimited', columns = {{{event_columns}}},
                   filename = true, ignore_errors = true)
),
bronze AS (
    -- Rejects (no event_id, no usable timestamp; also lines that are not JSON, read as all-null)
    -- never become rows; one row per event_id, the first copy.
    SELECT * FROM lines
    WHERE NOT blank(event_id) AND event_ts IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY event_id
                               ORDER BY filename, event_ts, value_raw NULLS FIRST) = 1
),
canonical AS (
    SELECT *, canon_service(service) AS service_c, canon_region(region) AS region_c,
           canon_metric(metric) AS metric_c, canon_unit(unit) AS unit_c
    FROM bronze
)
SELECT CAST(event_ts AS DATE) AS event_date,                           -- UTC (TimeZone = UTC)
       org_id, service_c AS service,
       CASE metric_c WHEN 'requests' THEN value END AS requests,
       CASE metric_c WHEN 'cpu_hours' THEN value END AS cpu_hours,
       CASE metric_c WHEN 'storage_gb_hours' THEN value END AS storage_gb_hours,
       cost, to_exact(cost) AS cost_exact,
       CASE WHEN schema_version = 2 THEN genai_tokens END AS genai_tokens  -- v1 declares no tokens
FROM canonical b
WHERE schema_version IN (1, 2)                                                              -- EV-07
  AND NOT invalid(value_raw, value)                                                          -- EV-02
  AND NOT (value IS NULL AND blank(unit))                                                    -- EV-04
  AND NOT (invalid(cost_raw, cost) OR invalid(version_raw, schema_version)
           OR invalid(carbon_raw, carbon_kg) OR invalid(tokens_raw, genai_tokens))           -- CAST-01
  AND org_id IN (SELECT org_id FROM dm_orgs)                                                  -- RI-01
  AND EXISTS (SELECT 1 FROM dm_resources r
              WHERE r.resource_id = b.resource_id AND r.org_id = b.org_id)                     -- RI-02
  AND NOT (invalid(service, service_c) OR invalid(region, region_c)
           OR invalid(metric, metric_c) OR invalid(unit, unit_c))                             -- DOM-02
  AND NOT (blank(service) OR blank(region) OR blank(metric))                                  -- EV-08
  AND NOT coalesce(cost < -0.01, false);                                                      -- EV-05

CREATE OR REPLACE TEMP TABLE org_daily_usage_by_service AS
SELECT org_id, event_date AS usage_date, service,
       count(*) AS event_count,
       CAST(round(sum(cost_exact), 2) AS DECIMAL(18, 2)) AS daily_cost_usd,
       CAST(sum(cost_exact) AS DECIMAL(18, 6)) AS daily_cost_usd_exact,
       coalesce(sum(requests), 0) AS requests,
       coalesce(sum(cpu_hours), 0) AS cpu_hours,
       coalesce(sum(storage_gb_hours), 0) AS storage_gb_hours,
       CAST(sum(genai_tokens) AS BIGINT) AS genai_tokens,
       CAST(0 AS BIGINT) AS negative_cost_count                  -- EV-05 quarantines (default policy)
FROM dm_events
GROUP BY org_id, event_date, service;

CREATE OR REPLACE TEMP TABLE genai_tokens_by_org_date AS
SELECT org_id, event_date AS date,
       count(*) AS genai_event_count,
       count(genai_tokens) AS token_event_count,
       CAST(sum(genai_tokens) AS BIGINT) AS genai_tokens,                  -- null: not measured
       CAST(round(sum(cost_exact), 2) AS DECIMAL(18, 2)) AS recorded_cost_usd,
       CAST(sum(cost_exact) AS DECIMAL(18, 6)) AS recorded_cost_usd_exact
FROM dm_events
WHERE service = 'genai'
GROUP BY org_id, event_date;

-- Silver invoices: exact duplicates dropped, rejects and quarantine out, BI-02/BI-03 applied.
CREATE OR REPLACE TEMP TABLE dm_invoices AS
WITH typed AS (
    SELECT invoice_id, org_id, currency,
           TRY_CAST(trim(month) AS DATE) AS month,
           TRY_CAST(trim(subtotal) AS DOUBLE) AS subtotal, TRY_CAST(trim(credits) AS DOUBLE) AS credits,
           TRY_CAST(trim(taxes) AS DOUBLE) AS taxes,
           TRY_CAST(trim(exchange_rate_to_usd) AS DOUBLE) AS rate,
           subtotal AS subtotal_raw, credits AS credits_raw, taxes AS taxes_raw,
           exchange_rate_to_usd AS rate_raw
    FROM (SELECT DISTINCT * FROM {_csv(landing, "billing_monthly")})
),
kept AS (
    SELECT invoice_id, org_id, month, canon_currency(currency) AS currency, subtotal, taxes,
           coalesce(credits, 0.0) AS credits,                                                    -- BI-02
           CASE WHEN canon_currency(currency) = 'USD' THEN 1.0 ELSE rate END AS rate           -- BI-03
    FROM typed
    WHERE NOT blank(invoice_id) AND month >= DATE '{BILLING_FLOOR}'                         -- bronze rejects
      AND NOT (invalid(subtotal_raw, subtotal) OR invalid(credits_raw, credits)
               OR invalid(taxes_raw, taxes) OR invalid(rate_raw, rate))                         -- CAST-01
      AND org_id IN (SELECT org_id FROM dm_orgs)                                                -- RI-01
      AND NOT invalid(currency, canon_currency(currency))                                       -- DOM-02
)
SELECT invoice_id, org_id, month, currency,
       to_cents(subtotal) AS subtotal, to_cents(credits) AS credits,
       to_cents(taxes) AS taxes, to_cents(subtotal - credits + taxes) AS total,
       to_cents(subtotal * rate) AS subtotal_usd, to_cents(credits * rate) AS credits_usd,
       to_cents(taxes * rate) AS taxes_usd, to_cents((subtotal - credits + taxes) * rate) AS total_usd
FROM kept;

CREATE OR REPLACE TEMP TABLE revenue_by_org_month AS
WITH g AS (
    -- A sum only when every invoice of the group has the amount (else it would understate);
    -- amounts in invoice currency only when the group has one currency.
    SELECT org_id, month, count(*) AS invoice_count,
           CASE WHEN count(DISTINCT currency) = 1 THEN max(currency) END AS currency,
           CASE WHEN count(DISTINCT currency) <= 1 AND count(subtotal) = count(*) THEN sum(subtotal) END AS subtotal,
           CASE WHEN count(DISTINCT currency) <= 1 AND count(credits) = count(*) THEN sum(credits) END AS credits,
           CASE WHEN count(DISTINCT currency) <= 1 AND count(taxes) = count(*) THEN sum(taxes) END AS taxes,
           CASE WHEN count(DISTINCT currency) <= 1 AND count(total) = count(*) THEN sum(total) END AS total,
           CASE WHEN count(subtotal_usd) = count(*) THEN sum(subtotal_usd) END AS subtotal_usd,
           CASE WHEN count(credits_usd) = count(*) THEN sum(credits_usd) END AS credits_usd,
           CASE WHEN count(taxes_usd) = count(*) THEN sum(taxes_usd) END AS taxes_usd,
           CASE WHEN count(total_usd) = count(*) THEN sum(total_usd) END AS total_usd
    FROM dm_invoices
    GROUP BY org_id, month
)
SELECT org_id, month, invoice_count, currency,
       CAST(subtotal AS DECIMAL(18, 2)) AS subtotal, CAST(credits AS DECIMAL(18, 2)) AS credits,
       CAST(taxes AS DECIMAL(18, 2)) AS taxes, CAST(total AS DECIMAL(18, 2)) AS total,
       CAST(subtotal_usd AS DECIMAL(18, 2)) AS subtotal_usd, CAST(credits_usd AS DECIMAL(18, 2)) AS credits_usd,
       CAST(taxes_usd AS DECIMAL(18, 2)) AS taxes_usd, CAST(total_usd AS DECIMAL(18, 2)) AS total_usd,
       coalesce(subtotal_usd < 0, subtotal < 0) AS is_credit_note   -- null when neither is known
FROM g;

-- Silver tickets, then opened (created date) and resolved (resolved date) per org, day, severity.
CREATE OR REPLACE TEMP TABLE tickets_by_org_date AS
WITH typed AS (
    SELECT org_id, category, severity,
           TRY_CAST(trim(created_at) AS DATE) AS created, TRY_CAST(trim(resolved_at) AS DATE) AS resolved,
           TRY_CAST(trim(csat) AS DOUBLE) AS csat_value, to_bool(sla_breached) AS breached,
           ticket_id, created_at, resolved_at, csat, sla_breached
    FROM (SELECT DISTINCT * FROM {_csv(landing, "support_tickets")})
),
t AS (
    SELECT org_id, canon_severity(severity) AS severity, created, resolved, breached,
           -- Only a 1..5 score on a resolved ticket is a valid CSAT (TK-02, TK-03).
           CASE WHEN resolved IS NOT NULL AND csat_value BETWEEN 1 AND 5 THEN csat_value END AS valid_csat
    FROM typed
    WHERE NOT blank(ticket_id)
      AND NOT (invalid(created_at, created) OR invalid(resolved_at, resolved)
               OR invalid(csat, csat_value) OR invalid(sla_breached, breached))                 -- CAST-01
      AND org_id IN (SELECT org_id FROM dm_orgs)                                                -- RI-01
      AND NOT coalesce(resolved < created, false)                                               -- TK-01
      AND NOT (invalid(category, canon_category(category))
               OR invalid(severity, canon_severity(severity)))                                  -- DOM-02
),
opened AS (
    SELECT org_id, severity, created AS date, count(*) AS opened,
           CAST(count_if(severity = 'critical') AS BIGINT) AS critical_count,
           CAST(count_if(breached) AS BIGINT) AS sla_breached,
           count(valid_csat) AS csat_count, avg(valid_csat) AS mean_csat
    FROM t GROUP BY org_id, severity, created
),
closed AS (
    SELECT org_id, severity, resolved AS date, count(*) AS resolved
    FROM t WHERE resolved IS NOT NULL GROUP BY org_id, severity, resolved
),
days AS (
    SELECT org_id, severity, date,
           coalesce(opened, 0) AS opened, coalesce(resolved, 0) AS resolved,
           coalesce(critical_count, 0) AS critical_count, coalesce(sla_breached, 0) AS sla_breached,
           coalesce(csat_count, 0) AS csat_count, mean_csat
    FROM opened FULL OUTER JOIN closed USING (org_id, severity, date)
),
running AS (
    SELECT *, CAST(sum(opened - resolved) OVER (
                   PARTITION BY org_id, severity ORDER BY date NULLS FIRST
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS open_backlog
    FROM days
)
SELECT org_id, date, severity, opened, resolved, open_backlog, critical_count, sla_breached,
       CAST(sla_breached AS DOUBLE) / nullif(opened, 0) AS sla_breach_rate, csat_count, mean_csat
FROM running
WHERE date IS NOT NULL;
"""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for this 2-core machine that never downloads or autoloads extensions
    (read_csv and read_json are built in)."""
    return duckdb.connect(config={"threads": 2, "autoinstall_known_extensions": False,
                                  "autoload_known_extensions": False})


def compute(landing: Path, con: duckdb.DuckDBPyConnection | None = None) -> tuple[dict, float]:
    """The four marts from the landing folder; returns (tables by gold name as pandas DataFrames,
    wall seconds spent in DuckDB including reading the files and fetching the results)."""
    con = con if con is not None else connect()
    con.execute("SET TimeZone = 'UTC'")  # days are UTC days, and so are offset-less timestamps
    landing = Path(landing).resolve()
    started = time.perf_counter()
    con.execute(_macros())
    con.execute(_sql(landing))
    marts = {name: con.sql(f"SELECT * FROM {name} ORDER BY {', '.join(KEYS[name])}").df() for name in MARTS}
    return marts, time.perf_counter() - started


# -- comparison with gold --------------------------------------------------------------------------------


def _kind(col: str) -> str:
    for kind, names in (("DECIMAL(38, 6)", MONEY), ("DOUBLE", DOUBLES), ("DATE", DATES), ("BOOLEAN", BOOLS),
                        ("BIGINT", COUNTS)):
        if col in names:
            return kind
    return "VARCHAR"


def _differs(col: str, money_tolerance: float) -> str:
    """SQL: our value (d_<col>) and gold's (g_<col>) disagree."""
    d, g = f"d_{col}", f"g_{col}"
    one_null = f"(({d} IS NULL) <> ({g} IS NULL))"
    if col in MONEY:
        return f"({one_null} OR abs({d} - {g}) > {money_tolerance})"
    if col in DOUBLES:
        return f"({one_null} OR abs({d} - {g}) > {RELATIVE_TOLERANCE} * greatest(1, abs({d}), abs({g})))"
    return f"({d} IS DISTINCT FROM {g})"


def _compare_one(con: duckdb.DuckDBPyConnection, name: str, money_tolerance: float) -> str:
    cols, keys = COMPARED_COLUMNS[name], KEYS[name]
    # Both sides get one type per column (gold arrives as text, ours as pandas dtypes), prefixed d_ / g_.
    for side, table in (("d", "dm_ours"), ("g", "dm_gold")):
        select = ", ".join([f"true AS {side}_present", *(f"CAST({c} AS {_kind(c)}) AS {side}_{c}" for c in cols)])
        con.execute(f"CREATE OR REPLACE TEMP TABLE dm_{side} AS SELECT {select} FROM {table}")
    on = " AND ".join(f"d_{k} IS NOT DISTINCT FROM g_{k}" for k in keys)
    key = "concat_ws(', ', " + ", ".join(f"coalesce(CAST(coalesce(d_{k}, g_{k}) AS VARCHAR), 'null')"
                                         for k in keys) + ")"
    con.execute(f"CREATE OR REPLACE TEMP TABLE dm_joined AS SELECT *, {key} AS key_text "
                f"FROM dm_d FULL OUTER JOIN dm_g ON {on}")
    n_d, n_g, only_d, only_g, ex_d, ex_g = con.sql(
        "SELECT count(d_present), count(g_present), count_if(g_present IS NULL), count_if(d_present IS NULL), "
        "min(key_text) FILTER (g_present IS NULL), min(key_text) FILTER (d_present IS NULL) FROM dm_joined"
    ).fetchone()
    if n_d != n_g or only_d or only_g:
        parts = [f"rows: duckdb {n_d:,}, gold {n_g:,}"]
        if only_d:
            parts.append(f"{only_d:,} key(s) only in duckdb, e.g. ({ex_d})")
        if only_g:
            parts.append(f"{only_g:,} key(s) only in gold, e.g. ({ex_g})")
        return "; ".join(parts)
    for col in cols[len(keys):]:
        bad, example = con.sql(
            f"SELECT count(*), arg_min(key_text || ': duckdb ' || coalesce(CAST(d_{col} AS VARCHAR), 'null') "
            f"|| ', gold ' || coalesce(CAST(g_{col} AS VARCHAR), 'null'), key_text) "
            f"FROM dm_joined WHERE {_differs(col, money_tolerance)}").fetchone()
        if bad:
            return f"{col}: {bad:,} row(s) differ, e.g. ({example})"
    return "ok"


def compare(spark, lake_root: str, marts: dict, money_tolerance: float = MONEY_TOLERANCE) -> dict[str, str]:
    """Each mart against the gold Delta table ``<lake_root>/gold/<name>``: 'ok', or the first
    difference in one line (row count and keys missing on either side, else the first compared
    column with values that differ: beyond ``money_tolerance`` for money, relative 1e-9 for
    floating-point quantities, exactly for counts, dates and text)."""
    con = connect()
    results = {}
    for name in MARTS:
        cols = COMPARED_COLUMNS[name]
        gold = spark.read.format("delta").load(f"{str(lake_root).rstrip('/')}/gold/{name}")
        # Collected as text (exact decimals, no NaN for null), typed again in DuckDB.
        rows = gold.select(*[gold[c].cast("string").alias(c) for c in cols]).collect()
        con.register("dm_gold", pandas.DataFrame.from_records(rows, columns=list(cols)))
        con.register("dm_ours", marts[name])
        results[name] = _compare_one(con, name, money_tolerance)
        con.unregister("dm_gold")
        con.unregister("dm_ours")
    con.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", required=True, type=Path, help="landing folder (CSVs + usage_events_stream/)")
    parser.add_argument("--lake", help="lake root whose gold tables to compare with")
    args = parser.parse_args()

    marts, seconds = compute(args.landing)
    print(f"duckdb: {seconds:.2f} s (threads=2, reading the files included)")
    for name in MARTS:
        print(f"  {name}: {len(marts[name]):,} rows")
    if args.lake:
        from cloud_analytics.config import load_settings
        from cloud_analytics.resources.spark import get_spark

        spark = get_spark(load_settings())
        for name, result in compare(spark, args.lake, marts).items():
            print(f"  {name}: {result}")


if __name__ == "__main__":
    main()
