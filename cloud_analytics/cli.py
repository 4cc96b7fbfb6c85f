"""The ``cloud-analytics`` command line.

Every subcommand reads the same environment (see ``config.py``) and turns the platform's
known failures (missing jars, Cassandra down, the Spark service not running, a bad landing
zip) into one clear line on stderr and exit code 2, never a bare stack trace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cloud_analytics.config import load_settings


def _local_server(action: str, server, timeout_s: float) -> int:
    """start, stop or status of a server the platform runs itself; status exits 3 when stopped."""
    if action == "start":
        server.start(timeout_s=timeout_s)
    elif action == "stop":
        server.stop()
    else:
        print(f"{server.label}: {server.status()}")
        return 0 if server.is_running() else 3
    return 0


def _cassandra(args: argparse.Namespace) -> int:
    from cloud_analytics.serving.local_node import LocalNode

    settings = load_settings()
    return _local_server(args.action, LocalNode.from_settings(settings), settings.cassandra_start_timeout_s)


def _spark(args: argparse.Namespace) -> int:
    from cloud_analytics.resources.spark_service import SparkService

    settings = load_settings()
    return _local_server(args.action, SparkService.from_settings(settings), settings.spark_service_start_timeout_s)


def _cluster(args: argparse.Namespace) -> int:
    import shlex

    from cloud_analytics.cluster.control import Cluster
    from cloud_analytics.cluster.layout import ClusterLayout

    settings = load_settings()
    cluster = Cluster(ClusterLayout.from_settings(settings), settings)
    if args.action == "start":
        cluster.start(timeout_s=args.timeout)
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "env":
        for key, value in cluster.environment.items():
            print(f"export {key}={shlex.quote(value)}")
    else:
        states = cluster.status()
        for name, line, _running in states:
            print(f"{name:<22} {line}")
        return 0 if all(running for _n, _l, running in states) else 3
    return 0


def _landing_generate(args: argparse.Namespace) -> int:
    from cloud_analytics.landing.generator import generate

    out = Path(args.out) if args.out else load_settings().landing
    counts = generate(out, scale=args.scale, seed=args.seed)
    print(f"Generated landing data (scale {args.scale}, seed {args.seed}) in {out}:")
    for name, rows in counts.items():
        print(f"  {name:<20} {rows:>10,} rows")
    return 0


def _landing_import(args: argparse.Namespace) -> int:
    from cloud_analytics.landing.zip_import import import_zip

    out = Path(args.out) if args.out else load_settings().landing
    written = import_zip(args.zip, out)
    print(f"Imported {len(written)} files from {args.zip} into {out}")
    return 0


def _staging(args: argparse.Namespace, attr: str) -> Path:
    from cloud_analytics.bronze.specs import EVENTS_DIR

    value = getattr(args, attr)
    # Beside the landing folder (in a local lake: <lake>/staging), a local folder like it.
    return Path(value) if value else load_settings().landing.parent / "staging" / EVENTS_DIR


def _landing_stage(args: argparse.Namespace) -> int:
    from cloud_analytics.bronze.specs import EVENTS_DIR
    from cloud_analytics.landing.replay import stage_feed

    source = load_settings().landing / EVENTS_DIR
    staging = _staging(args, "to")
    result = stage_feed(source, staging, shift_days=args.shift_days, files=args.files, order=args.order)
    print(f"Staged {result.events:,} events ({result.passthrough_lines} unparseable lines kept as is) in "
          f"{result.files} files in {staging}, event times {result.first_event} .. {result.last_event}")
    print("Land them live with: cloud-analytics landing replay --rate 6")
    return 0


def _landing_replay(args: argparse.Namespace) -> int:
    from cloud_analytics.bronze.specs import EVENTS_DIR
    from cloud_analytics.landing.replay import replay

    landing = load_settings().landing / EVENTS_DIR
    landed = replay(_staging(args, "from_dir"), landing, args.rate, limit=args.limit)
    print(f"Landed {landed} files in {landing}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import os

    from cloud_analytics.config import REPO_ROOT
    from cloud_analytics.pipeline import run_pipeline

    # The runs' history is what plans the next run (what the stream touched, what was built from
    # which landed files): without DAGSTER_HOME it would be an ephemeral instance, forgotten at
    # exit, and a second run would find nothing to rebuild. Default to the folder `make` uses.
    if not os.environ.get("DAGSTER_HOME"):
        home = REPO_ROOT / ".dagster_home"
        home.mkdir(exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)

    return run_pipeline(load_settings(), scale=args.scale, seed=args.seed, query=lambda q: main(["query", *q]),
                        force=args.force, layers=tuple(args.layer) if args.layer else None)


def _audit(args: argparse.Namespace) -> int:
    import json

    from cloud_analytics.audit import run_audit

    report = run_audit(load_settings(), include_serving=not args.no_serving)
    print(json.dumps(report.to_json(), indent=2) if args.format == "json" else report.render())
    if report.first_failure is not None:
        law = report.first_failure
        print(f"error: audit failed: {law.name}: {law.detail}", file=sys.stderr)
        return 2
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from cloud_analytics.dashboard.server import serve

    serve(args.host, args.port)
    return 0


def _docs(args: argparse.Namespace) -> int:
    from cloud_analytics.docs_gen import write_docs

    stale = write_docs(check=args.check)
    if args.check:
        if stale:
            print(f"stale generated docs: {', '.join(stale)}; run `cloud-analytics docs`", file=sys.stderr)
            return 1
        print("generated docs are current")
    else:
        print(f"updated: {', '.join(stale)}" if stale else "generated docs were already current")
    return 0


# Query output. Table: money (a CQL decimal, or a double whose column ends in _usd) at 2
# decimals; every other number (rates such as an ARS fx_rate of 0.0015, ratios, scores, carbon)
# with SIGNIFICANT significant digits, so a small rate never prints as 0.00. JSON: money
# (decimals) at 2 decimals, doubles as they are (every digit: a machine reads them).
SIGNIFICANT = 6
MONEY_SUFFIX = "_usd"


def _is_money(column: str, value) -> bool:
    from decimal import Decimal

    return isinstance(value, Decimal) or column.endswith(MONEY_SUFFIX)


def _significant(value: float, digits: int = SIGNIFICANT) -> str:
    """``value`` with ``digits`` significant digits and at least 2 decimals (1.0 → 1.00,
    0.00153846 → 0.00153846, 0.1 → 0.10, 1234.5678 → 1,234.57); scientific below 1e-6."""
    import math

    if value == 0 or not math.isfinite(value):
        return f"{value:,.2f}"
    if abs(value) < 1e-6:
        return f"{value:.{digits - 1}e}"
    decimals = max(2, digits - 1 - math.floor(math.log10(abs(value))))
    whole, _, fraction = f"{value:,.{decimals}f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def _print_rows(rows: list[dict], fmt: str) -> None:
    import json
    from datetime import date
    from decimal import Decimal

    def plain(value):
        if isinstance(value, Decimal):
            return float(round(value, 2))
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (set, frozenset, list, tuple)):
            return sorted(plain(v) for v in value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in sorted(value.items())}
        return value

    def text(column: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, (Decimal, float)) and _is_money(column, value):
            return f"{plain(value):,.2f}"
        if isinstance(value, float):
            return _significant(value)
        return str(plain(value))

    if fmt == "json":
        print(json.dumps([{k: plain(v) for k, v in row.items()} for row in rows], indent=2, default=str))
        return
    if not rows:
        print("(no rows)")
        return
    cols = list(rows[0])
    text_rows = [[text(k, v) for k, v in r.items()] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text_rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    print("  ".join("-" * w for w in widths))
    for t in text_rows:
        print("  ".join(v.rjust(w) if v[:1].isdigit() or v[:1] == "-" else v.ljust(w) for v, w in zip(t, widths)))
    print(f"({len(rows)} rows)")


# The queries of one org (--org required), and those that take --org optionally (all orgs without it).
ORG_QUERIES = ("q1", "q2", "q5", "anomalies", "health", "alerts", "live")
OPTIONAL_ORG_QUERIES = ("q3", "q4")


def _date_option(option: str, value: str | None):
    """The date an option gives (None when not given); a ValueError naming the option and the
    expected format otherwise (the CLI prints it as one line)."""
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option} {value} is not a date (YYYY-MM-DD)") from None


def _org_served(session, org: str) -> bool:
    """Whether any serving table partitioned by org holds a row of ``org`` (one partition read,
    LIMIT 1, per table): the batch tables and the speed layer's alerts and live view."""
    from cloud_analytics.serving.specs import SERVING_SPECS

    for spec in SERVING_SPECS:
        if spec.partition_key == "org_id":  # table names are code constants; the org is bound
            if session.execute(session.prepare(f"SELECT org_id FROM {spec.name} WHERE org_id = ? LIMIT 1"),
                               (org,)).one() is not None:
                return True
    return False


def _query(args: argparse.Namespace) -> int:
    from cloud_analytics.resources.cassandra import CassandraResource
    from cloud_analytics.serving import queries

    # Arguments first, so a mistake is reported without connecting.
    as_of = _date_option("--as-of", args.as_of)
    start = _date_option("--start", args.start)
    end = _date_option("--end", args.end)
    if args.name in ORG_QUERIES and not args.org:
        print(f"error: {args.name} needs --org ORG_ID", file=sys.stderr)
        return 2
    with CassandraResource.from_settings(load_settings()).session() as session:
        if args.name == "q1":
            rows = queries.q1_daily_cost(session, args.org, start, end, as_of, days=args.days or 30)
        elif args.name == "q2":
            rows = queries.q2_top_services(session, args.org, as_of, days=args.days or 14, top=args.top)
        elif args.name == "q3":
            rows = queries.q3_critical_tickets(session, args.org, as_of, days=args.days or 30)
        elif args.name == "q4":
            rows = queries.q4_monthly_revenue(session, args.org, as_of)
        elif args.name == "q5":
            rows = queries.q5_genai(session, args.org, as_of, days=args.days or 30)
        elif args.name == "anomalies":
            rows = queries.cost_anomalies(session, args.org, as_of, days=args.days or 30)
        elif args.name == "alerts":
            rows = queries.usage_alerts(session, args.org, as_of, days=args.days or 7, limit=args.top)
        elif args.name == "live":
            rows = queries.live_usage(session, args.org, minutes=args.minutes)
        elif args.name == "platform":
            rows = queries.platform_cost(session, as_of, days=args.days or 30)
        elif args.name == "orgs":
            rows = queries.org_ranking(session, top=args.top)
        elif args.name == "alert-counts":
            rows = queries.alert_counts(session, as_of, days=args.days or 7)
        else:
            rows = queries.customer_health(session, args.org)
        # No rows for an org: a served org with nothing in the window prints "(no rows)"; an org the
        # serving layer does not hold at all (a typo, another environment's id) is an error.
        org_scoped = args.name in ORG_QUERIES or (args.name in OPTIONAL_ORG_QUERIES and args.org)
        if not rows and org_scoped and not _org_served(session, args.org):
            print(f"error: unknown org {args.org}: no such org is served (see cloud-analytics query orgs --top 0)",
                  file=sys.stderr)
            return 2
    _print_rows(rows, args.format)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloud-analytics",
        description="Cloud Analytics: FinOps, support and product analytics on Dagster, "
        "Spark + Delta Lake and Cassandra. Configuration comes from CLOUD_ANALYTICS_* "
        "environment variables (see .env.example).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="Run the whole pipeline end to end and print a summary.",
                         description="Generate landing data if the landing folder is empty, start the "
                         "local Cassandra if it is not running, materialize every asset, print a summary.")
    run.add_argument("--scale", type=int, default=1, help="Scale of generated data when landing is empty (default 1).")
    run.add_argument("--seed", type=int, default=42, help="Seed of generated data (default 42).")
    run.add_argument("--force", action="store_true",
                     help="Rebuild even what was already built from the same landed files (by default a job "
                     "whose input fingerprint is unchanged is skipped and recorded as an observation).")
    run.add_argument("--layer", action="append", choices=["bronze", "silver", "gold", "serving"],
                     help="Build only this layer (repeatable), e.g. `--force --layer serving` reloads Cassandra "
                     "from gold; the audit still runs over everything.")
    run.set_defaults(func=_run)

    cas = sub.add_parser("cassandra", help="Start, stop or inspect the local Cassandra node.",
                         description="Run a single Apache Cassandra 5.0 node from the Maven jars on "
                         "CLOUD_ANALYTICS_CASSANDRA_HOSTS[0]:CLOUD_ANALYTICS_CASSANDRA_PORT.")
    cas.add_argument("action", choices=["start", "stop", "status"],
                     help="start (no-op when running), stop (SIGTERM), status (exit 3 when stopped)")
    cas.set_defaults(func=_cassandra)

    spark = sub.add_parser(
        "spark", help="Start, stop or inspect the Spark service (a long-lived Spark Connect server).",
        description="Run a Spark Connect server on 127.0.0.1:CLOUD_ANALYTICS_SPARK_SERVICE_PORT (default 15002) "
        "from the installed pyspark, with the Delta jars and the platform's Spark confs. While it runs, the CLI, "
        "`make run`, `make dev` and the runs its sensors launch connect to it instead of each starting and "
        "warming up a JVM of their own (CLOUD_ANALYTICS_SPARK_SERVICE: auto, the default; off: always "
        "in-process; require: fail when it is not running). Its log: "
        "CLOUD_ANALYTICS_SPARK_SERVICE_HOME/logs/server.log (default .spark_service/).")
    spark.add_argument("action", choices=["start", "stop", "status"],
                       help="start (no-op when running), stop (SIGTERM), status (exit 3 when stopped)")
    spark.set_defaults(func=_spark)

    cluster = sub.add_parser(
        "cluster", help="Start, stop or inspect the local cluster (Spark standalone, SeaweedFS, 3 Cassandra nodes, "
        "Postgres), or print the variables that point commands at it.",
        description="Cluster mode on this machine, every server on loopback with its pid, logs and data in "
        "CLOUD_ANALYTICS_CLUSTER_HOME (default .cluster/): a Spark standalone master and two workers with the "
        "Spark service attached as the driver; SeaweedFS as the lake's S3 store (telemetry off); Cassandra 5.0 on "
        "127.0.0.1-3 (RF=3, loads at QUORUM); PostgreSQL for Dagster's instance and the Dagster daemon. "
        "`eval \"$(cloud-analytics cluster env)\" && make run` runs the pipeline there. See docs/deployment.md.")
    cluster.add_argument("action", choices=["start", "stop", "status", "env"],
                         help="start (what runs is left alone), stop, status (exit 3 unless all run), "
                         "env (export lines for eval)")
    cluster.add_argument("--timeout", type=float, default=180.0,
                         help="seconds each server may take to start (default 180)")
    cluster.set_defaults(func=_cluster)

    landing = sub.add_parser("landing", help="Generate or import landing data.")
    lsub = landing.add_subparsers(dest="landing_command", required=True, metavar="ACTION")
    gen = lsub.add_parser("generate", help="Write the deterministic synthetic dataset.",
                          description="Reproduces the challenge dataset's shape and quirks; scale 1 matches "
                          "its published figures exactly.")
    gen.add_argument("--scale", type=int, default=1, help="Multiply every entity count by N (default 1).")
    gen.add_argument("--seed", type=int, default=42, help="Random seed; same seed, same bytes (default 42).")
    gen.add_argument("--out", help="Output folder (default CLOUD_ANALYTICS_LANDING).")
    gen.set_defaults(func=_landing_generate)
    imp = lsub.add_parser("import", help="Unpack cloud_provider_challenge_dataset_v1.zip into landing.")
    imp.add_argument("zip", help="Path of the zip (its files sit under datalake/landing/).")
    imp.add_argument("--out", help="Landing folder (default CLOUD_ANALYTICS_LANDING).")
    imp.set_defaults(func=_landing_import)
    stage = lsub.add_parser(
        "stage", help="Stage a future live feed from the landed event files (for replay).",
        description="Copy every landed event, moved forward --shift-days days with a new event id, into "
        "staging files (default: staging/usage_events_stream beside the landing folder), sliced by event time so files arrive "
        "in time order like a live producer's (--order original keeps the landed files' mix).")
    stage.add_argument("--shift-days", type=int, default=60, help="days to move events forward (default 60)")
    stage.add_argument("--files", type=int, default=120, help="number of staged files (default 120)")
    stage.add_argument("--order", choices=["time", "original"], default="time", help="slicing (default time)")
    stage.add_argument("--to", help="staging folder (default: staging/usage_events_stream beside the landing folder)")
    stage.set_defaults(func=_landing_stage)
    rep = lsub.add_parser(
        "replay", help="Move staged event files into landing at a fixed rate (a live feed).",
        description="Land staged files one by one, atomically (temp name, then rename), FILES_PER_MIN per "
        "minute, so the sensor, the speed layer and Cassandra can be watched updating (run `make dev`).")
    rep.add_argument("--rate", type=float, default=6.0, help="files per minute (default 6)")
    rep.add_argument("--from", dest="from_dir", help="staging folder (default: staging/usage_events_stream beside the landing folder)")
    rep.add_argument("--limit", type=int, help="stop after N files")
    rep.set_defaults(func=_landing_replay)
    query = sub.add_parser(
        "query", help="Run a dashboard query against Cassandra.",
        description="q1: daily cost, requests and carbon (kg CO2e, null where not measured) by service for an "
        "org (default: the 30 days up to --as-of). "
        "q2: top-N services by cost over the last 14 days for an org. q3: tickets opened, critical ones and the "
        "SLA breach rate per day over the last 30 days up to the newest day a ticket was opened (all orgs without "
        "--org). q4: monthly revenue in USD with credits "
        "and taxes applied (all orgs without --org). q5: GenAI tokens and estimated cost per day for an org. "
        "anomalies: an org's flagged daily costs. health: an org's latest health score, band and active "
        "resources. alerts: the speed "
        "layer's cost alerts for an org (newest first, --top of them, default 5). live: an org's last hour per "
        "service, one-hour windows every 5 minutes (is_closed false: still provisional). --as-of defaults to the newest "
        "date in the data. q1, q2 and q5 rows carry `source`: batch, or speed for dates the batch layer has not "
        "covered yet. Across orgs (the dashboard's platform overview): platform: cost, orgs and anomalies per day "
        "(30 days); orgs: the --top orgs by cost over 30 days with their health; alert-counts: alerts and orgs "
        "alerted per day (7 days). An org the serving layer does not hold at all is an error (exit 2; "
        "`query orgs --top 0` lists the served ones); a served org with nothing in the window prints (no rows). "
        "Errors are one line on stderr, exit 2: a bad date, a missing --org, Cassandra unreachable.")
    query.add_argument("name", choices=["q1", "q2", "q3", "q4", "q5", "anomalies", "health", "alerts", "live",
                                        "platform", "orgs", "alert-counts"])
    query.add_argument("--org", help="org id, e.g. org_xaji0y6d (the served ones: query orgs --top 0)")
    query.add_argument("--as-of", help="last day of the window, YYYY-MM-DD; default: the newest date served "
                       "(health and live ignore it: the latest assessment, the trailing hour)")
    query.add_argument("--start", help="q1: first day (YYYY-MM-DD)")
    query.add_argument("--end", help="q1: last day (YYYY-MM-DD)")
    query.add_argument("--days", type=int, help="window length in days (q1/q3/q5/anomalies/platform 30, q2 14, alerts/alert-counts 7)")
    query.add_argument("--top", type=int, default=5, help="q2: how many services; alerts, orgs: how many (default 5; orgs --top 0: every org)")
    query.add_argument("--minutes", type=int, default=60,
                       help="live: how far back, in minutes of event time (default 60: the last hour, one-hour "
                       "windows every 5 minutes per service)")
    query.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    query.set_defaults(func=_query)

    audit = sub.add_parser(
        "audit", help="Check that every record is accounted for, landing to Cassandra.",
        description="Count every source (7 CSVs, usage events) at landing, bronze, rejects, duplicates removed, "
        "quarantine (by rule), silver, gold and Cassandra, and check the conservation laws: landing = bronze + "
        "rejects + duplicates; bronze = silver + quarantine; gold = silver; Cassandra (batch rows) = gold. "
        "Exit 0 when all hold, 2 naming the first that fails (or when Cassandra is unreachable).")
    audit.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    audit.add_argument("--no-serving", action="store_true", help="skip Cassandra (lake laws only)")
    audit.set_defaults(func=_audit)

    dash = sub.add_parser(
        "dashboard", help="Serve the FinOps dashboard (Streamlit) on the serving layer.",
        description="A web app reading Cassandra only, through the same query functions as `query`: the "
        "platform overview (cost trend, anomalies, top orgs, health bands, alerts) at / and an org's view (daily "
        "cost by service with anomalies marked, q2-q5, the live hour and recent alerts) at /org?org=<org_id>. "
        "Speed-layer figures are marked provisional. Streamlit's usage statistics are off.")
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    dash.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    dash.set_defaults(func=_dashboard)
    docs = sub.add_parser("docs", help="Regenerate the docs built from the code (data-quality rules).")
    docs.add_argument("--check", action="store_true", help="Write nothing; exit 1 if a generated doc is stale.")
    docs.set_defaults(func=_docs)
    return parser


def known_errors() -> tuple[type[BaseException], ...]:
    """The platform's expected failures: their messages are written for the user (they name the
    file, rule, host or step), so the CLI prints them as they are, without a traceback."""
    from cloud_analytics.cluster.servers import ClusterError
    from cloud_analytics.landing.replay import ReplayError
    from cloud_analytics.landing.zip_import import LandingImportError
    from cloud_analytics.lib.errors import PipelineError
    from cloud_analytics.resources.cassandra import CassandraUnavailableError
    from cloud_analytics.resources.spark import SparkSetupError
    from cloud_analytics.resources.spark_service import SparkServiceError
    from cloud_analytics.serving.loader import ServingLoadError
    from cloud_analytics.serving.local_node import CassandraNodeError
    from cloud_analytics.serving.queries import NoServingData

    return (ClusterError, CassandraNodeError, CassandraUnavailableError, LandingImportError, NoServingData, ReplayError,
            ServingLoadError, PipelineError, SparkServiceError, SparkSetupError, ValueError, FileNotFoundError)


def main(argv: list[str] | None = None) -> int:
    from cloud_analytics.lib.errors import root_cause

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line on stderr; the cause chain of anything unexpected
        if isinstance(exc, known_errors()):
            print(f"error: {exc}", file=sys.stderr)
        else:
            print(f"error: {root_cause(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
