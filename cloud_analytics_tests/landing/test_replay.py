"""Staging a future feed and replaying it into landing: shifted, re-keyed, atomic, nothing lost."""

import json
from datetime import datetime, timedelta

import pytest

from cloud_analytics.landing.replay import ReplayError, replay, stage_feed, staged_files


def _write(folder, name, events, extra_lines=()):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e) for e in events] + list(extra_lines)
    (folder / name).write_text("".join(f"{l}\n" for l in lines))


def _event(n, ts):
    return {"event_id": f"evt_{n}", "timestamp": ts, "org_id": "org_a", "cost_usd_increment": 1.0}


def test_stage_shifts_rekeys_and_slices_by_event_time(tmp_path):
    landing = tmp_path / "landing"
    # Two files each spanning the range, as the landed data does; one corrupt line.
    _write(landing, "events_part_0000.jsonl", [_event(1, "2025-07-01T00:05:00Z"), _event(3, "2025-08-30T10:00:00Z")],
           ["{corrupt"])
    _write(landing, "events_part_0001.jsonl", [_event(2, "2025-07-02T12:00:00Z"), _event(4, "2025-08-31T23:59:00Z")])
    result = stage_feed(landing, tmp_path / "staging", shift_days=60, files=2)
    assert (result.files, result.events, result.passthrough_lines) == (2, 4, 1)
    files = staged_files(tmp_path / "staging")
    staged = [[json.loads(l) if l.startswith("{\"") else l for l in f.read_text().splitlines()] for f in files]
    # First file: the two earliest events (plus the corrupt line, passed through); second: the two latest.
    assert [e["event_id"] for e in staged[0] if isinstance(e, dict)] == ["evt_1_r60", "evt_2_r60"]
    assert "{corrupt" in staged[0]
    assert [e["event_id"] for e in staged[1]] == ["evt_3_r60", "evt_4_r60"]
    original = datetime(2025, 8, 31, 23, 59)
    assert staged[1][1]["timestamp"] == (original + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_replay_lands_each_file_atomically_and_never_overwrites(tmp_path):
    staging, landing = tmp_path / "staging", tmp_path / "landing"
    for i in range(3):
        _write(staging, f"events_live_{i}.jsonl", [_event(i, "2025-09-01T00:00:00Z")])
    seen = []
    assert replay(staging, landing, rate_per_min=6000, on_landed=lambda p, _t: seen.append(p.name),
                  log=lambda _m: None) == 3
    assert seen == [f"events_live_{i}.jsonl" for i in range(3)]
    assert sorted(p.name for p in landing.iterdir()) == seen  # no temp file left behind
    assert staged_files(staging) == []
    _write(staging, "events_live_0.jsonl", [_event(9, "2025-09-01T00:00:00Z")])
    with pytest.raises(ReplayError, match="already landed"):
        replay(staging, landing, rate_per_min=6000, log=lambda _m: None)
    with pytest.raises(ReplayError, match="no staged event files"):
        replay(tmp_path / "empty", landing, rate_per_min=6, log=lambda _m: None)
