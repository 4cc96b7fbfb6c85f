"""``run_audit``: gather every figure in one parallel pass over the lake, then check the laws in
order (landing, silver, gold, serving); the first that fails is the one named. On a terminal,
progress bars on stderr follow the lake aggregates, the landed event files and the Cassandra
tables (``lib.progress``; nothing in CI or logs)."""

from __future__ import annotations

import time

from cloud_analytics.audit import laws, reconcile, serving
from cloud_analytics.audit.gather import count, delta_tables, gather
from cloud_analytics.audit.report import NOTHING_TO_AUDIT, STAGES, AuditReport, Law
from cloud_analytics.config import Settings
from cloud_analytics.gold.specs import GOLD_SPECS
from cloud_analytics.lib.lake import LakeReader, table_path


def run_audit(settings: Settings, spark=None, cassandra_session=None, include_serving: bool = True) -> AuditReport:
    """Count every source at every stage and check the conservation laws (see the package doc).

    ``spark``: defaults to ``resources.spark.get_spark(settings)``. ``cassandra_session``: a
    driver session on the serving keyspace; when None and ``include_serving``, one is opened
    with ``CassandraResource.from_settings(settings).session()`` (an unreachable node raises
    ``CassandraUnavailableError`` naming host:port). An empty lake gives a report whose only
    (failed) law says there is nothing to audit.
    """
    started = time.monotonic()
    if not delta_tables(settings.lake, "bronze", settings.object_store):
        report = AuditReport(laws=[Law("lake has tables", False,
                                       f"{NOTHING_TO_AUDIT} (no Delta table under {table_path(str(settings.lake), 'bronze', '')})")],
                             lake=str(settings.lake))
        report.seconds = time.monotonic() - started
        return report
    if include_serving and cassandra_session is None:
        from cloud_analytics.resources.cassandra import CassandraResource

        with CassandraResource.from_settings(settings).session() as session:
            return run_audit(settings, spark, session, include_serving)
    if cassandra_session is not None and include_serving and not getattr(cassandra_session, "keyspace", None):
        cassandra_session.set_keyspace(settings.cassandra_keyspace)
    if spark is None:
        from cloud_analytics.resources.spark import get_spark

        spark = get_spark(settings)
    report = _audit(settings, LakeReader(spark, str(settings.lake)), cassandra_session if include_serving else None)
    report.seconds = time.monotonic() - started
    return report


def _audit(settings: Settings, reader: LakeReader, session) -> AuditReport:
    speed = delta_tables(settings.lake, "speed", settings.object_store)
    requests = {**laws.requests(), **reconcile.requests(GOLD_SPECS),
                **{f"speed/{name}": count("speed", name) for name in speed}}
    if session is not None:
        requests.update(serving.requests())
    facts = gather(reader, requests)

    report = AuditReport(laws=[], lake=str(settings.lake),
                         keyspace=settings.cassandra_keyspace if session is not None else None)
    report.counts = {source: dict.fromkeys(STAGES) for source in laws.SOURCES}
    snapshots = laws.csv_laws(facts, report, settings.landing)
    laws.events_law(facts, report, settings.lake, settings.landing)
    laws.silver_laws(facts, report, snapshots)
    reconcile.gold_laws(facts, report, GOLD_SPECS)
    report.speed_delta = {name: facts[f"speed/{name}"]["rows"] for name in speed
                          if facts[f"speed/{name}"] is not None}
    if session is not None:
        from cloud_analytics.resources.cassandra import CassandraResource

        serving.serving_laws(facts, report, session, CassandraResource.from_settings(settings).target)
    else:
        report.notes.append("serving skipped (--no-serving): Cassandra was not compared with gold")
    return report
