"""Bad input, end to end on the fault lake: each bad record is rejected at bronze or quarantined
at silver with its reason (and rule id), while the rest of its file flows to Cassandra.

Not repeated here (covered by ``bronze/test_stream.py``, ``test_events.py`` and
``test_csv_ingest.py`` at the function level): corrupt lines inside a file, an empty event
file, the same file re-landed under its name, non-UTF-8 bytes in a CSV. Added: schema
version 3 with an unknown field, an unknown service, a corrupt line and a last line cut
without its newline (through silver and serving), a file re-delivered under a new name
(through silver), non-UTF-8 bytes in an event line, and a CSV missing a column through the
Dagster asset (the run fails naming the file and column; the other source of the run flows).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.lib.errors import PipelineError
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.helpers import (
    FAULT_LAKE_LAWS,
    assert_audit_passes,
    landed,
    law_landing,
    read,
    templates,
    write_atomic,
)

DAY = "2025-07-20"
FAULTY = "events_part_9001_faulty.jsonl"
LATIN1 = "events_part_9002_latin1.jsonl"
REDELIVERED = "events_part_0003_redelivered.jsonl"
MANGLED_ID = "evt_fault_caf\ufffd"


@dataclass
class BadRun:
    files: list[Path]  # every landed event file after the faulty ones arrived
    stream_meta: dict


@pytest.fixture(scope="module")
def bad_run(fault_lake, spark) -> BadRun:
    events = fault_lake.faults.events_dir
    base = templates(fault_lake.faults.base_files, DAY, 6, version=2)  # real org/resource pairs of that day

    def event(i: int, **changes) -> str:
        return json.dumps({**base[i], **changes})

    faulty = "\n".join([
        event(0, event_id="evt_fault_good_1"),
        event(1, event_id="evt_fault_good_2", service=" Network "),  # an alias: canonicalized, kept
        event(2, event_id="evt_fault_v3", schema_version=3, water_litres=2.5),
        event(3, event_id="evt_fault_service", service="quantum_annealing"),
        '{"event_id": "evt_fault_corrupt", "timestamp": "2025-07-20T01:00:00Z", "org_id": ',
    ]) + "\n" + '{"event_id": "evt_fault_trunc", "timestamp": "2025-07-2'  # cut: no final newline
    write_atomic(events / FAULTY, faulty.encode())
    # One good line, then one whose event_id holds a Latin-1 byte (0xE9, "é"): not UTF-8.
    latin1 = (event(4, event_id="evt_fault_good_3") + "\n" + event(5, event_id="evt_fault_cafX") + "\n").encode()
    latin1 = latin1.replace(b"evt_fault_cafX", b"evt_fault_caf\xe9")
    write_atomic(events / LATIN1, latin1)
    write_atomic(events / REDELIVERED, (events / "events_part_0003.jsonl").read_bytes())

    stream = fault_lake.stream("stream with bad input")
    fault_lake.step("usage with bad input", steps.USAGE, partition_key=DAY)
    return BadRun(sorted(events.glob("*.jsonl")), stream.materializations["bronze/usage_events"])


def _quarantined(spark, settings, event_id):
    rows = read(spark, settings, "quarantine", "usage_events").filter(
        F.get_json_object("raw_record", "$.event_id") == event_id).collect()
    assert len(rows) == 1, f"{event_id}: {len(rows)} quarantine rows"
    return rows[0]


def test_schema_version_3_with_an_unknown_field_is_kept_in_bronze_and_quarantined_ev07(bad_run, fault_lake, spark):
    s = fault_lake.settings
    row = read(spark, s, "bronze", "usage_events").filter("event_id = 'evt_fault_v3'").first()
    assert row.schema_version == 3 and row.schema_version_known is False
    assert json.loads(row.extra_fields) == {"water_litres": "2.5"}
    q = _quarantined(spark, s, "evt_fault_v3")
    assert q.rule_id == "EV-07" and "unknown schema_version 3" in q.reason
    assert q.source_file.endswith(FAULTY) and "water_litres" in q.raw_record
    assert read(spark, s, "silver", "usage_events").filter("event_id = 'evt_fault_v3'").count() == 0


def test_unknown_service_is_quarantined_dom02_and_an_alias_is_canonicalized(bad_run, fault_lake, spark):
    s = fault_lake.settings
    q = _quarantined(spark, s, "evt_fault_service")
    assert q.rule_id == "DOM-02" and "service='quantum_annealing' not in domain" in q.reason
    silver = {r.event_id: r for r in read(spark, s, "silver", "usage_events")
              .filter(F.col("event_id").startswith("evt_fault_")).collect()}
    assert "evt_fault_service" not in silver
    assert silver["evt_fault_good_2"].service == "networking"


def test_corrupt_and_truncated_lines_are_rejected_with_reason_and_file(bad_run, fault_lake, spark):
    rejects = read(spark, fault_lake.settings, "bronze", "usage_events_rejects").filter(
        F.col("source_file").endswith(FAULTY)).collect()
    assert sorted(r.line.split('"event_id": "')[1].split('"')[0] for r in rejects) == ["evt_fault_corrupt",
                                                                                        "evt_fault_trunc"]
    assert all(r.reason.startswith("invalid_json") for r in rejects)
    assert any(r.line.endswith('"2025-07-2') for r in rejects)  # the cut line, exactly as landed


def test_the_rest_flows_and_a_redelivered_file_adds_nothing(bad_run, fault_lake, spark):
    s = fault_lake.settings
    # Expected from the files alone; the non-UTF-8 line is judged by its own test below.
    expected = landed([f for f in bad_run.files if f.name != LATIN1])
    expected_ids = set(expected.ids) | {"evt_fault_good_3"}
    bronze = read(spark, s, "bronze", "usage_events")
    ids = [r.event_id for r in bronze.select("event_id").collect()]
    assert len(ids) == len(set(ids))
    assert expected_ids <= set(ids) and set(ids) - expected_ids <= {MANGLED_ID}
    redelivered = landed([bad_run.files[0].parent / REDELIVERED])
    assert bad_run.stream_meta["duplicates"] == redelivered.good == 48  # every line of it, and only those
    # New: good_1, good_2 (alias), v3, service (bronze keeps them; silver judges), good_3.
    assert bad_run.stream_meta["inserted"] == 5 + (MANGLED_ID in ids)

    day_ids = {i for i in expected_ids if expected.ids.get(i, DAY) == DAY}
    silver_day = {r.event_id for r in read(spark, s, "silver", "usage_events").filter(f"event_date = '{DAY}'")
                  .select("event_id").collect()}
    quarantine_day = {json.loads(r.raw_record)["event_id"] for r in read(spark, s, "quarantine", "usage_events")
                      .filter(f"partition_date = '{DAY}'").collect()}
    assert not silver_day & quarantine_day
    assert day_ids <= silver_day | quarantine_day
    assert {"evt_fault_good_1", "evt_fault_good_2", "evt_fault_good_3"} <= silver_day
    gold_events = read(spark, s, "gold", "org_daily_usage_by_service").filter(f"usage_date = '{DAY}'").agg(
        F.sum("event_count")).first()[0]
    assert gold_events == len(silver_day)
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)


def test_non_utf8_bytes_in_an_event_line_are_rejected_or_quarantined(bad_run, fault_lake, spark):
    s = fault_lake.settings
    stored = read(spark, s, "bronze", "usage_events").filter(F.col("event_id").contains("\ufffd")).count()
    in_silver = read(spark, s, "silver", "usage_events").filter(
        F.col("event_id").contains("\ufffd") | F.col("org_id").contains("\ufffd")).count()
    rejects = read(spark, s, "bronze", "usage_events_rejects").filter(F.col("source_file").endswith(LATIN1)).collect()
    quarantined = read(spark, s, "quarantine", "usage_events").filter(F.col("raw_record").contains("\ufffd")).count()
    assert in_silver == 0, "a value with undecodable bytes reached silver"
    assert (len(rejects) == 1 and "utf" in rejects[0].reason.lower()) or (stored == quarantined == 1)


def test_csv_missing_a_column_fails_naming_file_and_column_while_the_other_source_flows(fault_lake, spark):
    s = fault_lake.settings
    touches = s.landing / "marketing_touches.csv"
    original = touches.read_bytes()
    rows = list(csv.reader(io.StringIO(original.decode("utf-8"))))
    drop = rows[0].index("channel")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:drop] + r[drop + 1:] for r in rows])
    write_atomic(touches, out.getvalue().encode())
    try:
        with pytest.raises(PipelineError) as failed:
            fault_lake.step("bronze bad csv", [*steps.keys("bronze", "marketing_touches", "nps_surveys")],
                            partition_key=fault_lake.today)
    finally:
        write_atomic(touches, original)
    message = str(failed.value)
    assert "marketing_touches.csv" in message and "missing column(s) channel" in message, message
    bronze_touches = Path(table_path(str(s.lake), "bronze", "marketing_touches"))
    assert not (bronze_touches / "_delta_log").is_dir() or read(spark, s, "bronze", "marketing_touches").filter(
        f"snapshot_date = '{fault_lake.today}'").count() == 0
    # The other source of the same run was ingested in full.
    with open(s.landing / "nps_surveys.csv", newline="", encoding="utf-8") as handle:
        surveys = sum(1 for row in csv.reader(handle) if row) - 1
    assert read(spark, s, "bronze", "nps_surveys").filter(f"snapshot_date = '{fault_lake.today}'").count() == surveys
    assert_audit_passes(s, spark, [*FAULT_LAKE_LAWS, law_landing("nps_surveys")])
