"""Parsing of usage-event lines (no stream): types, reasons, unknown fields."""

import json

from cloud_analytics.bronze.events import dedupe_batch, parse_lines, to_bronze_rows

V1 = {"event_id": "evt_a", "timestamp": "2025-07-03T00:05:00Z", "org_id": "org_1", "resource_id": "res_1",
      "service": "compute", "region": "us-east", "metric": "requests", "value": 12.5, "unit": "count",
      "cost_usd_increment": 1.0, "schema_version": 1}


def _parse(spark, lines):
    df = spark.createDataFrame([(line, "f.jsonl") for line in lines], "line string, source_file string")
    return parse_lines(df)


def test_good_lines_of_both_versions_and_value_types(spark):
    v2 = {**V1, "event_id": "evt_b", "timestamp": "2025-07-18T00:01:00Z", "service": "genai", "value": "95.0",
          "schema_version": 2, "carbon_kg": 0, "genai_tokens": 1200}
    nulls = {**V1, "event_id": "evt_c", "value": None, "unit": None}
    parsed = _parse(spark, [json.dumps(V1), json.dumps(v2), json.dumps(nulls)])
    assert parsed.filter("reason is not null").count() == 0
    rows = {r.event_id: r for r in to_bronze_rows(parsed).collect()}
    assert rows["evt_a"].value == 12.5 and rows["evt_a"].value_is_string is False
    assert rows["evt_a"].carbon_kg is None and rows["evt_a"].genai_tokens is None
    assert rows["evt_b"].value == 95.0 and rows["evt_b"].value_raw == "95.0" and rows["evt_b"].value_is_string
    assert rows["evt_b"].carbon_kg == 0.0 and rows["evt_b"].genai_tokens == 1200
    assert rows["evt_b"].event_date.isoformat() == "2025-07-18"
    assert rows["evt_c"].value is None and rows["evt_c"].value_raw is None and rows["evt_c"].unit is None
    assert all(r.cast_errors is None and r.extra_fields is None and r.schema_version_known for r in rows.values())


def test_reject_reasons(spark):
    lines = [
        '{"event_id": "evt_x", "timest',                      # truncated
        "not json at all",
        "[1, 2]",                                              # JSON, not an object
        json.dumps({**V1, "event_id": None}),
        json.dumps({k: v for k, v in V1.items() if k != "timestamp"}),
        json.dumps({**V1, "timestamp": "yesterday"}),
        "   ",                                                 # blank: not a record
    ]
    reasons = [r.reason for r in _parse(spark, lines).collect()]
    assert [r.split(":")[0] if r else None for r in reasons] == [
        "invalid_json", "invalid_json", "invalid_json", "missing_event_id", "missing_timestamp",
        "invalid_timestamp", None,
    ]


def test_unknown_version_and_fields_are_kept_not_dropped(spark):
    v3 = {**V1, "event_id": "evt_v3", "schema_version": 3, "water_litres": 1.5, "labels": {"team": "ml"}}
    row = to_bronze_rows(_parse(spark, [json.dumps(v3)])).first()
    assert row.schema_version == 3 and row.schema_version_known is False
    assert json.loads(row.extra_fields) == {"water_litres": "1.5", "labels": '{"team":"ml"}'}


def test_unparseable_number_is_kept_in_cast_errors(spark):
    bad = {**V1, "value": "12,5", "cost_usd_increment": "n/a"}
    row = to_bronze_rows(_parse(spark, [json.dumps(bad)])).first()
    assert row.value is None and row.value_raw == "12,5"
    assert row.cast_errors == {"value": "12,5", "cost_usd_increment": "n/a"}


def test_dedupe_within_a_batch_keeps_one_row_per_event(spark):
    df = spark.createDataFrame([(json.dumps(V1), "b.jsonl"), (json.dumps(V1), "a.jsonl"),
                                (json.dumps({**V1, "event_id": "evt_z"}), "a.jsonl")],
                               "line string, source_file string")
    rows = dedupe_batch(to_bronze_rows(parse_lines(df))).collect()
    assert sorted((r.event_id, r.source_file) for r in rows) == [("evt_a", "a.jsonl"), ("evt_z", "a.jsonl")]
