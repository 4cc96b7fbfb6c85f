"""The named jobs: each groups the assets one trigger rebuilds, over one partitions
definition. Selections are derived from the table specs, so a new table joins the job of its
layer and partitions without an edit here.

| job | partitions | trigger | assets |
|---|---|---|---|
| daily_snapshot_job | snapshot day | daily schedule | bronze/silver snapshots, SCD2 histories, gold snapshot summaries |
| tickets_job | none (rebuilt whole) | daily schedule | ticket marts and their serving tables |
| monthly_billing_job | month | monthly schedule | invoices, revenue marts, revenue serving table |
| usage_stream_job | stream trigger | file sensor | bronze usage events + the speed layer |
| usage_refresh_job | event days (range) | touched-dates sensor, daily schedule | silver events, usage marts, usage serving tables |
| customer_health_job | event day | refresh follow-up, daily schedule | customer 360, its serving table, cost baselines |

A refresh leaves follow-up runs (``ranges.follow_ups``; the refresh follow-up sensor and
``make run`` both run them): customer health as of the newest event date, the anomaly mart and
its serving table over every event date (its baselines are whole-history), the billing
reconciliation for the months of the refreshed dates, and the newest snapshot of the snapshot
marts that read usage (resource utilization). Nothing derived from a touched date stays stale
until a schedule happens to run.

``make run`` runs the same jobs, layer by layer (``runner.py``).
"""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, define_asset_job

from cloud_analytics.orchestration.catalog import ALL_SPECS, serving_of, spec_keys

SNAPSHOT_JOB = "daily_snapshot_job"
TICKETS_JOB = "tickets_job"
BILLING_JOB = "monthly_billing_job"
STREAM_JOB = "usage_stream_job"
REFRESH_JOB = "usage_refresh_job"
HEALTH_JOB = "customer_health_job"

TICKET_MARTS = ("tickets_by_org_date",)
HEALTH_MARTS = ("customer_360",)
# Usage-derived marts outside the touched dates' partitions (the follow-ups of a refresh, ``ranges.follow_ups``):
# the anomaly mart's baselines span each org and service's whole history, the reconciliation is monthly.
ANOMALY_MARTS = ("cost_anomaly_mart",)
RECONCILIATION_MARTS = ("cost_vs_billing_reconciliation",)
FOLLOW_UP_TAG = "cloud_analytics/follow_up"  # on the runs a refresh leaves to do (never followed up again)
FOLLOW_UP_TAGS = {FOLLOW_UP_TAG: "true"}
RESOURCES_SNAPSHOT = AssetKey(["silver", "resources"])  # the snapshot a snapshot follow-up rebuilds from

# Tables several assets write, each its own slice, published after them in every job that runs
# their writers (``lib.published``): the CSV rejects and the data-quality counts.
CSV_REJECTS_KEY = AssetKey(["bronze", "csv_rejects"])
DQ_METRICS_KEY = AssetKey(["quarantine", "dq_metrics"])
SHARED_KEYS: list[AssetKey] = [CSV_REJECTS_KEY, DQ_METRICS_KEY]

STREAM_KEYS: list[AssetKey] = spec_keys(partitions="stream_runs")
SNAPSHOT_KEYS: list[AssetKey] = [
    *spec_keys(layer="bronze", partitions="snapshot_daily"), CSV_REJECTS_KEY,
    *spec_keys(layer="silver", partitions="snapshot_daily"),
    *spec_keys(layer="quarantine", partitions="snapshot_daily"), DQ_METRICS_KEY,
    *spec_keys(layer="gold", partitions="snapshot_daily", exclude=TICKET_MARTS),
]
TICKETS_KEYS: list[AssetKey] = [*spec_keys(layer="gold", names=TICKET_MARTS), *serving_of(TICKET_MARTS)]
BILLING_KEYS: list[AssetKey] = [*spec_keys(partitions="billing_monthly"), *SHARED_KEYS]
_USAGE_MARTS = tuple(s.name for s in ALL_SPECS if s.layer == "gold" and s.partitions == "events_daily"
                     and s.name not in HEALTH_MARTS)
REFRESH_KEYS: list[AssetKey] = [
    *spec_keys(layer="silver", partitions="events_daily"),
    *spec_keys(layer="quarantine", partitions="events_daily"), DQ_METRICS_KEY,
    *spec_keys(layer="gold", names=_USAGE_MARTS),
    *serving_of(_USAGE_MARTS),
]
HEALTH_KEYS: list[AssetKey] = [
    *spec_keys(layer="gold", names=HEALTH_MARTS),
    *serving_of(HEALTH_MARTS),
    *spec_keys(layer="gold", partitions=None, exclude=TICKET_MARTS),  # cost baselines: learned from every event
]

# Snapshot marts that also read usage events (resource utilization): their newest snapshot moves with new events.
SNAPSHOT_USAGE_MARTS = tuple(s.name for s in ALL_SPECS if s.layer == "gold" and s.partitions == "snapshot_daily"
                             and any(d.table == "silver/usage_events" for d in s.deps))
ANOMALY_KEYS: list[AssetKey] = [*spec_keys(layer="gold", names=ANOMALY_MARTS), *serving_of(ANOMALY_MARTS)]
SNAPSHOT_USAGE_KEYS: list[AssetKey] = [*spec_keys(layer="gold", names=SNAPSHOT_USAGE_MARTS),
                                       *serving_of(SNAPSHOT_USAGE_MARTS)]
RECONCILIATION_KEYS: list[AssetKey] = [*spec_keys(layer="gold", names=RECONCILIATION_MARTS),
                                       *serving_of(RECONCILIATION_MARTS)]

JOB_KEYS: dict[str, list[AssetKey]] = {
    SNAPSHOT_JOB: SNAPSHOT_KEYS, TICKETS_JOB: TICKETS_KEYS, BILLING_JOB: BILLING_KEYS,
    STREAM_JOB: STREAM_KEYS, REFRESH_JOB: REFRESH_KEYS, HEALTH_JOB: HEALTH_KEYS,
}
_DESCRIPTIONS = {
    SNAPSHOT_JOB: "Capture the day's snapshot of the master-data, ticket, touch and survey files, with their "
                  "silver tables, SCD2 histories and the gold snapshot summaries.",
    TICKETS_JOB: "Rebuild the ticket marts from the latest tickets snapshot and load them into Cassandra.",
    BILLING_JOB: "Ingest the invoices of a month and rebuild the revenue marts and tables.",
    STREAM_JOB: "One stream trigger: ingest every usage-event file not yet seen into bronze, then the speed "
                "layer (windows, alerts, provisional serving rows).",
    REFRESH_JOB: "Rebuild the usage-derived daily partitions (silver, gold, serving) a stream run touched.",
    HEALTH_JOB: "Rebuild customer 360 as of the newest event date, its serving table and the cost baselines.",
}
_TAGS = {STREAM_JOB: {"cloud_analytics/stream": "true"}, REFRESH_JOB: {"cloud_analytics/refresh": "true"}}

jobs = [define_asset_job(name, selection=AssetSelection.assets(*keys), description=_DESCRIPTIONS[name],
                         tags=_TAGS.get(name)) for name, keys in JOB_KEYS.items()]
