"""Starting, stopping and inspecting the whole cluster (``cloud-analytics cluster``).

Start-up runs four chains at once, since none waits for another until the driver: PostgreSQL,
then Dagster's database; SeaweedFS, then the lake's bucket; the Spark master, then its workers;
the three Cassandra nodes, one after the other (a node joins the ring through the seed, and two
joining at once would race for the same token ranges). Then the Spark service (the driver, which
needs the master and the object store) and last the Dagster daemon (which needs Postgres and
loads the definitions with the cluster's settings). Stop goes the other way.
"""

from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

from cloud_analytics.cluster.layout import CASSANDRA_TOKENS, ClusterLayout
from cloud_analytics.cluster.servers import (
    ClusterError,
    DagsterDaemon,
    Postgres,
    SeaweedFS,
    SparkMaster,
    SparkWorker,
)
from cloud_analytics.config import REPO_ROOT, Settings
from cloud_analytics.lib.lake_files import s3_filesystem
from cloud_analytics.lib.processes import LocalServer
from cloud_analytics.resources.spark import SparkSetupError, s3_jars
from cloud_analytics.resources.spark_service import SparkService
from cloud_analytics.serving.local_node import LocalNode

SETUP_HINT = "run `scripts/setup.sh cluster` (`make cluster-start` does)"


@dataclass(frozen=True)
class Cluster:
    layout: ClusterLayout
    base: Settings  # this process's settings (the landing folder, the pepper, the jars)

    @cached_property
    def settings(self) -> Settings:
        """The platform's settings on the cluster (what ``cluster env`` exports)."""
        return self.layout.settings(self.base)

    @cached_property
    def environment(self) -> dict[str, str]:
        return self.layout.environment(self.base)

    # -- the servers -----------------------------------------------------------

    @cached_property
    def postgres(self) -> Postgres:
        return Postgres(home=self.layout.home / "postgres", port=self.layout.postgres_port,
                        user=self.layout.postgres_user, database=self.layout.postgres_db,
                        password=self.environment["DAGSTER_PG_PASSWORD"])

    @cached_property
    def object_store(self) -> SeaweedFS:
        layout = self.layout
        return SeaweedFS(home=layout.home / "seaweedfs", port=layout.s3_port, master_port=layout.seaweed_master_port,
                         volume_port=layout.seaweed_volume_port, filer_port=layout.seaweed_filer_port,
                         admin_port=layout.seaweed_admin_port,
                         access_key=self.settings.s3_access_key, secret_key=self.settings.s3_secret_key)

    @cached_property
    def master(self) -> SparkMaster:
        return SparkMaster(home=self.layout.home / "spark", port=self.layout.spark_master_port,
                           ui_port=self.layout.spark_master_ui_port)

    @cached_property
    def workers(self) -> tuple[SparkWorker, ...]:
        layout = self.layout
        return tuple(SparkWorker(home=layout.home / "spark" / f"worker{i + 1}", master_url=layout.spark_master_url,
                                 port=layout.spark_worker_port + i, ui_port=layout.spark_worker_ui_port + i,
                                 memory=layout.spark_worker_memory)
                     for i in range(layout.spark_workers))

    @cached_property
    def spark_service(self) -> SparkService:
        return SparkService.from_settings(self.settings)

    @cached_property
    def cassandra_nodes(self) -> tuple[LocalNode, ...]:
        layout = self.layout
        return tuple(LocalNode(home=layout.home / "cassandra" / f"node{i + 1}", jars_dir=self.base.jars_dir / "cassandra",
                               address=host, port=layout.cassandra_port, storage_port=layout.cassandra_storage_port,
                               heap=layout.cassandra_heap, cluster_name="cloud_analytics_cluster",
                               seed=layout.cassandra_hosts[0], initial_token=CASSANDRA_TOKENS[i],
                               java_home=self.base.cassandra_java_home)
                     for i, host in enumerate(layout.cassandra_hosts))

    @cached_property
    def daemon(self) -> DagsterDaemon:
        return DagsterDaemon(home=self.layout.home / "dagster", environment=tuple(self.environment.items()))

    def servers(self) -> list[tuple[str, LocalServer]]:
        """Every server, named, in start order."""
        named: list[tuple[str, LocalServer]] = [("postgres", self.postgres), ("object store", self.object_store),
                                                ("spark master", self.master)]
        named += [(f"spark worker {i + 1}", w) for i, w in enumerate(self.workers)]
        named += [(f"cassandra {n.address}", n) for n in self.cassandra_nodes]
        named += [("spark service", self.spark_service), ("dagster daemon", self.daemon)]
        return named

    # -- start -----------------------------------------------------------------

    def check_setup(self) -> None:
        """What the cluster needs beyond `make setup`, or one error naming what is missing."""
        try:
            s3_jars(self.base.jars_dir)
        except SparkSetupError as exc:
            raise ClusterError(str(exc)) from None
        if importlib.util.find_spec("dagster_postgres") is None:
            raise ClusterError(f"dagster-postgres is not installed: {SETUP_HINT}.")
        from cloud_analytics.cluster.servers import postgres_bin, weed_binary

        weed_binary()
        postgres_bin("postgres")

    def write_dagster_yaml(self) -> None:
        """The production instance config (deploy/dagster.production.yaml: Postgres storage, the
        queued run coordinator, retries, run monitoring), its compute logs under the cluster's home."""
        text = (REPO_ROOT / "deploy" / "dagster.production.yaml").read_text()
        text = text.replace("/var/lib/dagster/compute_logs", str(self.layout.home / "dagster" / "compute_logs"))
        home = self.layout.dagster_home
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(text)

    def create_bucket(self) -> None:
        import pyarrow.fs as pafs

        store = self.settings.object_store
        fs = s3_filesystem(store, allow_bucket_creation=True)
        if fs.get_file_info(self.layout.bucket).type != pafs.FileType.Directory:
            fs.create_dir(self.layout.bucket)

    def start(self, timeout_s: float = 180.0, log=print) -> float:
        """Start every server that is not running; returns the seconds it took."""
        started = time.monotonic()
        self.check_setup()
        self.write_dagster_yaml()

        def chain(*steps):
            for step in steps:
                step()

        go = lambda server: (lambda: server.start(timeout_s=timeout_s, log=log))  # noqa: E731
        chains = [
            (go(self.postgres), self.postgres.ensure_database),
            (go(self.object_store), self.create_bucket),
            (go(self.master), *[go(w) for w in self.workers]),
            tuple(go(node) for node in self.cassandra_nodes),
        ]
        with ThreadPoolExecutor(len(chains)) as pool:
            futures = [pool.submit(chain, *steps) for steps in chains]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]
        self.spark_service.start(timeout_s=timeout_s, log=log)
        self.daemon.start(timeout_s=timeout_s, log=log)
        seconds = time.monotonic() - started
        log(f"cluster ready after {seconds:.1f} s; point commands at it with: eval \"$(cloud-analytics cluster env)\"")
        return seconds

    # -- stop and status -------------------------------------------------------

    def stop(self, log=print) -> None:
        """Stop every server, the last started first (a stopped one is skipped)."""
        for _name, server in reversed(self.servers()):
            server.stop(log=log)

    def status(self) -> list[tuple[str, str, bool]]:
        """(name, status line, running) of every server."""
        return [(name, server.status(), server.is_running()) for name, server in self.servers()]
