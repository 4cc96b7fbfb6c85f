"""The chaos soak: a live feed through the real automation while processes are killed at random.

A world of its own under ``root``: small landing data (the fault lake's: seed 7, eight event
files cut to eight days), its own Cassandra node, Spark service, Dagster instance and daemon
(what ``make dev`` runs, without the web UI), all on free loopback ports. ``prepare`` builds the
batch layer with ``cloud-analytics run`` and stages a future feed; ``run`` starts the daemon
(sensors every 5 s), lands the staged files at a steady rate and, on a schedule drawn from the
seed, SIGKILLs one of: a running stream run's process, a running refresh run's process, the
Spark service, the Cassandra node, the Dagster daemon; the killed servers are restarted after a
few seconds, as an operator's supervisor would. ``finish`` stops the feed, makes sure everything
runs, waits until the automation has caught up (no run queued or in progress, no file left
unread) and runs ``cloud-analytics audit``.

Used by ``cloud_analytics_tests/chaos/test_soak.py`` (a short soak in ``make test``) and by
``benchmarks/soak.py`` (twenty minutes). The schedule depends on the seed only, so a failing
soak is re-run with the same kills at the same offsets.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cloud_analytics.config import REPO_ROOT, Settings, load_settings
from cloud_analytics.orchestration.watchdog import run_pid
from cloud_analytics_tests.browser.web import free_port

KINDS = ("stream_run", "refresh_run", "spark_service", "cassandra", "daemon")
STREAM_TAG, REFRESH_TAG = "cloud_analytics/stream", "cloud_analytics/refresh"
IN_PROGRESS = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
CLI = str(Path(os.sys.executable).with_name("cloud-analytics"))
DAEMON = str(Path(os.sys.executable).with_name("dagster-daemon"))


@dataclass(frozen=True)
class Kill:
    at_s: float  # offset from the start of the feed
    kind: str


def schedule(seed: int, minutes: float, kills: int, kinds: tuple[str, ...] = KINDS) -> list[Kill]:
    """``kills`` kills spread over the soak, every kind at least once when there are enough
    kills, at offsets and in an order drawn from ``seed`` only. The first minute is left quiet
    (the first runs start) and so is the last (the feed's last files land)."""
    rng = random.Random(seed)
    order = list(kinds) * (kills // len(kinds)) + rng.sample(list(kinds), kills % len(kinds))
    rng.shuffle(order)
    span = max(minutes * 60 - 120, 30)
    slots = sorted(rng.uniform(0, span) for _ in order)
    return [Kill(round(60 + at, 1), kind) for at, kind in zip(slots, order)]


@dataclass
class Event:
    at_s: float
    kind: str
    target: str
    detail: str = ""
    recovered_s: float | None = None


@dataclass
class Soak:
    root: Path
    seed: int = 7
    minutes: float = 3.0
    rate_per_min: float = 8.0
    kills: int = 5
    restart_after_s: float = 8.0
    log: Callable[[str], None] = print
    events: list[Event] = field(default_factory=list)
    landed: dict[str, float] = field(default_factory=dict)  # file name -> wall time it landed

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.ports = {"cql": free_port(), "storage": free_port(), "spark": free_port()}
        self.env = {
            **os.environ,
            "CLOUD_ANALYTICS_LAKE": str(self.root / "datalake"),
            "CLOUD_ANALYTICS_LANDING": str(self.root / "datalake" / "landing"),
            "CLOUD_ANALYTICS_CASSANDRA_HOSTS": "127.0.0.1",
            "CLOUD_ANALYTICS_CASSANDRA_PORT": str(self.ports["cql"]),
            "CLOUD_ANALYTICS_CASSANDRA_STORAGE_PORT": str(self.ports["storage"]),
            "CLOUD_ANALYTICS_CASSANDRA_HOME": str(self.root / "cassandra"),
            "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": "cloud_analytics_soak",
            "CLOUD_ANALYTICS_SPARK_SERVICE": "auto",
            "CLOUD_ANALYTICS_SPARK_SERVICE_PORT": str(self.ports["spark"]),
            "CLOUD_ANALYTICS_SPARK_SERVICE_HOME": str(self.root / "spark_service"),
            "CLOUD_ANALYTICS_SPARK_SHUFFLE_PARTITIONS": "2",
            "CLOUD_ANALYTICS_SENSOR_INTERVAL": "5",
            "DAGSTER_HOME": str(self.root / "dagster_home"),
        }
        self.daemon: subprocess.Popen | None = None
        self.feed_thread: threading.Thread | None = None
        self.restarts: list[threading.Thread] = []
        self.started = 0.0

    # -- the world ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return load_settings(environ=self.env, dotenv=REPO_ROOT / ".env.does-not-exist")

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def events_dir(self) -> Path:
        return self.settings.landing / "usage_events_stream"

    def cli(self, *args: str, timeout_s: float = 900, check: bool = True) -> subprocess.CompletedProcess:
        """``cloud-analytics ARGS`` in the soak's world; its output also goes to ``<root>/cli.log``."""
        done = subprocess.run([CLI, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout_s)
        with open(self.root / "cli.log", "a") as log:
            log.write(f"$ cloud-analytics {' '.join(args)}\n{done.stdout}{done.stderr}(exit {done.returncode})\n")
        if check and done.returncode != 0:
            raise RuntimeError(f"cloud-analytics {' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr.strip()[-2000:]}")
        return done

    def node(self):
        from cloud_analytics.serving.local_node import LocalNode

        return LocalNode.from_settings(self.settings)

    def service(self):
        from cloud_analytics.resources.spark_service import SparkService

        return SparkService.from_settings(self.settings)

    def prepare(self, files: int) -> None:
        """Landing data, the servers, the batch layer (``cloud-analytics run``) and ``files``
        staged files of a future feed (the landed events moved 60 days on, new ids)."""
        from cloud_analytics.landing.generator import generate
        from cloud_analytics.landing.replay import stage_feed
        from cloud_analytics_tests.faults.helpers import trim_events

        settings = self.settings
        home = Path(self.env["DAGSTER_HOME"])
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
        generate(settings.landing, scale=1, seed=7)
        trim_events(self.events_dir, 8)
        t0 = time.monotonic()
        self.node().start(timeout_s=settings.cassandra_start_timeout_s, log=self.log)
        self.service().start(timeout_s=settings.spark_service_start_timeout_s, log=self.log)
        self.cli("run")
        self.log(f"soak: batch layer built with `cloud-analytics run` in {time.monotonic() - t0:.0f} s")
        stage_feed(self.events_dir, self.staging, shift_days=60, files=files)

    # -- the daemon --------------------------------------------------------------------------

    def start_daemon(self) -> None:
        out = open(self.root / "daemon.log", "ab")
        self.daemon = subprocess.Popen([DAEMON, "run", "-w", str(REPO_ROOT / "workspace.yaml")], env=self.env,
                                       cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def daemon_alive(self) -> bool:
        return self.daemon is not None and self.daemon.poll() is None

    def stop_daemon(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            os.killpg(self.daemon.pid, signal.SIGINT)
            try:
                self.daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.daemon.pid, signal.SIGKILL)
                self.daemon.wait()

    # -- the instance ------------------------------------------------------------------------

    def instance(self):
        from dagster import DagsterInstance
        from dagster._core.instance.ref import InstanceRef

        return DagsterInstance.from_ref(InstanceRef.from_dir(self.env["DAGSTER_HOME"]))

    def runs(self, instance, tag: str | None = None, statuses: tuple[str, ...] | None = None) -> list:
        from dagster import DagsterRunStatus, RunsFilter

        filters = RunsFilter(tags={tag: "true"} if tag else {},
                             statuses=[DagsterRunStatus[s] for s in statuses] if statuses else [])
        return [r.dagster_run for r in instance.get_run_records(filters)]

    # -- the kills ---------------------------------------------------------------------------

    def _kill_run(self, tag: str, kind: str, wait_s: float = 45) -> Event:
        deadline = time.monotonic() + wait_s
        with self.instance() as instance:
            while time.monotonic() < deadline:
                for run in self.runs(instance, tag, ("STARTED",)):
                    pid = run_pid(instance, run.run_id)
                    if pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            continue
                        return Event(self.offset(), kind, f"run {run.run_id[:8]} (pid {pid})", run.job_name)
                time.sleep(0.5)
        return Event(self.offset(), kind, "none", f"no {kind.replace('_', ' ')} in progress within {wait_s:.0f} s")

    def _kill_server(self, server, kind: str) -> Event:
        pid = server.pid()
        if pid is None:
            return Event(self.offset(), kind, "none", "not running")
        os.kill(pid, signal.SIGKILL)
        event = Event(self.offset(), kind, f"pid {pid}")
        restart = threading.Thread(target=self._restart, args=(server, event), daemon=True)
        restart.start()
        self.restarts.append(restart)
        return event

    def _restart(self, server, event: Event) -> None:
        time.sleep(self.restart_after_s)
        server.pid_file.unlink(missing_ok=True)
        server.start(timeout_s=300, log=lambda _m: None)
        event.detail = f"restarted after {self.offset() - event.at_s:.1f} s"

    def kill(self, kind: str) -> Event:
        if kind == "stream_run":
            event = self._kill_run(STREAM_TAG, kind)
        elif kind == "refresh_run":
            event = self._kill_run(REFRESH_TAG, kind)
        elif kind == "spark_service":
            event = self._kill_server(self.service(), kind)
        elif kind == "cassandra":
            event = self._kill_server(self.node(), kind)
        elif kind == "daemon":
            pid = self.daemon.pid
            # The daemon only: the code server it started (and the runs launched through it) live
            # on, as they do when a daemon dies in production; the code server exits by itself
            # once the daemon's heartbeats stop and its runs have finished.
            os.kill(pid, signal.SIGKILL)
            self.daemon.wait()
            event = Event(self.offset(), kind, f"pid {pid}")
            time.sleep(self.restart_after_s / 2)
            self.start_daemon()
            event.detail = f"restarted after {self.offset() - event.at_s:.1f} s"
        else:
            raise ValueError(f"unknown kill {kind}")
        self.events.append(event)
        self.log(f"soak: t+{event.at_s:6.1f} s killed {kind}: {event.target} {event.detail}")
        return event

    # -- the soak ----------------------------------------------------------------------------

    def offset(self) -> float:
        return time.monotonic() - self.started

    def _feed(self, files: int) -> None:
        from cloud_analytics.landing.replay import replay

        replay(self.staging, self.events_dir, self.rate_per_min, limit=files,
               on_landed=lambda path, at: self.landed.__setitem__(path.name, at), log=lambda _m: None)

    def run(self, files: int) -> None:
        """Start the daemon and the feed, and kill on the seed's schedule until the feed ends."""
        self.start_daemon()
        self.started = time.monotonic()
        self.feed_thread = threading.Thread(target=self._feed, args=(files,), daemon=True)
        self.feed_thread.start()
        for planned in schedule(self.seed, self.minutes, self.kills):
            delay = planned.at_s - self.offset()
            if delay > 0:
                time.sleep(delay)
            self.kill(planned.kind)
        self.feed_thread.join()

    def soak(self, files: int) -> tuple[float, str, dict]:
        """The whole soak over ``files`` staged files: (seconds to catch up, the audit's output,
        ``figures()``). The servers keep running: ``stop_all`` stops them."""
        self.prepare(files)
        self.run(files)
        caught_up, audit = self.finish()
        return caught_up, audit, self.figures()

    def finish(self, timeout_s: float = 900) -> tuple[float, str]:
        """Everything running again, the automation caught up; returns (seconds to catch up,
        the audit's output). Raises if the runs do not settle within the timeout."""
        t0 = time.monotonic()
        for restart in self.restarts:  # a server killed near the end may still be coming back
            restart.join(timeout=300)
        for server in (self.node(), self.service()):
            if not server.is_running():
                server.pid_file.unlink(missing_ok=True)
                server.start(timeout_s=300, log=lambda _m: None)
        if not self.daemon_alive():
            self.start_daemon()
        self.wait_quiet(timeout_s)
        caught_up = time.monotonic() - t0
        self.stop_daemon()
        audit = self.cli("audit", check=False, timeout_s=900)
        return caught_up, audit.stdout + audit.stderr + f"\n(exit {audit.returncode})"

    def wait_quiet(self, timeout_s: float, quiet_s: float = 20) -> None:
        """Until no run is queued or in progress for ``quiet_s`` seconds (sensors tick every 5 s,
        so a file still unread or a date still stale would have requested a run by then)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        with self.instance() as instance:
            while time.monotonic() < deadline:
                busy = self.runs(instance, statuses=IN_PROGRESS)
                if busy:
                    quiet_since = None
                else:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since >= quiet_s:
                        return
                time.sleep(1)
        raise AssertionError(f"the runs did not settle within {timeout_s:.0f} s; in progress: "
                             f"{[(r.job_name, r.status.value, r.run_id[:8]) for r in busy]}")

    def duplicate_alerts(self) -> dict[str, int]:
        """alert_id -> count for every alert the lake holds more than once (``speed/usage_alerts``),
        read through the soak's Spark service in a process of its own."""
        code = (
            "import json\n"
            "from cloud_analytics.config import load_settings\n"
            "from cloud_analytics.lib.lake import table_path\n"
            "from cloud_analytics.resources.spark import get_spark\n"
            "s = load_settings()\n"
            "alerts = get_spark(s).read.format('delta').load(table_path(str(s.lake), 'speed', 'usage_alerts'))\n"
            "rows = alerts.groupBy('alert_id').count().filter('count > 1').collect()\n"
            "print(json.dumps({r['alert_id']: r['count'] for r in rows}))\n")
        done = subprocess.run([os.sys.executable, "-c", code], env={**self.env, "CLOUD_ANALYTICS_SPARK_SERVICE": "require"},
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"reading speed/usage_alerts failed: {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- figures -----------------------------------------------------------------------------

    def figures(self) -> dict:
        """Per kill the seconds until the affected job's next successful run; the freshness of
        every landed file (landing → the end of the first successful stream run that started
        after it landed, which read it: bronze, the speed layer and its Cassandra rows)."""
        with self.instance() as instance:
            runs = [r for r in self.runs(instance) if r.status.value == "SUCCESS"]
            stats = {r.run_id: instance.get_run_stats(r.run_id) for r in runs}
        wall0 = time.time() - self.offset()  # wall time of offset 0
        stream_done = sorted((stats[r.run_id].start_time, stats[r.run_id].end_time) for r in runs
                             if STREAM_TAG in r.tags and stats[r.run_id].start_time)
        any_done = sorted(stats[r.run_id].end_time for r in runs if stats[r.run_id].end_time)
        for event in self.events:
            if event.target == "none":
                continue
            killed_at = wall0 + event.at_s
            later = [end for start, end in stream_done if start and start > killed_at] if event.kind != "refresh_run" \
                else [end for end in any_done if end > killed_at]
            event.recovered_s = round(min(later) - killed_at, 1) if later else None
        freshness = []
        for name, landed_at in self.landed.items():
            ends = [end for start, end in stream_done if start >= landed_at]
            freshness.append(min(ends) - landed_at if ends else None)
        return {"kills": self.events, "freshness_s": freshness}

    def stop_all(self) -> None:
        self.stop_daemon()
        for server in (self.service(), self.node()):
            try:
                server.stop(log=lambda _m: None)
            except Exception:
                server.stop(kill=True, log=lambda _m: None)


def percentiles(values: list[float], qs=(0.5, 0.95, 1.0)) -> list[float]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] for q in qs] if ordered else []


def report(soak: Soak, figures: dict, caught_up_s: float, audit: str) -> str:
    lines = [f"chaos soak: seed {soak.seed}, {soak.minutes:g} min, {len(soak.landed)} files landed at "
             f"{soak.rate_per_min:g}/min, {len([e for e in figures['kills'] if e.target != 'none'])} kills"]
    for e in figures["kills"]:
        recovered = f"next successful run {e.recovered_s:.1f} s after" if e.recovered_s is not None else "no run after"
        lines.append(f"  t+{e.at_s:6.1f} s  {e.kind:<14} {e.target:<26} {e.detail:<28} {recovered}")
    fresh = [f for f in figures["freshness_s"] if f is not None]
    unserved = len(figures["freshness_s"]) - len(fresh)
    p = percentiles(fresh)
    if p:
        lines.append(f"  freshness (landed → read by a successful stream run): p50 {p[0]:.1f} s, p95 {p[1]:.1f} s, "
                     f"max {p[2]:.1f} s over {len(fresh)} files" + (f"; {unserved} never read" if unserved else ""))
    lines.append(f"  caught up {caught_up_s:.0f} s after the feed stopped")
    lines.append("  audit: " + ("all laws hold" if "all" in audit and "laws hold" in audit and "(exit 0)" in audit
                                else "FAILED"))
    return "\n".join(lines)


def write_json(path: Path, soak: Soak, figures: dict) -> None:
    path.write_text(json.dumps({"seed": soak.seed, "kills": [e.__dict__ for e in figures["kills"]],
                                "freshness_s": figures["freshness_s"]}, indent=2))
