"""Benchmark: cluster mode against local mode, on the same landing data.

    .venv/bin/python benchmarks/cluster.py [--scale 1] [--root DIR] [--keep] [--skip-local]

1. ``cluster start`` from nothing (a new cluster home): seconds, and each server's resident
   memory once all are up;
2. local mode: ``cloud-analytics run`` as ``make run`` runs it on a fresh machine (an in-process
   Spark session, one Cassandra node, Dagster on SQLite), in a lake, keyspace and instance of
   its own;
3. cluster mode: ``cloud-analytics run`` with the variables of ``cloud-analytics cluster env``
   (the Spark service on the standalone cluster, the lake on SeaweedFS, Cassandra RF=3, Dagster
   on Postgres);
4. the ratio of the two wall times (the budget: cluster ≤ 2× local), and each run's audit.

Both runs print their step times; the load average is printed at each stage. Run it alone on
the machine: the cluster alone is nine JVMs and servers on two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloud_analytics.cluster.control import Cluster  # noqa: E402
from cloud_analytics.cluster.layout import ClusterLayout  # noqa: E402
from cloud_analytics.config import REPO_ROOT, load_settings  # noqa: E402
from cloud_analytics.serving.local_node import LocalNode  # noqa: E402
from cloud_analytics_tests.browser.web import free_port  # noqa: E402

CLI = str(Path(sys.executable).with_name("cloud-analytics"))


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (a worker's executors, a daemon's
    code server), MiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
        except (OSError, StopIteration):
            continue
    return total / 1024


def timed_run(env: dict[str, str], label: str, log: Path) -> tuple[float, int, str]:
    print(f"\n== {label}: cloud-analytics run ({load()})", flush=True)
    started = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.run([CLI, "run"], env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - started
    text = log.read_text()
    steps = [line for line in text.splitlines() if line.startswith(("bronze:", "silver:", "gold:", "serving:"))]
    verdict = next((line for line in reversed(text.splitlines()) if line.startswith("audit")), "no audit line")
    print("\n".join(f"  {line}" for line in steps))
    print(f"  {label}: {seconds:.1f} s, exit {code}; {verdict.strip()} ({load()})", flush=True)
    return seconds, code, verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="scale of the generated landing data (default 1)")
    parser.add_argument("--root", help="work folder (default: a new temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and leave the cluster running")
    parser.add_argument("--skip-local", action="store_true", help="only the cluster (start and run)")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="cluster-bench-"))
    root.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder
    landing = root / "landing"
    from cloud_analytics.landing.generator import generate

    generate(landing, scale=args.scale, seed=42)
    # The daemon's sensors off: its own stream run beside the measured one would share the cores.
    base = {**os.environ, "CLOUD_ANALYTICS_LANDING": str(landing), "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": "cloud_analytics_bench",
            "CLOUD_ANALYTICS_SENSORS": "false"}
    os.environ["CLOUD_ANALYTICS_SENSORS"] = "false"  # the daemon inherits this process's environment
    print(f"scale {args.scale} landing in {landing}; {load()}", flush=True)

    layout = ClusterLayout(home=root / "cluster")
    cluster = Cluster(layout, load_settings(environ=base))
    node = None
    try:
        print(f"\n== cluster start ({load()})", flush=True)
        seconds = cluster.start(timeout_s=300, log=lambda msg: print(f"  {msg}", flush=True))
        print(f"cluster start: {seconds:.1f} s ({load()})")
        memory = {name: rss_mib(server.pid()) for name, server in cluster.servers() if server.pid()}
        for name, mib in memory.items():
            print(f"  {name:<22} {mib:>7,.0f} MiB")
        print(f"  {'total':<22} {sum(memory.values()):>7,.0f} MiB")
        cluster_env = {**base, **cluster.environment}
        results = {}
        if not args.skip_local:
            # Local mode beside the cluster would share the cores: stop the cluster for it.
            cluster.stop(log=lambda _msg: None)
            ports = {"cql": free_port(), "storage": free_port()}
            local_env = {**base, "CLOUD_ANALYTICS_LAKE": str(root / "local" / "datalake"),
                         "CLOUD_ANALYTICS_CASSANDRA_HOSTS": "127.0.0.1",
                         "CLOUD_ANALYTICS_CASSANDRA_PORT": str(ports["cql"]),
                         "CLOUD_ANALYTICS_CASSANDRA_STORAGE_PORT": str(ports["storage"]),
                         "CLOUD_ANALYTICS_CASSANDRA_HOME": str(root / "local" / "cassandra"),
                         "CLOUD_ANALYTICS_SPARK_SERVICE": "off",
                         "DAGSTER_HOME": str(root / "local" / "dagster_home")}
            Path(local_env["DAGSTER_HOME"]).mkdir(parents=True)
            shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", Path(local_env["DAGSTER_HOME"]) / "dagster.yaml")
            node = LocalNode.from_settings(load_settings(environ=local_env))
            node.start(log=lambda _msg: None)
            results["local"] = timed_run(local_env, "local mode", root / "local.log")
            node.stop(log=lambda _msg: None)
            node = None
            cluster.start(timeout_s=300, log=lambda _msg: None)
        results["cluster"] = timed_run(cluster_env, "cluster mode", root / "cluster.log")
        print("\n== summary")
        print(f"cluster start (cold): {seconds:.1f} s; memory of the running cluster: "
              f"{sum(memory.values()):,.0f} MiB")
        for label, (wall, code, verdict) in results.items():
            print(f"{label:<8} run: {wall:.1f} s, exit {code}, {verdict.strip()}")
        if "local" in results:
            print(f"cluster / local: {results['cluster'][0] / results['local'][0]:.2f}×")
        print(f"({load()} at the end)")
        return 0 if all(code == 0 for _w, code, _v in results.values()) else 1
    finally:
        if node is not None:
            node.stop(log=lambda _msg: None)
        if not args.keep:
            cluster.stop(log=lambda _msg: None)
            if not args.root:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
