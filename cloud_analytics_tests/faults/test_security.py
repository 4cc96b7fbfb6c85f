"""Security: no personal data past bronze, no secret in Dagster's logs, CQL values always bound,
the UI bound to localhost.

(a) No full email address in any table past bronze: every Delta table under silver and gold,
    every Cassandra serving table, and the quarantine. The issue says "no ... full email
    address appears in logs, metadata or any table past bronze"; quarantine is past bronze (it
    is written by silver), so its raw records are held to the same rule: a quarantined user
    row must not carry the address in clear.
(b) The Cassandra password, the Astra token and the PII pepper are set to recognizable
    canaries for this package (see conftest); no Dagster event, log message, metadata entry,
    run config or tag of any run of the fault lake may contain them, nor an email address.
(c) CQL: values are bound (``?``), never formatted in (``serving/*.py``, ``serving/cql/*.cql``
    and ``speed/*.py``, which writes the same tables). f-strings may place identifiers from
    code constants (table and column names) and bind-marker lists; each such interpolation is
    listed below with why it is safe, so a new one fails until reviewed.
(d) ``make dev`` binds the Dagster UI to 127.0.0.1 unless DAGSTER_HOST says otherwise.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import hmac
import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from cloud_analytics.config import REPO_ROOT
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.conftest import CANARY_PASSWORD, CANARY_PEPPER, CANARY_TOKEN
from cloud_analytics_tests.faults.helpers import EMAIL, delta_tables, read, write_atomic

BAD_ROLE_EMAIL = "canary.person@fault-lake.example"   # a user quarantined for its role (DOM-02)
GOOD_EMAIL = "Second.Canary@Fault-Lake.example"      # a user kept
SPARK_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"  # EMAIL, for Java


@pytest.fixture(scope="module")
def users_run(fault_lake):
    """Two canary users appended to the generated users.csv, through bronze and silver."""
    s = fault_lake.settings
    path = s.landing / "users.csv"
    with open(s.landing / "customers_orgs.csv", newline="", encoding="utf-8") as handle:
        org = list(csv.DictReader(handle))[0]["org_id"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([
        ["usr_canary01", org, BAD_ROLE_EMAIL, "astronaut", "true", "2025-06-01", "2025-07-01"],
        ["usr_canary02", org, GOOD_EMAIL, "admin", "true", "2025-06-01", "2025-07-01"],
    ])
    write_atomic(path, path.read_bytes() + out.getvalue().encode())
    fault_lake.step("users", [*steps.keys("bronze", "users"), *steps.keys("silver", "users"),
                              *steps.keys("quarantine", "users")],
                    partition_key=fault_lake.today)
    return fault_lake


def _emails_in_delta(spark, path: Path) -> tuple[int, list[str]]:
    """Rows holding an email address in any text (strings; arrays, maps, structs as JSON),
    and the addresses of a few of them."""
    df = spark.read.format("delta").load(str(path))
    texts = [F.col(f"`{f.name}`") if isinstance(f.dataType, T.StringType) else F.to_json(F.col(f"`{f.name}`"))
             for f in df.schema.fields
             if isinstance(f.dataType, (T.StringType, T.ArrayType, T.MapType, T.StructType))]
    if not texts:
        return 0, []
    hits = df.select(F.concat_ws(" | ", *texts).alias("t")).filter(F.col("t").rlike(SPARK_EMAIL)).cache()
    rows = hits.count()
    sample = [m for r in hits.limit(3).collect() for m in EMAIL.findall(r.t)]
    hits.unpersist()
    return rows, sample


def _scan_lake(spark, settings, layers) -> dict[str, tuple[int, list[str]]]:
    found = {}
    for layer in layers:
        for table in delta_tables(Path(settings.lake) / layer):
            rows, sample = _emails_in_delta(spark, table)
            if rows:
                found[f"{layer}/{table.relative_to(Path(settings.lake) / layer)}"] = (rows, sample)
    return found


def test_no_email_in_silver_gold_or_cassandra(users_run, spark):
    s = users_run.settings
    # The scanner finds what is there: bronze keeps the addresses by design, one per user.
    with open(s.landing / "users.csv", newline="", encoding="utf-8") as handle:
        landed_users = sum(1 for row in csv.reader(handle) if row) - 1
    assert _scan_lake(spark, s, ["bronze"])["bronze/users"][0] == landed_users
    users = read(spark, s, "silver", "users").filter("user_id = 'usr_canary02'").first()
    assert users.email_domain == "fault-lake.example"
    assert users.email_hash == hmac.new(CANARY_PEPPER.encode(), GOOD_EMAIL.lower().encode(), hashlib.sha256).hexdigest()

    assert _scan_lake(spark, s, ["silver", "gold"]) == {}

    leaks = {}
    with CassandraResource.from_settings(s).session() as session:
        session.cluster.refresh_schema_metadata()
        tables = sorted(session.cluster.metadata.keyspaces[s.cassandra_keyspace].tables)
        assert "org_daily_usage" in tables
        for table in tables:
            for row in session.execute(f"SELECT * FROM {table}"):
                hits = EMAIL.findall(" ".join(str(v) for v in row))
                if hits:
                    leaks.setdefault(table, []).extend(hits)
    assert leaks == {}


def test_no_email_in_quarantine(users_run, spark):
    s = users_run.settings
    quarantined = read(spark, s, "quarantine", "users").filter(
        F.get_json_object("raw_record", "$.user_id") == "usr_canary01").collect()
    assert [q.rule_id for q in quarantined] == ["DOM-02"]  # the row is there, for its role
    assert _scan_lake(spark, s, ["quarantine"]) == {}


def _pads_hex(pepper: str) -> list[str]:
    key = pepper.encode().ljust(64, b"\0")
    return [bytes(b ^ pad for b in key).hex() for pad in (0x36, 0x5C)]


def test_no_secret_or_email_in_dagster_run_logs_or_metadata(users_run):
    from dagster import EnvVar
    from dagster._serdes import serialize_value

    instance = users_run.instance
    # The canaries were in force for these runs: the resources read them from the environment.
    assert os.environ["CLOUD_ANALYTICS_CASSANDRA_PASSWORD"] == CANARY_PASSWORD
    assert users_run.resources["cassandra"].password == EnvVar("CLOUD_ANALYTICS_CASSANDRA_PASSWORD")
    secrets = [CANARY_PASSWORD, CANARY_TOKEN, CANARY_PEPPER, *_pads_hex(CANARY_PEPPER)]
    runs = instance.get_runs()
    assert len(runs) >= 4  # at least the fault lake's: dims, stream, usage (to Cassandra), users
    found = []
    for run in runs:
        texts = [serialize_value(run)] + [serialize_value(entry) for entry in instance.all_logs(run.run_id)]
        for text in texts:
            lowered = text.lower()
            found += [(run.run_id, "secret", secret[:12]) for secret in secrets if secret.lower() in lowered]
            found += [(run.run_id, "email", e) for e in EMAIL.findall(text)]
    assert found == []


# -- (c) CQL is parameterized --------------------------------------------------------------------------

SERVING = REPO_ROOT / "cloud_analytics" / "serving"
CQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE|BATCH|FROM|WHERE|VALUES|USING)\b|\?")
# Every interpolation allowed in a CQL f-string: (file, expression) -> why it is not a value.
ALLOWED = {
    ("serving/window.py", "spec.name"): "table name, ServingSpec code constant",
    ("serving/window.py", "spec.partition_key"): "column name, ServingSpec code constant",
    ("serving/window.py", "spec.range_column"): "column name, ServingSpec code constant",
    ("serving/window.py", "where(spec)"): "'<column> = ?' fragments with bind markers only",
    ("serving/window.py", "where(spec, whole_table)"): "the same fragments, whole partitions (no range markers)",
    ("serving/window.py", "where(spec, start is None)"): "the same fragments, whole partitions (no range markers)",
    ("serving/window.py", "', '.join(spec.compare)"): "column names, ServingSpec code constant",
    ("serving/window.py", "k"): "key column names (spec.key), ServingSpec code constant",
    ("serving/loader.py", "table"): "table name, passed from ServingTable.name",
    ("serving/loader.py", "names"): "column names, passed from ServingTable.columns",
    ("serving/loader.py", "marks"): "'?, ?, …' bind markers",
    ("serving/schema.py", "table"): "table name, ADDED_COLUMNS code constant",
    ("serving/schema.py", "column"): "column name, ADDED_COLUMNS code constant",
    ("serving/schema.py", "cql_type"): "CQL type, ADDED_COLUMNS code constant",
    ("speed/stream.py", "self.paths.windows"): "a Delta table path from settings, in Spark SQL (not CQL)",
    ("speed/stream.py", "micros"): "an int (epoch microseconds), in Spark SQL (not CQL)",
}
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _cql_interpolations(path: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(interpolated expressions of CQL-looking f-strings, %-/format-formatted CQL strings)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    interpolated, formatted = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if CQL_WORDS.search(text):
                interpolated += [(ast.get_source_segment(source, v.value), v.lineno)
                                 for v in node.values if isinstance(v, ast.FormattedValue)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str) and CQL_WORDS.search(node.left.value):
            formatted.append((node.left.value[:40], node.lineno))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str) \
                and CQL_WORDS.search(node.func.value.value):
            formatted.append((node.func.value.value[:40], node.lineno))
    return interpolated, formatted


def test_cql_values_are_bound_never_formatted_into_statements():
    unknown, formatted = [], []
    # The serving layer, and the speed layer that writes the same Cassandra tables.
    package = REPO_ROOT / "cloud_analytics"
    for path in sorted([*SERVING.glob("*.py"), *(package / "speed").glob("*.py")]):
        if path.name == "local_node.py":  # starts the JVM; writes YAML, no CQL
            continue
        name = str(path.relative_to(package))
        interpolated, fmt = _cql_interpolations(path)
        unknown += [f"{name}:{line}: {{{expr}}}" for expr, line in interpolated if (name, expr) not in ALLOWED]
        formatted += [f"{name}:{line}: {text!r}" for text, line in fmt]
    assert unknown == [], "CQL f-string interpolations not reviewed (bind values with ?):\n" + "\n".join(unknown)
    assert formatted == [], "CQL built with % or .format:\n" + "\n".join(formatted)

    # What the allowed identifiers hold at run time: identifiers only, from code.
    from cloud_analytics.serving.specs import GOLD_FED as TABLES
    from cloud_analytics.serving.schema import ADDED_COLUMNS

    for spec in TABLES:
        names = [spec.name, spec.partition_key, *spec.column_names, *spec.key, *spec.compare]
        names += [spec.range_column] if spec.range_column else []
        assert all(IDENTIFIER.match(n) for n in names), spec.name
    for table, column, cql_type in ADDED_COLUMNS:
        assert IDENTIFIER.match(table) and IDENTIFIER.match(column) and IDENTIFIER.match(cql_type)
    loader_source = (SERVING / "loader.py").read_text(encoding="utf-8")
    assert 'marks = ", ".join("?" for _ in columns)' in loader_source


def test_cql_files_bind_every_value():
    """The .cql files are static text run as prepared statements: no formatting placeholder,
    and every comparison in a query is against a bind marker."""
    operator = re.compile(r"<=|>=|!=|=|<|>|\bIN\b|\bCONTAINS\b", re.I)
    problems = []
    files = sorted((SERVING / "cql").glob("*.cql"))
    assert len(files) >= 8
    for path in files:
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith("--"))
        if re.search(r"\{|%s|%\(", text):
            problems.append(f"{path.name}: a Python formatting placeholder")
        for statement in filter(None, (s.strip() for s in text.split(";"))):
            if not re.match(r"(SELECT|UPDATE|DELETE|INSERT)\b", statement, re.I):
                continue  # DDL: no values
            clause = re.split(r"\b(?:WHERE|SET|VALUES)\b", statement, maxsplit=1, flags=re.I)
            for match in operator.finditer(clause[-1] if len(clause) > 1 else ""):
                after = clause[-1][match.end():].lstrip()
                if not re.match(r"\?|\(\s*\?", after):
                    problems.append(f"{path.name}: {match.group()} {after[:20]!r} is not a bind marker")
    assert problems == []


def test_replication_options_cannot_inject_cql():
    hostile = CassandraResource(replication_class="NetworkTopologyStrategy",
                                datacenter="dc1': 1}; DROP KEYSPACE cloud_analytics; --")
    with pytest.raises(ValueError):
        hostile.replication_cql()


# -- (d) the UI binds to localhost -----------------------------------------------------------------------


def _dev_args(env: dict[str, str]) -> list[str]:
    """The arguments ``make dev`` gives ``dagster dev``, with the shell's expansion applied."""
    dry = subprocess.run(["make", "-n", "dev"], cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert dry.returncode == 0, dry.stderr
    line = next(line for line in dry.stdout.splitlines() if re.search(r"dagster dev\b", line))
    echo = re.sub(r"^\S*dagster dev", "printf '%s\\n'", line.strip())
    out = subprocess.run(["bash", "-c", echo], capture_output=True, text=True, env=env, timeout=60)
    return out.stdout.splitlines()


def test_the_dagster_ui_binds_localhost_unless_configured():
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOST", "DAGSTER_PORT")}
    args = _dev_args(env)
    assert "-h" in args and args[args.index("-h") + 1] == "127.0.0.1", args
    configured = _dev_args({**env, "DAGSTER_HOST": "10.1.2.3"})
    assert configured[configured.index("-h") + 1] == "10.1.2.3"
    for name in ("Makefile", "workspace.yaml", *[str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "deploy").glob("*") if p.is_file()]):
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        assert "0.0.0.0" not in text, f"{name} binds every interface"
