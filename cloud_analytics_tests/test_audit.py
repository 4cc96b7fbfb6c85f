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

from cloud_analytics.lib.lake import table_path
from cloud_analytics.audit import (
    NOTHING_TO_AUDIT,
    SOURCES,
    STAGES,
    AuditReport,
    csv_landing,
    jsonl_lines,
    landed_event_files,
    run_audit,
)
from cloud_analytics.audit import reconcile
from cloud_analytics.audit.gather import Aggregate, gather
from cloud_analytics.bronze.specs import CSV_SOURCES_BY_NAME, CSV_SOURCES
from cloud_analytics.cli import main
from cloud_analytics.lib.spec import Measure, Reconciliation, TableSpec, columns
from cloud_analytics.serving.specs import SERVING_SPECS

# The serving tables loaded from gold: the ones the audit compares with gold.
SERVING_TABLES = [spec for spec in SERVING_SPECS if spec.mart is not None]

# From landing-dataset.md: the figures the generator reproduces at scale 1.
LANDING_ROWS = {"customers_orgs": 80, "users": 800, "resources": 400, "billing_monthly": 240,
                "support_tickets": 1000, "marketing_touches": 1500, "nps_surveys": 92}
LANDED_EVENTS = 43_200
# From landing-dataset.md: 37 events with neither value nor unit (EV-04) and 211 costs below
# -0.01 (EV-05) are quarantined; silver usage_events keeps the rest.
QUARANTINED_BY_RULE = {"EV-04": 37, "EV-05": 211}
QUARANTINED_EVENTS = sum(QUARANTINED_BY_RULE.values())
SILVER_EVENTS = LANDED_EVENTS - QUARANTINED_EVENTS
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


def test_landed_event_files_are_the_complete_jsonl_files(tmp_path):
    folder = tmp_path / "usage_events_stream"
    assert landed_event_files(folder) == []  # no folder yet
    folder.mkdir()
    for name in ("b.jsonl", "a.jsonl", ".c.jsonl", "_d.jsonl", "e.jsonl.tmp", "f.json"):
        (folder / name).write_text("{}\n")
    (folder / "g.jsonl").mkdir()
    assert [p.name for p in landed_event_files(folder)] == ["a.jsonl", "b.jsonl"]


# -- the generic parts, on hand-made frames ---------------------------------------------------------------


class _FrameReader:
    """A lake reader over in-memory frames (None for a table that does not exist); counts reads."""

    def __init__(self, frames):
        self.frames, self.reads = frames, []

    def read(self, layer, name):
        self.reads.append(f"{layer}/{name}")
        return self.frames.get(f"{layer}/{name}")


def test_gather_shares_one_job_per_table_filter_and_grouping(spark):
    df = spark.createDataFrame([("a", 1), ("a", 2), ("b", 5), (None, 7)], "k string, v int")
    reader = _FrameReader({"silver/t": df})
    got = gather(reader, {
        "rows": Aggregate("silver", "t", (("rows", "count(1)"),)),
        "sum": Aggregate("silver", "t", (("total", "sum(v)"), ("rows", "count(1)"))),
        "by_k": Aggregate("silver", "t", (("rows", "count(1)"), ("total", "sum(v)")), by=("k",)),
        "filtered": Aggregate("silver", "t", (("total", "sum(v)"),), where="k = 'a'"),
        "absent": Aggregate("gold", "nothing", (("rows", "count(1)"),)),
        "custom": lambda r: r.read("silver", "t").count(),
    })
    assert got["rows"] == {"rows": 4} and got["sum"] == {"total": 15, "rows": 4}
    assert got["by_k"] == {"a": {"rows": 2, "total": 3}, "b": {"rows": 1, "total": 5}, None: {"rows": 1, "total": 7}}
    assert got["filtered"] == {"total": 3} and got["absent"] is None and got["custom"] == 4
    # rows + sum share a job; by_k, filtered, absent and custom are one read each.
    assert sorted(reader.reads) == ["gold/nothing", *["silver/t"] * 4]


def _mart(name, cols, partitions, partition_column, *recs):
    return TableSpec("gold", name, "", "", columns(*cols), (), partitions, partition_column, reconciliations=recs)


def test_gold_laws_follow_the_reconciliations(spark):
    """Each scope on a hand-made lake: every row, a filtered reference, the snapshot equal to the
    reference's newest, the mart's newest partition, and a whole mart rebuilt per snapshot."""
    d1, d2 = date(2025, 7, 1), date(2025, 7, 2)
    events = spark.createDataFrame([("genai", Decimal("1.25")), ("genai", Decimal("0.75")), ("compute", Decimal("2"))],
                                   "service string, cost decimal(18,6)")
    orgs = spark.createDataFrame([("o1", d1), ("o1", d2), ("o2", d2), ("o3", d2)], "org_id string, snapshot_date date")
    frames = {
        "silver/events": events, "silver/orgs": orgs,
        "gold/usage": spark.createDataFrame([(2, Decimal("3.00")), (1, Decimal("0.99"))], "n bigint, cost decimal(18,6)"),
        "gold/genai": spark.createDataFrame([(2, Decimal("2.00"))], "n bigint, cost decimal(18,6)"),
        "gold/summary": spark.createDataFrame([(1, d1), (2, d2), (1, d2)], "orgs bigint, snapshot_date date"),
        "gold/as_of": spark.createDataFrame([("o1", d1), ("o1", d2), ("o2", d2)], "org_id string, as_of_date date"),
        "gold/as_of_all": spark.createDataFrame([("o1", d1), ("o1", d2), ("o2", d2)], "org_id string, as_of_date date"),
        "gold/rebuilt": spark.createDataFrame([(3,)], "orgs bigint"),
        "gold/against_missing": spark.createDataFrame([(1,)], "n bigint"),
    }
    usage = Reconciliation("silver/events", (Measure("events", "sum(n)", "count(1)"),
                                             Measure("cost", "sum(cost)", "sum(cost)")), counts_source="src")
    per_org = (Measure("records", "count(1)", "count(1)"),)
    specs = [
        _mart("usage", (("n", "bigint"), ("cost", "decimal(18,6)")), "events_daily", None, usage),
        _mart("genai", (("n", "bigint"), ("cost", "decimal(18,6)")), "events_daily", None,
              Reconciliation("silver/events", (Measure("events", "sum(n)", "count(1)"),
                                                Measure("cost", "sum(cost)", "sum(cost)")), where="service = 'genai'")),
        _mart("summary", (("orgs", "bigint"), ("snapshot_date", "date")), "snapshot_daily", "snapshot_date",
              Reconciliation("silver/orgs", (Measure("records", "sum(orgs)", "count(1)"),), scope="latest_snapshot")),
        _mart("as_of", (("org_id", "string"), ("as_of_date", "date")), "events_daily", "as_of_date",
              Reconciliation("silver/orgs", per_org, scope="latest_snapshot", label="orgs")),
        _mart("as_of_all", (("org_id", "string"), ("as_of_date", "date")), "events_daily", "as_of_date",
              Reconciliation("silver/orgs", per_org, scope="latest_snapshot", own_scope="all")),
        _mart("rebuilt", (("orgs", "bigint"),), "snapshot_daily", None,
              Reconciliation("silver/orgs", (Measure("records", "sum(orgs)", "count(1)"),), scope="latest_snapshot")),
        _mart("never_built", (("n", "bigint"),), "events_daily", None, usage),
        _mart("against_missing", (("n", "bigint"),), "events_daily", None,
              Reconciliation("silver/missing", (Measure("rows", "count(1)", "count(1)"),))),
    ]
    report = AuditReport(laws=[], counts={"src": {"gold": None}})
    reconcile.gold_laws(gather(_FrameReader(frames), reconcile.requests(specs)), report, specs)

    laws = {law.name.removeprefix("gold = silver: "): law for law in report.laws}
    assert list(laws) == ["usage", "genai", "summary", "as_of", "as_of_all", "rebuilt", "never_built"]  # no reference: no law
    assert not laws["usage"].ok and laws["usage"].detail == "events, cost: gold 3, 3.99 = silver events 3, 4.00"
    assert laws["genai"].ok, laws["genai"].detail
    assert "silver events where service = 'genai' 2, 2.00" in laws["genai"].detail
    assert laws["summary"].ok and laws["summary"].detail == "records: gold 3 = silver orgs snapshot 2025-07-02 3"
    assert not laws["as_of"].ok and laws["as_of"].detail == (
        "orgs as of 2025-07-02: gold 2 = silver orgs snapshot 2025-07-02 3")
    assert laws["as_of_all"].ok, laws["as_of_all"].detail  # all three rows
    assert laws["rebuilt"].ok and laws["rebuilt"].detail == "records: gold 3 = silver orgs snapshot 2025-07-02 3"
    assert laws["never_built"].detail == "gold/never_built does not exist: run the pipeline"
    assert report.counts["src"]["gold"] == 3  # the usage law's first measure
    assert [g["mart"] for g in report.gold] == ["usage", "genai", "summary", "as_of", "as_of_all", "rebuilt"]
    assert report.gold[0]["gold"] == {"events": 3, "cost": Decimal("3.99")}


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
        bronze = spark.read.format("delta").load(table_path(str(settings.lake), "bronze", source.name))
        silver = spark.read.format("delta").load(table_path(str(settings.lake), "silver", source.name))
        quarantine = spark.read.format("delta").load(table_path(str(settings.lake), "quarantine", source.name))
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
    assert report.quarantine_rules["usage_events"] == QUARANTINED_BY_RULE
    assert report.counts["support_tickets"]["gold"] == report.counts["support_tickets"]["silver"]
    assert report.counts["customers_orgs"]["cassandra"] == LANDING_ROWS["customers_orgs"]

    gold_usage = spark.read.format("delta").load(table_path(str(settings.lake), "gold", "org_daily_usage_by_service"))
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
    orgs = DeltaTable.forPath(spark, table_path(str(tampered.lake), "silver", "customers_orgs"))
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
