"""The fault lake: an isolated lake and keyspace for the fault-injection and security tests.

The session fixtures share one test lake whose exact figures other tests assert, so nothing
here touches it: this package gets its own temporary lake, its own Cassandra keyspace on the
session's test node, its own Dagster instance, and small data (seed 7, a few event files cut
to eight days). Secrets given to resources as ``EnvVar`` (the Cassandra password and the
pepper) resolve from the environment, so they must be the
fault lake's values: the package exports them for its lifetime and restores the session's
afterwards. Nothing inside a layer reads the environment (``test_two_lakes.py`` proves it). Runs go through
``runner.run_step`` with explicit selections (not ``materialize_all``): only the assets the
tests need, so the package stays within a few minutes.

The secrets are recognizable canaries so the security tests can look for them in every log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cloud_analytics.config import REPO_ROOT, Settings, load_settings
from cloud_analytics_tests.faults.helpers import EVENT_DAYS, EVENTS_SUBDIR, trim_events

FAULT_KEYSPACE = "cloud_analytics_faults"
CANARY_PASSWORD = "canary-cassandra-password-7f3a9c51"
CANARY_PEPPER = "canary-pii-pepper-5d1e8b2c4a9f0e6d"
CANARY_TOKEN = "AstraCS:canary-token-0b9e77aa"
EVENT_FILES = 8


@dataclass
class Faults:
    settings: Settings
    env: dict[str, str]
    root: Path
    base_files: list[Path]  # the generated event files, before any test lands more

    @property
    def events_dir(self) -> Path:
        return self.settings.landing / EVENTS_SUBDIR


@pytest.fixture(scope="package")
def faults(test_env, settings, spark, tmp_path_factory):
    """Settings of the fault lake, exported to the environment while the package runs.

    ``settings`` and ``spark`` are requested first so the session's own objects are built
    from the session's environment, never from this package's."""
    from cloud_analytics.landing.generator import generate

    root = tmp_path_factory.mktemp("faults")
    lake = root / "datalake"
    env = {
        "CLOUD_ANALYTICS_LAKE": str(lake),
        "CLOUD_ANALYTICS_LANDING": str(lake / "landing"),
        "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": FAULT_KEYSPACE,
        "CLOUD_ANALYTICS_PII_PEPPER": CANARY_PEPPER,
        "CLOUD_ANALYTICS_CASSANDRA_PASSWORD": CANARY_PASSWORD,
        "CLOUD_ANALYTICS_ASTRA_TOKEN": CANARY_TOKEN,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        fault_settings = load_settings(dotenv=REPO_ROOT / ".env.does-not-exist")
        assert fault_settings.lake != settings.lake and fault_settings.cassandra_keyspace != settings.cassandra_keyspace
        generate(fault_settings.landing, scale=1, seed=7)
        base_files = trim_events(fault_settings.landing / EVENTS_SUBDIR, EVENT_FILES)
        yield Faults(fault_settings, env, root, base_files)


@dataclass
class FaultLake:
    """The fault lake built once through serving for the event days (see ``fault_lake``)."""

    faults: Faults
    instance: object
    resources: dict
    today: str
    days: tuple[str, str]

    @property
    def settings(self) -> Settings:
        return self.faults.settings

    def step(self, name: str, keys, partition_key: str | None = None, partition_range=None,
             instance=None):
        from cloud_analytics_tests.faults.steps import step

        return step(name, keys, self.resources, instance or self.instance, partition_key, partition_range)

    def stream(self, name: str = "stream"):
        from cloud_analytics_tests.faults.steps import stream_step

        return stream_step(name, self.resources, self.instance)


@pytest.fixture(scope="package")
def fault_lake(cassandra_node, spark, faults):
    """Bronze (orgs, resources, events), silver (the same), the usage gold mart behind q1/q2
    and its Cassandra table, for the eight event days, in a fresh ephemeral instance."""
    from dagster import DagsterInstance

    from cloud_analytics.definitions import build_resources
    from cloud_analytics.partitions import snapshot_daily
    from cloud_analytics_tests.faults import steps

    today = snapshot_daily.get_last_partition_key()
    days = (EVENT_DAYS[0], EVENT_DAYS[-1])
    with DagsterInstance.ephemeral() as instance:
        lake = FaultLake(faults, instance, build_resources(faults.settings), today, days)
        lake.step("dims", [*steps.BRONZE_DIMS, *steps.SILVER_DIMS], partition_key=today)
        lake.stream("bronze stream")
        lake.step("usage", steps.USAGE, partition_range=days)
        yield lake
