"""The one Definitions object loads, and Dagster's own validation accepts the workspace."""

import os
import subprocess
import sys

from cloud_analytics.config import REPO_ROOT


def test_definitions_load_lazily():
    from cloud_analytics.definitions import defs

    repo = defs().get_repository_def()  # built on call (``@definitions``), not at import
    assert {"spark", "lake", "cassandra", "quality"} <= set(repo.get_top_level_resources())


def test_dagster_definitions_validate(test_env):
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr
