"""The chaos soak, short form (``benchmarks/soak.py`` runs it for twenty minutes).

Three minutes of live feed through the real automation (the Dagster daemon's sensors, run queue
and retries; the Spark service; a Cassandra node of the soak's own) while a stream run, a refresh
run, the Spark service, the Cassandra node and the daemon are each SIGKILLed once, at offsets
drawn from the seed. Then, the feed stopped and everything running again: the runs catch up and
the audit holds (every landed event in exactly one place, Cassandra equal to gold), no alert is
raised twice, and every landed file was read by a successful stream run.
"""

from __future__ import annotations

from collections import Counter

import pytest

from cloud_analytics_tests.chaos.soak import KINDS, Soak, report, schedule

SEED, MINUTES, RATE = 7, 3.0, 6.0


@pytest.mark.fast
def test_the_kill_schedule_depends_on_the_seed_only():
    first = schedule(SEED, MINUTES, 5)
    assert first == schedule(SEED, MINUTES, 5)
    assert sorted(k.kind for k in first) == sorted(KINDS)  # every kind once
    assert all(60 <= k.at_s <= MINUTES * 60 - 60 for k in first)
    assert [k.at_s for k in first] == sorted(k.at_s for k in first)
    assert schedule(SEED + 1, MINUTES, 5) != first
    # Twelve kills over twenty minutes: every kind twice, two more drawn without repeat.
    counts = Counter(k.kind for k in schedule(SEED, 20, 12))
    assert set(counts) == set(KINDS) and sum(counts.values()) == 12 and set(counts.values()) <= {2, 3}


@pytest.mark.soak
def test_a_live_feed_survives_kills_and_the_audit_holds(tmp_path, test_env):
    soak = Soak(tmp_path / "soak", seed=SEED, minutes=MINUTES, rate_per_min=RATE, kills=len(KINDS))
    files = int(MINUTES * RATE)
    try:
        caught_up, audit, figures = soak.soak(files)
        print(report(soak, figures, caught_up, audit))
        killed = [e.kind for e in figures["kills"] if e.target != "none"]
        # The servers and the daemon are always there to kill; a run may have finished first.
        assert {"spark_service", "cassandra", "daemon"} <= set(killed), figures["kills"]
        assert "(exit 0)" in audit and "all" in audit, audit[-4000:]
        assert len(soak.landed) == files
        assert None not in figures["freshness_s"], "a landed file was never read by a successful stream run"
        assert soak.duplicate_alerts() == {}, "an alert was raised twice"
    finally:
        soak.stop_all()
