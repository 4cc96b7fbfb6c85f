"""One cluster for the module: started by ``Cluster.start`` (what ``cloud-analytics cluster start``
runs) in a home of its own, over small landing data (the fault lake's: seed 7, eight event files
of eight days), stopped and removed at the end.

`make test` runs these tests last and alone, inside a network namespace with only loopback
(scripts/loopback-only.sh): the cluster's default ports are then free whatever runs on the
machine, and a server that tried to reach another address would fail the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cloud_analytics.cluster.control import Cluster
from cloud_analytics.cluster.layout import ClusterLayout
from cloud_analytics.config import REPO_ROOT, load_settings

CLI = str(Path(sys.executable).with_name("cloud-analytics"))


class ClusterWorld:
    """The started cluster, its variables and a way to run the CLI against it."""

    def __init__(self, cluster: Cluster, landing: Path, root: Path):
        self.cluster = cluster
        self.landing = landing
        self.root = root
        self.env = {**os.environ, **cluster.environment}
        self.settings = load_settings(environ=self.env, dotenv=REPO_ROOT / ".env.does-not-exist")

    def cli(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        done = subprocess.run([CLI, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout)
        print(f"$ cloud-analytics {' '.join(args)}: exit {done.returncode} in {time.monotonic() - started:.0f} s")
        if check:
            assert done.returncode == 0, f"cloud-analytics {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        return done

    def popen(self, *args: str, log: Path) -> subprocess.Popen:
        out = open(log, "wb")
        return subprocess.Popen([CLI, *args], env=self.env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def cluster():
    from cloud_analytics.landing.generator import generate
    from cloud_analytics_tests.faults.helpers import trim_events

    # Not under pytest's temporary folder (mode 0700): PostgreSQL runs as its own user and must
    # reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="cloud-analytics-cluster-"))
    root.chmod(0o755)
    landing = root / "landing"
    generate(landing, scale=1, seed=7)
    trim_events(landing / "usage_events_stream", 8)
    layout = ClusterLayout(home=root / "cluster")
    base = load_settings(environ={**os.environ, "CLOUD_ANALYTICS_LANDING": str(landing)},
                         dotenv=REPO_ROOT / ".env.does-not-exist")
    world = ClusterWorld(Cluster(layout, base), landing, root)
    # The daemon runs, with its sensors off: the tests' own runs are the only ones (a sensor's stream
    # run beside `cloud-analytics run` is safe, the runner waits for it, but doubles the work).
    env = pytest.MonkeyPatch()
    env.setenv("CLOUD_ANALYTICS_SENSORS", "false")
    try:
        seconds = world.cluster.start(timeout_s=240)
        print(f"cluster started in {seconds:.1f} s")
        yield world
    finally:
        env.undo()
        world.cluster.stop(log=lambda _msg: None)
        shutil.rmtree(root, ignore_errors=True)
