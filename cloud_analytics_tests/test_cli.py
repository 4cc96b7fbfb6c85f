import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_analytics.cli import build_parser, main

CLI = str(Path(sys.executable).with_name("cloud-analytics"))


@pytest.mark.fast
@pytest.mark.parametrize("argv", [[], ["cassandra"], ["spark"], ["landing"], ["landing", "generate"], ["run"]])
def test_help_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: cloud-analytics" in capsys.readouterr().out


@pytest.mark.fast
def test_known_failure_is_one_line_without_traceback(tmp_path, capsys):
    code = main(["landing", "import", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "landing")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "missing.zip" in err
    assert "Traceback" not in err


def test_generated_docs_are_current():
    from cloud_analytics.docs_gen import write_docs

    assert write_docs(check=True) == [], "run `cloud-analytics docs` and commit the result"


@pytest.mark.fast
def test_query_output_prints_rates_with_six_significant_digits_and_money_in_cents(capsys):
    import json
    from datetime import date
    from decimal import Decimal

    from cloud_analytics.cli import _print_rows

    # A q4 row of an ARS org (USD per peso ~0.0015) and a USD one, and q1 rows with and without carbon.
    q4 = [{"month": date(2025, 7, 1), "currency": "ARS", "fx_rate": 0.00153846154, "total_usd": Decimal("307.692")},
          {"month": date(2025, 8, 1), "currency": "USD", "fx_rate": 1.0, "total_usd": Decimal("1234.5")}]
    _print_rows(q4, "table")
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["2025-07-01", "ARS", "0.00153846", "307.69"]
    assert lines[3].split() == ["2025-08-01", "USD", "1.00", "1,234.50"]
    _print_rows(q4, "json")
    printed = json.loads(capsys.readouterr().out)
    assert [r["fx_rate"] for r in printed] == [0.00153846154, 1.0]  # every digit for machines
    assert [r["total_usd"] for r in printed] == [307.69, 1234.5]

    q1 = [{"service": "compute", "daily_cost_usd": Decimal("2.5"), "carbon_kg": 0.0123456789, "cost_usd": 0.126,
           "sla_breach_rate": 0.1},
          {"service": "genai", "daily_cost_usd": Decimal("0.004"), "carbon_kg": None, "cost_usd": 3.0,
           "sla_breach_rate": 1 / 3}]
    _print_rows(q1, "table")
    lines = capsys.readouterr().out.splitlines()
    # carbon 6 significant digits, blank when not measured (never 0); money doubles (_usd) in cents.
    assert lines[2].split() == ["compute", "2.50", "0.0123457", "0.13", "0.10"]
    assert lines[3].split() == ["genai", "0.00", "3.00", "0.333333"]
    _print_rows(q1, "json")
    assert [r["carbon_kg"] for r in json.loads(capsys.readouterr().out)] == [0.0123456789, None]


# -- `cloud-analytics query`: argument mistakes, in process (nothing is connected) -------------------


@pytest.mark.fast
@pytest.mark.parametrize("option", ["--as-of", "--start", "--end"])
def test_a_bad_date_names_the_option_and_the_format(option, capsys):
    assert main(["query", "q1", "--org", "org_x", option, "2025-13-40"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {option} 2025-13-40 is not a date (YYYY-MM-DD)\n" and captured.out == ""


@pytest.mark.fast
@pytest.mark.parametrize("name", ["q1", "q2", "q5", "anomalies", "health", "alerts", "live"])
def test_an_org_query_without_an_org_says_so(name, capsys):
    assert main(["query", name]) == 2
    assert capsys.readouterr().err == f"error: {name} needs --org ORG_ID\n"


# -- `cloud-analytics query` as a separate process, with the test session's environment ------------


def query(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "query", *args], env=env or dict(os.environ), capture_output=True, text=True,
                          timeout=120)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """A failure as the CLI promises it: exit 2, nothing on stdout, one line on stderr, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def served_org(serving_run) -> str:
    """The org ranked first by the orgs query (so it has cost, hence rows, in the newest 30 days)."""
    done = query("orgs", "--top", "1", "--format", "json")
    assert done.returncode == 0, done.stderr
    [top] = json.loads(done.stdout)
    return top["org_id"]


def test_the_query_command_prints_the_rows_of_a_served_org(served_org, cassandra):
    from cloud_analytics.serving import queries

    q1, health = query("q1", "--org", served_org, "--format", "json"), query("health", "--org", served_org,
                                                                         "--format", "json")
    assert (q1.returncode, q1.stderr, health.returncode, health.stderr) == (0, "", 0, "")
    printed, [assessment] = json.loads(q1.stdout), json.loads(health.stdout)
    with cassandra.session() as session:  # the same rows as the query function (tested against gold)
        rows = queries.q1_daily_cost(session, served_org)
        [latest] = queries.customer_health(session, served_org)
    assert printed and [(r["usage_date"], r["service"]) for r in printed] == [
        (r["usage_date"].isoformat(), r["service"]) for r in rows]
    assert [r["daily_cost_usd"] for r in printed] == [float(round(r["daily_cost_usd"], 2)) for r in rows]
    assert (assessment["as_of_date"], assessment["risk_band"]) == (latest["as_of_date"].isoformat(), latest["risk_band"])
    table = query("q2", "--org", served_org)  # the table form: a header, a rule, rows, the count
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:2] == ["rank", "service"]
    assert table.stdout.rstrip().endswith(" rows)")


@pytest.mark.parametrize("args", [["q1"], ["health"], ["live"], ["alerts"], ["q4"]])
def test_an_unknown_org_is_one_line_and_exit_2(served_org, args):
    err = one_line_error(query(*args, "--org", "org_does_not_exist"))
    assert err == ("error: unknown org org_does_not_exist: no such org is served "
                   "(see cloud-analytics query orgs --top 0)\n")


def test_a_served_org_with_nothing_in_the_window_prints_no_rows(served_org):
    done = query("q1", "--org", served_org, "--as-of", "2020-01-31")
    assert (done.returncode, done.stdout, done.stderr) == (0, "(no rows)\n", "")
    done = query("q1", "--org", served_org, "--as-of", "2020-01-31", "--format", "json")
    assert (done.returncode, json.loads(done.stdout)) == (0, [])


def test_a_bad_as_of_date_is_one_line_naming_the_option():
    err = one_line_error(query("q2", "--org", "org_x", "--as-of", "2025-13-40"))
    assert err == "error: --as-of 2025-13-40 is not a date (YYYY-MM-DD)\n"


def test_cassandra_down_is_one_line_naming_host_and_port():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = one_line_error(query("q1", "--org", "org_x", env={**os.environ, "CLOUD_ANALYTICS_CASSANDRA_PORT": str(port)}))
    assert err.startswith(f"error: Cannot reach Cassandra at 127.0.0.1:{port}") and "Is the node running?" in err
