import pytest

from cloud_analytics.cli import build_parser, main


@pytest.mark.parametrize("argv", [[], ["cassandra"], ["spark"], ["landing"], ["landing", "generate"], ["run"]])
def test_help_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: cloud-analytics" in capsys.readouterr().out


def test_known_failure_is_one_line_without_traceback(tmp_path, capsys):
    code = main(["landing", "import", str(tmp_path / "missing.zip"), "--out", str(tmp_path / "landing")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "missing.zip" in err
    assert "Traceback" not in err


def test_generated_docs_are_current():
    from cloud_analytics.docs_gen import write_docs

    assert write_docs(check=True) == [], "run `cloud-analytics docs` and commit the result"


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
