"""The serving specs against the CQL that creates the tables (no Cassandra needed), the gold
marts they load from, and what their row builders produce."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

import cloud_analytics.serving as serving_package
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.serving.specs import GOLD_FED, SERVING_BY_NAME, SERVING_SPECS, SPEED_FED, ServingSpec

SCHEMA_CQL = Path(serving_package.__file__).parent / "cql" / "schema.cql"
CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\)\s*(?:WITH\b.*)?$", re.S)


def _split_top_level(body: str) -> list[str]:
    """Comma-separated items of a CREATE TABLE body, commas inside <...> and (...) kept."""
    items, depth, current = [], 0, ""
    for ch in body:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += ch
    return [i for i in [*items, current.strip()] if i]


def _primary_key(definition: str) -> tuple[str, ...]:
    inner = definition[definition.index("(") + 1:definition.rindex(")")]
    return tuple(name.strip(" ()") for name in inner.split(","))


def parse_cql_tables(text: str) -> dict[str, dict]:
    """{table: {"columns": [(name, type)], "key": (primary key columns, partition key first)}}."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    tables = {}
    for statement in filter(None, (s.strip() for s in text.split(";"))):
        match = CREATE.match(statement)
        assert match, f"not a CREATE TABLE statement: {statement[:60]!r}"
        columns, key = [], ()
        for item in _split_top_level(match.group(2)):
            if item.upper().startswith("PRIMARY KEY"):
                key = _primary_key(item)
                continue
            name, cql_type = item.split(None, 1)
            if cql_type.upper().endswith(" PRIMARY KEY"):  # table_name text PRIMARY KEY
                cql_type, key = cql_type[: -len(" PRIMARY KEY")], (name,)
            columns.append((name, " ".join(cql_type.split())))
        tables[match.group(1)] = {"columns": columns, "key": key}
    return tables


CQL = parse_cql_tables(SCHEMA_CQL.read_text(encoding="utf-8"))


def test_the_parser_reads_what_the_file_says():
    # Hand-read from cql/schema.cql: the parser must get these right for the comparisons below to mean anything.
    assert CQL["revenue_by_month"]["columns"][:2] == [("month", "date"), ("org_id", "text")]
    assert CQL["revenue_by_month"]["key"] == ("month", "org_id")
    assert ("metrics", "map<text, double>") in CQL["org_daily_usage"]["columns"]
    assert CQL["usage_alerts_by_org"]["key"] == ("org_id", "alert_date", "event_ts", "alert_id")
    assert CQL["serving_state"]["key"] == ("table_name",)


@pytest.mark.parametrize("spec", [s for s in SERVING_SPECS if not s.view_of], ids=lambda s: s.name)
def test_declared_columns_types_and_primary_key_are_the_cql_tables(spec):
    assert spec.name in CQL, f"{spec.name}: no CREATE TABLE in {SCHEMA_CQL.name}"
    table = CQL[spec.name]
    assert [(c.name, c.type) for c in spec.columns] == table["columns"]
    assert spec.key == table["key"]
    assert spec.partition_key == table["key"][0]


def test_every_cql_table_is_declared_except_the_state_table():
    declared = {t for s in SERVING_SPECS for t in s.cql_tables}
    assert set(CQL) - declared == {"serving_state"}
    assert SERVING_BY_NAME["speed_view"].cql_tables == ("org_daily_usage", "genai_by_org_day")


def test_every_column_has_a_meaning_and_the_specs_are_serving_layer():
    for spec in SERVING_SPECS:
        assert spec.layer == "serving" and spec.description and spec.grain
        assert all(c.meaning for c in spec.columns), spec.name


@pytest.mark.parametrize("spec", GOLD_FED, ids=lambda s: s.name)
def test_gold_fed_tables_are_partitioned_like_their_mart(spec):
    mart = GOLD_BY_NAME[spec.mart]
    assert spec.partitions == mart.partitions
    assert spec.deps[0].table == f"gold/{spec.mart}"
    assert spec.build is not None and spec.compare and spec.total is not None
    assert (spec.range_column is None) == (spec.name == "revenue_by_month")  # whole-month partitions


def test_speed_fed_tables_run_with_the_stream():
    assert [s.name for s in SPEED_FED] == ["usage_alerts_by_org", "live_usage_by_org", "speed_view"]
    assert all(s.partitions == "stream_runs" and s.mart is None and s.build is None for s in SPEED_FED)
    assert {d.table for s in SPEED_FED for d in s.deps} == {"speed/usage_alerts", "speed/usage_windows",
                                                           "bronze/usage_events"}


def test_audit_totals_are_the_ones_reconciled_today():
    # SERVING_AUDITS as the audit held it before the specs: (total column, gold figure, extras, rows figure).
    expected = {
        "org_daily_usage": ("daily_cost_usd", "daily_cost_usd", (("event_count", "events"),), "rows"),
        "genai_by_org_day": ("recorded_cost_usd", "recorded_cost_usd", (), "rows"),
        "cost_anomalies_by_org": ("daily_cost_usd", "daily_cost_usd", (), "rows"),
        "customer_health_by_org": ("health_score", "health_score", (), "rows"),
        "tickets_by_org_day": ("opened", "opened", (), "rows"),
        "tickets_by_day": ("opened", "opened", (), "org_days"),
        "revenue_by_org": ("total_usd", "total_usd", (), "rows"),
        "revenue_by_month": ("total_usd", "total_usd", (), "rows"),
        # The all-org tables (issue 17): one partition each, reconciled with gold like the others.
        "platform_tickets_by_day": ("opened", "opened", (("critical", "critical_count"),), "days_opened"),
        "platform_revenue_by_month": ("total_usd", "total_usd", (), "months"),
        # The dashboard's platform overview (issue 18).
        "platform_cost_by_day": ("cost_usd", "cost_usd", (("anomalies", "anomalies"),), "days"),
    }
    got = {s.name: (s.total.column, s.total.label, s.total.extras, s.total.rows) for s in SERVING_SPECS if s.total}
    assert got == expected


def test_a_spec_naming_an_undeclared_column_is_refused():
    with pytest.raises(ValueError, match="not declared"):
        replace(SERVING_BY_NAME["revenue_by_org"], compare=("total_usd", "no_such_column"))
    with pytest.raises(ValueError, match="partition key"):
        replace(SERVING_BY_NAME["revenue_by_org"], partition_key="month")
    assert isinstance(SERVING_BY_NAME["revenue_by_org"], ServingSpec)


@pytest.mark.parametrize("spec", GOLD_FED, ids=lambda s: s.name)
def test_build_returns_the_declared_columns_in_order(spec, spark):
    mart = GOLD_BY_NAME[spec.mart]
    empty = spark.createDataFrame([], ", ".join(f"`{c.name}` {c.type}" for c in mart.columns))
    assert spec.build(empty).columns == spec.column_names


def test_the_platform_tables_are_one_partition_sliced_by_date():
    # Hand-read from cql/schema.cql: one partition key, the date clustering newest first.
    assert CQL["platform_tickets_by_day"]["key"] == ("scope", "ticket_date")
    assert CQL["platform_revenue_by_month"]["key"] == ("scope", "month")
    assert CQL["platform_cost_by_day"]["key"] == ("scope", "usage_date")
    assert ("total_usd", "decimal") in CQL["platform_revenue_by_month"]["columns"]
    tickets, revenue = SERVING_BY_NAME["platform_tickets_by_day"], SERVING_BY_NAME["platform_revenue_by_month"]
    assert (tickets.partition_key, tickets.range_column, tickets.partitions) == ("scope", "ticket_date", None)
    assert (revenue.partition_key, revenue.range_column, revenue.partitions) == ("scope", "month", "billing_monthly")


def _tickets_mart(spark, rows):
    mart = GOLD_BY_NAME["tickets_by_org_date"]
    names = [c.name for c in mart.columns]
    full = [{**dict.fromkeys(names), **r} for r in rows]
    return spark.createDataFrame([tuple(r[n] for n in names) for r in full],
                                 ", ".join(f"`{c.name}` {c.type}" for c in mart.columns))


def test_platform_tickets_sum_every_org_per_day_and_keep_only_days_with_tickets_opened(spark):
    from datetime import date

    def row(org, day, severity, opened, critical, breached, resolved=0):
        return {"org_id": org, "date": date(2025, 8, day), "severity": severity, "opened": opened,
                "critical_count": critical, "sla_breached": breached, "resolved": resolved}

    mart = _tickets_mart(spark, [
        row("org_1", 1, "critical", 2, 2, 1), row("org_1", 1, "low", 3, 0, 0), row("org_2", 1, "high", 1, 0, 1),
        row("org_2", 2, "critical", 1, 1, 0, resolved=2),
        row("org_1", 5, "low", 0, 0, 0, resolved=3), row("org_2", 5, "high", 0, 0, 0, resolved=1),  # resolutions only
    ])
    got = sorted((r.scope, r.ticket_date, r.opened, r.critical, r.sla_breached)
                 for r in SERVING_BY_NAME["platform_tickets_by_day"].build(mart).collect())
    # By hand: Aug 1 = 2+3+1 opened, 2 critical, 1+1 breached; Aug 2 = 1, 1, 0; Aug 5 opened nothing.
    assert got == [("all", date(2025, 8, 1), 6, 2, 2), ("all", date(2025, 8, 2), 1, 1, 0)]


def test_platform_cost_sums_every_org_per_day_and_counts_the_anomalous_service_days(spark):
    from datetime import date
    from decimal import Decimal as D

    mart = GOLD_BY_NAME["cost_anomaly_mart"]
    names = [c.name for c in mart.columns]

    def row(org, day, service, cost, anomaly):
        values = {"org_id": org, "date": date(2025, 8, day), "service": service, "daily_cost_usd": D(cost),
                  "is_anomaly": anomaly}
        return tuple(values.get(n) for n in names)

    frame = spark.createDataFrame([
        row("org_1", 1, "compute", "10.500000", True), row("org_1", 1, "storage", "2.000000", True),
        row("org_2", 1, "compute", "4.250000", False), row("org_2", 2, "genai", "1.000000", False),
    ], ", ".join(f"`{c.name}` {c.type}" for c in mart.columns))
    got = {r.usage_date: (r.scope, r.cost_usd, r.orgs, r.anomalies, r.anomalous_orgs)
           for r in SERVING_BY_NAME["platform_cost_by_day"].build(frame).collect()}
    # By hand: Aug 1 = 10.5 + 2 + 4.25 over 2 orgs, 2 anomalous service days of 1 org; Aug 2 = 1, 1 org, none.
    assert got == {date(2025, 8, 1): ("all", D("16.750000"), 2, 2, 1), date(2025, 8, 2): ("all", D("1.000000"), 1, 0, 0)}


def test_platform_revenue_sums_usd_amounts_and_counts_the_orgs_without_them(spark):
    from datetime import date
    from decimal import Decimal as D

    mart = GOLD_BY_NAME["revenue_by_org_month"]
    names = [c.name for c in mart.columns]

    def row(org, month, currency, fx, total, total_usd):
        usd = None if total_usd is None else D(total_usd)
        values = {"org_id": org, "month": date(2025, month, 1), "currency": currency, "fx_rate": fx,
                  "subtotal": D(total), "credits": D("0.00"), "taxes": D("0.00"), "total": D(total),
                  "subtotal_usd": usd, "credits_usd": None if usd is None else D("0.00"),
                  "taxes_usd": None if usd is None else D("0.00"), "total_usd": usd}
        return tuple(values.get(n) for n in names)

    frame = spark.createDataFrame([
        row("org_1", 7, "USD", 1.0, "100.00", "100.00"),
        row("org_2", 7, "ARS", 0.0015, "200000.00", "300.00"),  # 200,000 ARS x 0.0015 = 300 USD
        row("org_3", 7, "ARS", None, "50000.00", None),  # no rate: no USD amount
        row("org_1", 8, "USD", 1.0, "10.50", "10.50"),
    ], ", ".join(f"`{c.name}` {c.type}" for c in mart.columns))
    got = {r.month: (r.scope, r.orgs, r.orgs_without_usd, r.total_usd, r.subtotal_usd)
           for r in SERVING_BY_NAME["platform_revenue_by_month"].build(frame).collect()}
    # In USD only: 100 + 300 (never the 200,000 or 50,000 ARS), org_3 counted apart.
    assert got == {date(2025, 7, 1): ("all", 3, 1, D("400.00"), D("400.00")),
                   date(2025, 8, 1): ("all", 1, 0, D("10.50"), D("10.50"))}

