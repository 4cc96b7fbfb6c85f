"""``cloud-analytics audit``: counts checked against independent counts, and the laws shown to
break when the data is tampered with (on a copy of the session lake, or with rows added to and
then removed from Cassandra under an org that does not exist)."""

from __future__ import annotations

import csv
import json
import shutil
import socket
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from pyspark.sql import functions as F

from cloud_analytics.audit import (
    NOTHING_TO_AUDIT,
    SOURCES,
    STAGES,
    csv_landing,
    jsonl_lines,
    run_audit,
)
from cloud_analytics.bronze.schemas import CSV_SOURCES_BY_NAME, CSV_SOURCES
from cloud_analytics.cli import main
from cloud_analytics.serving.assets import TABLES as SERVING_TABLES

# From landing-dataset.md: the figures the generator reproduces at scale 1.
LANDING_ROWS = {"customers_orgs": 80, "users": 800, "resources": 400, "billing_monthly": 240,
                "support_tickets": 1000, "marketing_touches": 1500, "nps_surveys": 92}
LANDED_EVENTS = 43_200
# README "Silver": EV-04 quarantines 37 events, silver usage_events keeps 43,163.
QUARANTINED_EVENTS, SILVER_EVENTS = 37, 43_163
FAKE_ORG = "org_audit_test_not_real"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _csv_records(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


def _event_lines(landing: Path) -> int:
    return sum(1 for f in (landing / "usage_events_stream").glob("*.jsonl")
               for line in f.read_text(encoding="utf-8").split("\n") if line.strip())


# -- landing counts, by hand-made files ----------------------------------------------------------------


def test_csv_landing_counts_duplicates_and_invalid_lines(tmp_path):
    users = CSV_SOURCES_BY_NAME["users"]
    path = tmp_path / "users.csv"
    header = ",".join(users.column_names)
    good = "u1,o1,a@x.io,admin,true,2025-01-01,2025-02-01"
    path.write_bytes(("\ufeff" + "\r\n".join([
        header, good, good,                                   # one duplicate
        "u2,o1,b@x.io,viewer,true,2025-01-01,",               # valid
        "u3,o1,c@x.io,viewer",                                # wrong width
        ",o1,d@x.io,viewer,true,2025-01-01,2025-02-01",       # no key
        ",o1,d@x.io,viewer,true,2025-01-01,2025-02-01",       # no key again: invalid, not a duplicate
    ]) + "\r\n").encode() + b"u4,o1,\xff@x.io,viewer,true,2025-01-01,2025-02-01\n")  # not UTF-8
    counted = csv_landing(path, users)
    assert (counted.records, counted.invalid, counted.duplicates) == (7, 4, 1)

    billing = CSV_SOURCES_BY_NAME["billing_monthly"]
    path = tmp_path / "billing_monthly.csv"
    path.write_text("\n".join([",".join(billing.column_names),
                               "i1,o1,2025-06-01,10,0,2,USD,1", "i2,o1,2025-05-01,10,0,2,USD,1",
                               "i3,o1,not-a-date,10,0,2,USD,1", "i1,o1,2025-06-01,10,0,2,USD,1"]) + "\n")
    counted = csv_landing(path, billing, month_floor=date(2025, 6, 1))
    assert (counted.records, counted.invalid, counted.duplicates) == (4, 2, 1)
    assert csv_landing(tmp_path / "missing.csv", billing).records == 0


def test_jsonl_lines_skip_blank_lines_and_accept_crlf(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a":1}\r\n\r\n   \n{"a":2}\n{broken\r{"a":3}')
    assert jsonl_lines(path) == 4


# -- nothing to audit, Cassandra down ------------------------------------------------------------------


def test_an_empty_lake_has_nothing_to_audit(settings, tmp_path, monkeypatch, capsys):
    empty = replace(settings, lake=tmp_path / "lake", landing=tmp_path / "lake" / "landing")
    report = run_audit(empty)  # neither Spark nor Cassandra is needed to say so
    assert not report.ok and report.first_failure is report.failures[0]
    assert NOTHING_TO_AUDIT in report.first_failure.detail and NOTHING_TO_AUDIT in report.render()
    assert report.to_json()["ok"] is False

    monkeypatch.setenv("CLOUD_ANALYTICS_LAKE", str(tmp_path / "lake"))
    assert main(["audit"]) == 2
    captured = capsys.readouterr()
    assert NOTHING_TO_AUDIT in captured.err and "Traceback" not in captured.err


def test_cassandra_unreachable_is_one_clear_line(gold_run, monkeypatch, capsys):
    port = _free_port()
    monkeypatch.setenv("CLOUD_ANALYTICS_CASSANDRA_PORT", str(port))
    assert main(["audit"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot reach Cassandra at 127.0.0.1:{port}")
    assert "Traceback" not in err


# -- the session lake ------------------------------------------------------------------------------------


def test_counts_follow_every_record_from_landing_to_cassandra(serving_run, settings, spark, cassandra):
    with cassandra.session() as session:
        report = run_audit(settings, spark, session)
    assert report.ok, report.render()
    assert list(report.counts) == list(SOURCES)
    assert all(list(stages) == list(STAGES) for stages in report.counts.values())

    for source in CSV_SOURCES:
        counts = report.counts[source.name]
        landed = _csv_records(settings.landing / source.file_name)
        assert landed == LANDING_ROWS[source.name] == counts["landing"], source.name
        bronze = spark.read.format("delta").load(settings.layer_path("bronze", source.name))
        silver = spark.read.format("delta").load(settings.layer_path("silver", source.name))
        quarantine = spark.read.format("delta").load(settings.layer_path("quarantine", source.name))
        if source.partitioning == "snapshot":
            latest = bronze.agg(F.max("snapshot_date")).first()[0]
            bronze = bronze.filter(F.col("snapshot_date") == latest)
            silver = silver.filter(F.col("snapshot_date") == latest)
            quarantine = quarantine.filter(F.col("partition_date") == latest)
        assert (counts["bronze"], counts["silver"], counts["quarantine"]) == (
            bronze.count(), silver.count(), quarantine.count()), source.name
        assert (counts["rejects"], counts["duplicates"]) == (0, 0), source.name  # the default data is clean

    events = report.counts["usage_events"]
    assert _event_lines(settings.landing) == LANDED_EVENTS
    assert events == {"landing": LANDED_EVENTS, "bronze": LANDED_EVENTS, "rejects": 0, "duplicates": 0,
                      "quarantine": QUARANTINED_EVENTS, "silver": SILVER_EVENTS, "gold": SILVER_EVENTS,
                      "cassandra": SILVER_EVENTS}
    assert report.quarantine_rules["usage_events"] == {"EV-04": QUARANTINED_EVENTS}
    assert report.counts["support_tickets"]["gold"] == report.counts["support_tickets"]["silver"]
    assert report.counts["customers_orgs"]["cassandra"] == LANDING_ROWS["customers_orgs"]

    gold_usage = spark.read.format("delta").load(settings.layer_path("gold", "org_daily_usage_by_service"))
    served = {s.table: s for s in report.serving}
    assert set(served) == {t.name for t in SERVING_TABLES}  # every serving table is audited
    usage = served["org_daily_usage"]
    assert usage.gold_rows == usage.cassandra_rows == gold_usage.count()
    assert usage.cassandra_total == gold_usage.agg(F.sum("daily_cost_usd")).first()[0]
    assert isinstance(usage.cassandra_total, Decimal) and usage.speed_rows == 0

    names = [law.name for law in report.laws]
    assert names[0] == "landing = bronze + rejects + duplicates: customers_orgs"
    assert sum(n.startswith("cassandra = gold: ") for n in names) == len(SERVING_TABLES)
    text = report.render()
    assert "audit: all" in text and all(source in text for source in SOURCES)
    assert json.loads(json.dumps(report.to_json()))["counts"]["usage_events"]["silver"] == SILVER_EVENTS


def test_speed_rows_are_apart_and_a_stray_batch_row_breaks_the_serving_law(serving_run, cassandra, capsys):
    """A speed row (provisional) is reported, not compared; a batch row gold does not have
    makes the audit fail on org_daily_usage, and only there."""
    insert = ("INSERT INTO org_daily_usage (org_id, usage_date, service, daily_cost_usd, event_count, source) "
              "VALUES (%s, %s, %s, %s, %s, %s)")
    with cassandra.session() as session:
        session.execute(insert, (FAKE_ORG, date(2025, 9, 1), "compute", Decimal("12.34"), 3, "speed"))
        session.execute(insert, (FAKE_ORG, date(2025, 9, 2), "compute", Decimal("1.00"), 1, "batch"))
        try:
            code = main(["audit", "--format", "json"])
        finally:
            session.execute("DELETE FROM org_daily_usage WHERE org_id = %s", (FAKE_ORG,))
    captured = capsys.readouterr()
    assert code == 2
    report = json.loads(captured.out)
    assert report["first_failure"] == "cassandra = gold: org_daily_usage"
    assert [law["name"] for law in report["laws"] if not law["ok"]] == ["cassandra = gold: org_daily_usage"]
    usage = next(s for s in report["serving"] if s["table"] == "org_daily_usage")
    assert usage["cassandra_rows"] == usage["gold_rows"] + 1
    assert usage["speed_provisional"] == {"rows": 1, "total": "12.34"}
    assert Decimal(usage["cassandra_total"]) - Decimal(usage["gold_total"]) == Decimal("1.00")
    assert "error: audit failed: cassandra = gold: org_daily_usage" in captured.err


def test_tampering_with_a_copy_of_the_lake_breaks_the_laws_in_order(serving_run, settings, spark, tmp_path):
    """On a copy: one new user line in landing, one org deleted from silver. The audit names the
    landing law first, then bronze = silver + quarantine for orgs and customer_360's gold law."""
    from delta.tables import DeltaTable

    copy = tmp_path / "lake"
    for folder in ("landing", "bronze", "silver", "gold", "quarantine"):
        shutil.copytree(settings.lake / folder, copy / folder)
    tampered = replace(settings, lake=copy, landing=copy / "landing")

    users = copy / "landing" / "users.csv"
    last = users.read_text(encoding="utf-8").rstrip("\n").split("\n")[-1]
    with open(users, "a", encoding="utf-8") as handle:
        handle.write(last + "\n")  # an exact copy: a duplicate, conservation still holds
        handle.write("u_audit_extra" + last[last.index(","):] + "\n")  # a new record bronze never saw
    orgs = DeltaTable.forPath(spark, tampered.layer_path("silver", "customers_orgs"))
    latest = orgs.toDF().agg(F.max("snapshot_date")).first()[0]
    victim = orgs.toDF().filter(F.col("snapshot_date") == latest).orderBy("org_id").first()["org_id"]
    orgs.delete((F.col("org_id") == victim) & (F.col("snapshot_date") == latest))

    report = run_audit(tampered, spark, include_serving=False)
    assert [law.name for law in report.failures] == [
        "landing = bronze + rejects + duplicates: users",
        "bronze = silver + quarantine: customers_orgs",
        "gold = silver: customer_360",
    ], report.render()
    assert report.first_failure.name == "landing = bronze + rejects + duplicates: users"
    assert "difference +1" in report.first_failure.detail
    assert report.counts["users"]["landing"] == LANDING_ROWS["users"] + 2
    assert report.counts["users"]["duplicates"] == 1
    assert report.counts["customers_orgs"]["silver"] == LANDING_ROWS["customers_orgs"] - 1
    assert all(s is None for s in (report.counts[x]["cassandra"] for x in SOURCES))
    assert not any(law.name.startswith("cassandra") for law in report.laws)
