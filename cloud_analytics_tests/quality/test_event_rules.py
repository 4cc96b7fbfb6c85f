"""Every usage_events rule and action on one tiny frame: one row per case, expectations literal."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from cloud_analytics.quality import evaluate
from cloud_analytics.quality.model import Policy
from cloud_analytics_tests.quality.frames import events, refs

# event_id → the row's overrides of a valid event
CASES = {
    "evt_ok": {},
    "evt_alias": {"service": " Compute ", "region": "us_east"},
    "evt_v3": {"schema_version": 3, "schema_version_known": False},
    "evt_nan": {"value": None, "value_raw": "abc", "cast_errors": {"value": "abc"}},
    "evt_empty": {"value": None, "value_raw": None, "unit": None},
    "evt_cast": {"cost_usd_increment": None, "cast_errors": {"cost_usd_increment": "n/a"}},
    "evt_org": {"org_id": "org_zz"},
    "evt_res_missing": {"resource_id": "res_zz"},
    "evt_res_foreign": {"resource_id": "res_b"},
    "evt_dom": {"service": "quantum"},
    "evt_unit": {"unit": None, "metric": "cpu_hours", "value": 2.5, "value_raw": "2.5"},
    "evt_unit_blank": {"unit": "", "metric": "storage_gb_hours"},
    "evt_neg": {"cost_usd_increment": -0.5},
    "evt_neg_noise": {"cost_usd_increment": -0.005},
    "evt_neg_edge": {"cost_usd_increment": -0.01},
    "evt_no_region": {"region": "  "},
    "evt_no_service_metric": {"service": None, "metric": ""},
    "evt_no_value": {"value": None, "value_raw": None},
    "evt_tok_compute": {"genai_tokens": 100},
    "evt_tok_genai": {"service": "genai", "genai_tokens": 100},
    "evt_tok_v1": {"service": "genai", "genai_tokens": 100, "schema_version": 1},
    "evt_early": {"event_date": date(2025, 6, 1), "event_ts": datetime(2025, 6, 1, 3, 0)},
    "evt_multi": {"schema_version": 9, "schema_version_known": False, "org_id": "org_zz"},
}

KEPT = {  # event_id → (dq_flags, unit after fixes)
    "evt_ok": ([], "count"),
    "evt_alias": ([], "count"),
    "evt_unit": (["EV-03"], "hours"),
    "evt_unit_blank": (["EV-03"], "gb_hours"),
    "evt_neg_noise": ([], "count"),
    "evt_neg_edge": ([], "count"),
    "evt_no_value": (["EV-09"], "count"),
    "evt_tok_compute": (["EV-06"], "count"),
    "evt_tok_genai": ([], "count"),
    "evt_tok_v1": (["EV-06"], "count"),
    "evt_early": (["TI-01"], "count"),
}

QUARANTINED = {  # event_id → (rule_id, rule_ids, reason)
    "evt_v3": ("EV-07", ["EV-07"], "EV-07: unknown schema_version 3"),
    "evt_nan": ("EV-02", ["EV-02", "CAST-01"], "EV-02: value not a number: value_raw='abc'"),
    "evt_empty": ("EV-04", ["EV-04"], "EV-04: value or unit is present (an event with neither measures nothing)."),
    "evt_cast": ("CAST-01", ["CAST-01"], "CAST-01: value(s) not of their column type: cost_usd_increment='n/a'"),
    "evt_org": ("RI-01", ["RI-01", "RI-02"], "RI-01: org_id='org_zz' not found in customers_orgs"),
    "evt_res_missing": ("RI-02", ["RI-02"], "RI-02: resource_id='res_zz' not found in resources"),
    "evt_res_foreign": ("RI-02", ["RI-02"], "RI-02: resource_id='res_b' belongs to org 'org_b', not to org_id='org_a'"),
    "evt_dom": ("DOM-02", ["DOM-02"], "DOM-02: service='quantum' not in domain"),
    "evt_neg": ("EV-05", ["EV-05"], "EV-05: cost_usd_increment='-0.5' below the minimum -0.01"),
    "evt_no_region": ("EV-08", ["EV-08"], "EV-08: missing region"),
    "evt_no_service_metric": ("EV-08", ["EV-08"], "EV-08: missing service, metric"),
    "evt_multi": ("EV-07", ["EV-07", "RI-01", "RI-02"], "EV-07: unknown schema_version 9"),
}


@pytest.fixture(scope="module")
def outcome(spark):
    df = events(spark, *[{"event_id": eid, **o} for eid, o in CASES.items()])
    ev = evaluate(df, "usage_events", refs(spark))
    kept = {r.event_id: r for r in ev.kept.collect()}
    quarantined = {json.loads(r.raw_record)["event_id"]: r for r in ev.quarantined.collect()}
    return df, ev, kept, quarantined


def test_cases_cover_every_row_once(outcome):
    df, _, kept, quarantined = outcome
    assert set(kept) == set(KEPT) and set(quarantined) == set(QUARANTINED)
    assert len(kept) + len(quarantined) == df.count() == len(CASES)


@pytest.mark.parametrize("event_id", sorted(KEPT))
def test_kept_rows_flags_and_fixes(outcome, event_id):
    row = outcome[2][event_id]
    assert (row.dq_flags, row.unit) == KEPT[event_id]


@pytest.mark.parametrize("event_id", sorted(QUARANTINED))
def test_quarantined_rows(outcome, event_id):
    row = outcome[3][event_id]
    assert (row.rule_id, row.rule_ids, row.reason) == QUARANTINED[event_id]
    assert row.table == "usage_events" and row.severity == "error"
    assert row.source_file == "events_part_0000.jsonl" and row.partition_date == date(2025, 7, 20)


def test_raw_record_is_the_input_row(outcome):
    raw = json.loads(outcome[3]["evt_nan"].raw_record)
    assert raw["value_raw"] == "abc" and raw["cast_errors"] == {"value": "abc"} and "value" not in raw
    assert raw["event_ts"].startswith("2025-07-20T10:05:00")


def test_kept_rows_keep_bronze_columns_and_values(outcome):
    _, ev, kept, _ = outcome
    assert ev.kept.columns == outcome[0].columns + ["dq_flags"]
    assert kept["evt_alias"].service == " Compute "  # canonical names are silver's job
    assert kept["evt_unit"].value == 2.5


def test_duplicate_event_ids_keep_the_first_ingested_copy(spark):
    df = events(
        spark,
        {"event_id": "evt_dup", "ingest_ts": datetime(2025, 9, 2), "source_file": "events_part_0007.jsonl"},
        {"event_id": "evt_dup", "ingest_ts": datetime(2025, 9, 1), "source_file": "events_part_0009.jsonl"},
        {"event_id": "evt_dup", "ingest_ts": datetime(2025, 9, 3), "source_file": "events_part_0001.jsonl"},
        {"event_id": None, "source_file": "events_part_0002.jsonl"},
    )
    ev = evaluate(df, "usage_events", refs(spark))
    assert [(r.event_id, r.source_file) for r in ev.kept.collect()] == [("evt_dup", "events_part_0009.jsonl")]
    rows = sorted((r.source_file, r.rule_id, r.reason) for r in ev.quarantined.collect())
    assert rows == [
        ("events_part_0001.jsonl", "EV-01", "EV-01: duplicate of event_id='evt_dup' (extra copy)"),
        ("events_part_0002.jsonl", "EV-01", "EV-01: event_id missing"),
        ("events_part_0007.jsonl", "EV-01", "EV-01: duplicate of event_id='evt_dup' (extra copy)"),
    ]


def test_flag_only_policy_keeps_costs_below_the_minimum_as_flagged_credits(spark):
    df = events(spark, {"event_id": "evt_neg", "cost_usd_increment": -0.5},
                {"event_id": "evt_neg_noise", "cost_usd_increment": -0.005})
    ev = evaluate(df, "usage_events", refs(spark), Policy(negative_costs="flag"))
    assert ev.quarantined.count() == 0
    assert sorted((r.event_id, r.dq_flags) for r in ev.kept.collect()) == [("evt_neg", ["EV-05"]), ("evt_neg_noise", [])]


def test_the_minimum_cost_increment_is_configurable(spark):
    df = events(spark, {"event_id": "evt_a", "cost_usd_increment": -0.5},
                {"event_id": "evt_b", "cost_usd_increment": -1.5})
    ev = evaluate(df, "usage_events", refs(spark), Policy(min_cost_increment=-1.0))
    assert [r.event_id for r in ev.kept.collect()] == ["evt_a"]
    assert [(r.rule_id, r.reason) for r in ev.quarantined.collect()] == [
        ("EV-05", "EV-05: cost_usd_increment='-1.5' below the minimum -1.0")]


def test_an_unknown_negative_cost_action_is_refused():
    with pytest.raises(ValueError, match="negative_costs must be"):
        Policy(negative_costs="drop")
