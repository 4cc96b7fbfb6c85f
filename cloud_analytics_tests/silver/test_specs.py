"""The silver specs: every builder produces exactly the declared columns and types, the users
builder takes its pepper from its inputs, and the histories' SCD2 checks catch broken histories."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import date

import pytest

from cloud_analytics.lib.spec import CheckInput
from cloud_analytics.quality import evaluate
from cloud_analytics.silver.inputs import SilverInputs
from cloud_analytics.silver.pii import PepperError
from cloud_analytics.silver.refs import load_refs
from cloud_analytics.silver.specs import CONFORMED, HISTORIES, SILVER_BY_NAME, SILVER_SPECS, is_history
from cloud_analytics_tests.quality.frames import csv_rows, events, refs

PEPPER = "test-pepper-0123456789abcdef"
DAY = date(2025, 7, 20)
HISTORY = "org_id string, valid_from date, valid_to date, is_current boolean"


class FrameLake:
    """Duck-types ``lib.lake.LakeReader`` over frames held in memory."""

    def __init__(self, frames: dict):
        self.frames = frames

    def load(self, layer, name):
        return self.frames[f"{layer}/{name}"]

    def read(self, layer, name):
        return self.frames.get(f"{layer}/{name}")

    read_pinned = read


def _schema(df):
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def test_every_silver_table_is_declared_once_in_build_order():
    assert [s.name for s in SILVER_SPECS] == [
        "customers_orgs", "customers_orgs_history", "resources", "resources_history", "users", "support_tickets",
        "marketing_touches", "nps_surveys", "billing_monthly", "usage_events"]
    assert [s.name for s in HISTORIES] == ["customers_orgs_history", "resources_history"]
    assert all(spec.deps[0].table == f"bronze/{spec.name}" for spec in CONFORMED)
    assert SILVER_BY_NAME["usage_events"].deps[0].mapping == "all"
    assert SILVER_BY_NAME["customers_orgs_history"].key == ("org_id", "valid_from")


def test_every_builder_produces_the_declared_columns(spark):
    lake = FrameLake({})
    for spec in SILVER_SPECS:
        if is_history(spec):
            (source,) = spec.deps
            rows = lake.load(*source.table.split("/"))
        else:
            bronze = events(spark, {}) if spec.name == "usage_events" else csv_rows(spark, spec.name, {})
            rows = evaluate(bronze, spec.name, load_refs(lake, spec.name)).kept
        built = spec.build(SilverInputs(rows, lake, DAY, DAY, pepper=PEPPER))
        assert _schema(built) == [(c.name, c.type) for c in spec.columns], spec.name
        lake.frames[spec.path] = built


def test_the_users_builder_takes_the_pepper_from_its_inputs(spark):
    kept = evaluate(csv_rows(spark, "users", {}), "users", refs(spark)).kept
    users = SILVER_BY_NAME["users"]
    with pytest.raises(PepperError):
        users.build(SilverInputs(kept, FrameLake({}), pepper=""))
    expected = hmac.new(PEPPER.encode(), b"user_1@example.com", hashlib.sha256).hexdigest()
    assert users.build(SilverInputs(kept, FrameLake({}), pepper=PEPPER)).first().email_hash == expected


def test_history_checks_pass_on_a_clean_history_and_fail_on_a_broken_one(spark):
    spec = SILVER_BY_NAME["customers_orgs_history"]
    end = date(9999, 12, 31)
    clean = spark.createDataFrame([("o1", date(1900, 1, 1), date(2025, 7, 2), False),
                                   ("o1", date(2025, 7, 2), end, True)], HISTORY)
    broken = spark.createDataFrame([("o1", date(1900, 1, 1), end, True),  # overlaps the next version
                                    ("o1", date(2025, 7, 2), end, True),  # a second current version
                                    ("o2", date(2025, 7, 5), date(2025, 7, 5), False)], HISTORY)  # empty
    outcomes = {c.name: c.evaluate(CheckInput(clean, read=None)) for c in spec.checks}
    assert {n: o.passed for n, o in outcomes.items()} == {"one_current_version": True,
                                                          "versions_do_not_overlap": True}
    outcomes = {c.name: c.evaluate(CheckInput(broken, read=None)) for c in spec.checks}
    assert outcomes["one_current_version"].metadata == {"keys_with_several_current": 1}
    assert outcomes["versions_do_not_overlap"].metadata == {"bad_versions": 2}
    assert not any(o.passed for o in outcomes.values())
    assert all(c.blocking and c.severity == "ERROR" for c in spec.checks)


def test_specs_do_not_import_dagster():
    code = "import sys, cloud_analytics.silver.specs; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_quarantine_and_dq_metrics_specs_declare_what_the_engine_writes():
    from cloud_analytics.lib.spec import ddl
    from cloud_analytics.quality import METRICS_SCHEMA, QUARANTINE_SCHEMA
    from cloud_analytics.silver.specs import DQ_METRICS, QUARANTINE_SPECS

    assert {ddl(spec) for spec in QUARANTINE_SPECS} == {QUARANTINE_SCHEMA}
    assert sorted(ddl(DQ_METRICS).split(", ")) == sorted(METRICS_SCHEMA.split(", "))
    assert [(q.name, q.partitions) for q in QUARANTINE_SPECS] == [(s.name, s.partitions) for s in CONFORMED]


def test_dq_metrics_checks_catch_duplicated_and_inconsistent_counts(spark):
    from cloud_analytics.lib.spec import ddl
    from cloud_analytics.silver.specs import DQ_METRICS

    good = ("usage_events", DAY, "EV-05", "quarantine", "error", 3, 2, 10)
    frame = lambda *rows: spark.createDataFrame(list(rows), ddl(DQ_METRICS))  # noqa: E731
    outcomes = lambda df: {c.name: c.evaluate(CheckInput(written=df, read=None)).passed for c in DQ_METRICS.checks}  # noqa: E731
    assert outcomes(frame(good, ("usage_events", DAY, "EV-04", "quarantine", "error", 0, 0, 10))) == {
        "key_unique": True, "counts_consistent": True}
    assert outcomes(frame(good, good)) == {"key_unique": False, "counts_consistent": True}
    # A rule cannot quarantine more rows than it fired on.
    assert outcomes(frame(("usage_events", DAY, "EV-05", "quarantine", "error", 1, 2, 10))) == {
        "key_unique": True, "counts_consistent": False}
