"""Every asset check of the definitions runs in the standard end-to-end run, and none of
severity ERROR fails; then the audit of the same lake holds.

The session fixtures materialize the whole graph (bronze → silver → gold → serving) with the
named jobs into the ``dagster_instance`` fixture; every asset of ``defs`` is part of one of
those jobs, so every check must have at least one evaluation there. The check history is read
from the instance's event log (``get_asset_check_execution_history``: the evaluation events,
with their severity and outcome). Tests that make checks fail on purpose must use their own
instance, not the session one.
"""

from __future__ import annotations

from dagster import AssetCheckSeverity

from cloud_analytics.audit import run_audit


def _label(key) -> str:
    return f"{'/'.join(key.asset_key.path)}:{key.name}"


def test_every_asset_check_ran_and_no_error_check_failed(serving_run, dagster_instance):
    from cloud_analytics.definitions import defs

    check_keys = sorted(defs().resolve_asset_graph().asset_check_keys, key=_label)
    assert len(check_keys) > 100  # every layer has its checks: a sanity floor, not the figure itself
    storage = dagster_instance.event_log_storage
    never, failed = [], []
    for key in check_keys:
        evaluations = [(r.run_id, r.event.asset_check_evaluation)
                       for r in storage.get_asset_check_execution_history(key, limit=10_000)
                       if r.event is not None and r.event.asset_check_evaluation is not None]
        if not evaluations:
            never.append(_label(key))
        failed += [f"{_label(key)} (run {run_id[:8]})" for run_id, evaluation in evaluations
                   if not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR]
    assert not never, f"{len(never)} asset checks were never evaluated: {', '.join(never)}"
    assert not failed, f"{len(failed)} ERROR-severity check evaluations failed: {', '.join(failed)}"


def test_the_audit_of_the_session_lake_holds(serving_run, settings, spark, cassandra):
    with cassandra.session() as session:
        report = run_audit(settings, spark, session)
    assert report.ok, "\n" + report.render()
    assert report.first_failure is None and report.failures == []
