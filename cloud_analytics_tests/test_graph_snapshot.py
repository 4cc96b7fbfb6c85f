"""The first tier of ``make test``: the asset graph (asset keys, groups, partitions, deps,
check keys) and the jobs' selections against a reviewed snapshot. It needs no Spark and no
Cassandra and fails in seconds when a change moves the graph by accident.

When the graph changes on purpose, regenerate the snapshot and review its diff:
``CLOUD_ANALYTICS_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest cloud_analytics_tests/test_graph_snapshot.py``
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"
pytestmark = pytest.mark.fast


def _partitions(pd) -> str | None:
    if pd is None:
        return None
    name = getattr(pd, "name", None)
    start = getattr(pd, "start", None)
    return ":".join(str(p) for p in (type(pd).__name__, name, start and start.date()) if p)


def graph_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
        }
    jobs = {}
    for job in sorted(defs.jobs or [], key=lambda j: j.name):
        resolved = defs.resolve_job_def(job.name)
        keys = resolved.asset_layer.executable_asset_keys if resolved.asset_layer else set()
        jobs[job.name] = sorted(k.to_user_string() for k in keys)
    return {"assets": assets, "jobs": jobs}


def test_asset_graph_and_job_selections_match_the_snapshot(settings):
    from cloud_analytics.definitions import build_definitions

    current = json.dumps(graph_snapshot(build_definitions(settings)), indent=1, sort_keys=True) + "\n"
    if os.environ.get("CLOUD_ANALYTICS_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    expected = SNAPSHOT.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "snapshot", "now"))
    assert current == expected, "the asset graph changed (regenerate the snapshot if on purpose):\n" + diff
