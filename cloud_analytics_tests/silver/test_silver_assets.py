"""Silver materialized with Dagster on the generated dataset: the issue's figures at scale 1."""

from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.pipeline import materialize_all

TABLES = ["customers_orgs", "users", "resources", "billing_monthly", "support_tickets", "marketing_touches",
          "nps_surveys", "usage_events"]


def _read(spark, settings, layer, table):
    return spark.read.format("delta").load(table_path(str(settings.lake), layer, table))


def _flagged(df, rule):
    return df.filter(F.array_contains("dq_flags", rule)).count()


def _quarantined(spark, settings, table, rule=None):
    q = _read(spark, settings, "quarantine", table)
    return (q.filter(F.col("rule_id") == rule) if rule else q).count()


def test_every_silver_check_passes(silver_run):
    assert [c for step in silver_run for c in step.failed_checks] == []


def test_event_figures(silver_run, spark, settings):
    events = _read(spark, settings, "silver", "usage_events")
    assert _quarantined(spark, settings, "usage_events", "EV-04") == 37
    # The landing figures: 211 costs below -0.01, none of them on an event EV-04 quarantines first.
    assert _quarantined(spark, settings, "usage_events", "EV-05") == 211
    assert _quarantined(spark, settings, "usage_events") == 37 + 211
    assert events.count() + 37 + 211 == 43_200
    quarantine = _read(spark, settings, "quarantine", "usage_events")
    # 877 null values, 37 of them without a unit: EV-09 fires on 840, kept or quarantined by another rule.
    quarantined_with = quarantine.filter(F.array_contains("rule_ids", "EV-09")).count()
    assert _flagged(events, "EV-09") + quarantined_with == 840 and quarantined_with > 0
    # 2,038 units imputed: on kept rows, or beside the rule that quarantined the row.
    assert _flagged(events, "EV-03") + quarantine.filter(F.array_contains("rule_ids", "EV-03")).count() == 2_038
    assert events.filter("unit is null and value is not null").count() == 0
    # 1,309 values sent as strings, all parsed: kept, or in the raw record of a row quarantined for another reason.
    quarantined_strings = quarantine.filter(F.get_json_object("raw_record", "$.value_is_string") == "true").count()
    assert events.filter("value_was_string and value is not null").count() + quarantined_strings == 1_309
    assert events.filter("cost_usd_increment < -0.01").count() == 0
    assert events.filter("cost_usd_increment < 0").count() == 5  # rounding noise in (-0.01, 0) stays
    for rule in ("RI-01", "RI-02"):
        assert _quarantined(spark, settings, "usage_events", rule) == 0


def test_table_figures(silver_run, spark, settings):
    tickets = _read(spark, settings, "silver", "support_tickets")
    assert _flagged(tickets, "TK-02") == 40
    assert _flagged(_read(spark, settings, "silver", "users"), "US-01") == 232  # last_login before created_at
    billing = _read(spark, settings, "silver", "billing_monthly")
    assert _flagged(billing, "BI-02") == 137 and billing.filter("credits is null").count() == 0
    usd = billing.filter("currency = 'USD'")
    assert usd.count() == 160 and usd.filter("exchange_rate_to_usd != 1.0").count() == 0


def test_conservation_per_table(silver_run, spark, settings):
    for table in TABLES:
        bronze = _read(spark, settings, "bronze", table).count()
        kept = _read(spark, settings, "silver", table).count()
        assert bronze == kept + _quarantined(spark, settings, table), table


def test_no_plain_email_past_bronze(silver_run, spark, settings):
    users = _read(spark, settings, "silver", "users")
    assert "email" not in users.columns
    text_cols = [f.name for f in users.schema.fields if f.dataType.simpleString() == "string"]
    assert users.filter(" OR ".join(f"{c} LIKE '%@%'" for c in text_cols)).count() == 0
    assert users.select("email_hash").distinct().count() == 800


def test_rule_counts_are_stored_per_partition(silver_run, spark, settings):
    metrics = _read(spark, settings, "quarantine", "dq_metrics")
    ev04 = metrics.filter("table = 'usage_events' AND rule_id = 'EV-04'")
    assert ev04.count() == 60  # one row per event date, zero counts included
    assert ev04.agg(F.sum("quarantined_count")).first()[0] == 37


def test_rerunning_silver_changes_nothing(silver_run, spark, settings, dagster_instance):
    before = {t: (_read(spark, settings, "silver", t).count(), _quarantined(spark, settings, t)) for t in TABLES}
    metric_rows = _read(spark, settings, "quarantine", "dq_metrics").count()
    materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("silver",), force=True)
    after = {t: (_read(spark, settings, "silver", t).count(), _quarantined(spark, settings, t)) for t in TABLES}
    assert before == after
    assert _read(spark, settings, "quarantine", "dq_metrics").count() == metric_rows
