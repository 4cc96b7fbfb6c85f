"""Telling someone about new cost alerts: the run's log (the Dagster UI) and an optional webhook.

The alerts a stream run raised are read back from ``speed/usage_alerts`` (its micro-batches
may have run in the Spark service, whose memory this process cannot read): those written by
this run, or by a batch this run replayed. Each is logged with its org, service and reason.

With a webhook configured, each alert is delivered once: the outcome of every delivery is
appended to ``speed/_alert_deliveries`` (alert id, ok, attempts, status, error), and an alert is
sent only while that ledger holds no successful delivery of it. Pending alerts are this run's
plus those an earlier run could not deliver for a reason that may pass (no answer, 429, 5xx),
oldest first, so a webhook outage delays alerts instead of losing them; one the endpoint
refused (another 4xx) is not sent again. Alerts raised before a webhook was configured are not
sent. A receiver can still see an alert twice in two cases: it processed a request but answered
too late or with a 5xx (the retry repeats it), or this process died between the POST and the
ledger append. Every request carries an ``Idempotency-Key`` header (the alert id) so a receiver
can drop such a repeat.
"""

from __future__ import annotations

from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.lib.delta_io import table_exists

DELIVERIES_SCHEMA = ("alert_id string, ok boolean, attempts int, status int, error string, stream_run string, "
                     "delivered_at timestamp")
PAYLOAD_COLUMNS = ("alert_id", "org_id", "service", "resource_id", "event_id", "event_ts", "event_date", "cost_usd",
                   "baseline_median_usd", "baseline_scope", "robust_z", "threshold", "reason", "plan_tier",
                   "industry", "hq_region", "resource_state", "stream_run")
MAX_RETRIES_PER_RUN = 500  # earlier undelivered alerts retried per run; the rest wait for later runs


def run_alerts(spark: SparkSession, alerts_path: str, stream_run: str, batch_ids: list[int]) -> list:
    """The alerts this run's micro-batches wrote (or had written before a crash and replayed)."""
    alerts = spark.read.format("delta").load(alerts_path)
    mine = F.col("stream_run") == stream_run
    if batch_ids:
        mine = mine | F.col("batch_id").isin(batch_ids)
    return alerts.filter(mine).orderBy("event_ts", "alert_id").collect()


def describe(alert) -> str:
    """One log line: what a reader of the run log needs to act on the alert."""
    return (f"ALERT {alert['org_id']} {alert['service']} (resource {alert['resource_id']}, event {alert['event_id']} "
            f"at {alert['event_ts']}): {alert['reason']}")


def payload(alert) -> dict:
    return {"type": "cloud_analytics.cost_alert", **{c: alert[c] for c in PAYLOAD_COLUMNS}}


def _ledger(spark: SparkSession, path: str) -> DataFrame | None:
    return spark.read.format("delta").load(path) if table_exists(spark, path) else None


def pending(spark: SparkSession, alerts_path: str, ledger_path: str, new_alerts: list) -> list:
    """This run's alerts and earlier failed ones, minus every alert delivered already, oldest first."""
    ledger = _ledger(spark, ledger_path)
    if ledger is None:
        return list(new_alerts)
    outcome = ledger.groupBy("alert_id").agg(F.max(F.col("ok").cast("int")).alias("ok"),
                                             F.max_by("status", "delivered_at").alias("status"))
    may_pass = F.col("status").isNull() | (F.col("status") >= 500) | (F.col("status") == 429)
    retryable = outcome.filter((F.col("ok") == 0) & may_pass).select("alert_id")
    retry = (spark.read.format("delta").load(alerts_path).join(retryable, "alert_id", "left_semi")
             .orderBy("event_ts", "alert_id").limit(MAX_RETRIES_PER_RUN).collect())
    candidates = [*retry, *new_alerts]
    ids = sorted({a["alert_id"] for a in candidates})
    delivered = {r["alert_id"] for r in ledger.filter(F.col("ok") & F.col("alert_id").isin(ids))
                 .select("alert_id").distinct().collect()} if ids else set()
    out, seen = [], set(delivered)
    for alert in candidates:
        if alert["alert_id"] not in seen:
            seen.add(alert["alert_id"])
            out.append(alert)
    return out


def notify_webhook(spark: SparkSession, sink, alerts_path: str, ledger_path: str, new_alerts: list,
                   stream_run: str, log: Callable[[str], None] = print) -> dict[str, int]:
    """POST the pending alerts to ``sink`` (an ``AlertWebhookResource``) and record each outcome."""
    todo = pending(spark, alerts_path, ledger_path, new_alerts)
    if not todo:
        return {"delivered": 0, "failed": 0}
    deliveries = sink.deliver([(a["alert_id"], payload(a)) for a in todo])
    rows = [(d.key, d.ok, d.attempts, d.status, d.error, stream_run) for d in deliveries]
    (spark.createDataFrame(rows, DELIVERIES_SCHEMA.rsplit(", delivered_at", 1)[0])
     .withColumn("delivered_at", F.current_timestamp())
     .write.format("delta").mode("append").save(ledger_path))
    failed = [d for d in deliveries if not d.ok]
    if failed:
        log(f"webhook {sink.host}: {len(failed)} of {len(deliveries)} alerts not delivered, retried next run: "
            f"{failed[0].error}")
    return {"delivered": len(deliveries) - len(failed), "failed": len(failed)}
