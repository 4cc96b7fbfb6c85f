"""The bronze specs are the stored tables: what the CSV ingest writes has exactly their columns."""

import subprocess
import sys
from datetime import date

from cloud_analytics.bronze.csv_ingest import ingest
from cloud_analytics.bronze.specs import BRONZE_BY_NAME, BRONZE_SPECS, CSV_REJECTS, CSV_SOURCES_BY_NAME

DAY = (date(2025, 9, 1), date(2025, 9, 1))
BILLING_HEADER = "invoice_id,org_id,month,subtotal,credits,taxes,currency,exchange_rate_to_usd"


def _schema(df):
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def _declared(spec):
    return [(c.name, c.type) for c in spec.columns]


def test_every_bronze_table_is_declared_once():
    assert [s.path for s in BRONZE_SPECS] == [
        "bronze/customers_orgs", "bronze/users", "bronze/resources", "bronze/billing_monthly",
        "bronze/support_tickets", "bronze/marketing_touches", "bronze/nps_surveys", "bronze/csv_rejects",
        "bronze/usage_events", "bronze/usage_events_rejects"]


def test_csv_tables_store_the_file_columns_then_the_bronze_columns():
    billing = BRONZE_BY_NAME["billing_monthly"]
    assert billing.column_names == [
        "invoice_id", "org_id", "month", "subtotal", "credits", "taxes", "currency", "exchange_rate_to_usd",
        "cast_errors", "key_conflict", "ingest_ts", "source_file"]
    assert (billing.partitions, billing.partition_column) == ("billing_monthly", "month")
    users = CSV_SOURCES_BY_NAME["users"]
    assert users.column_names == ["user_id", "org_id", "email", "role", "active", "created_at", "last_login"]
    assert users.spec.column_names[len(users.column_names):] == [
        "cast_errors", "key_conflict", "snapshot_date", "ingest_ts", "source_file"]
    assert (users.partitioning, users.partition_column, users.spec.partitions) == (
        "snapshot", "snapshot_date", "snapshot_daily")


def test_ingest_writes_exactly_the_declared_columns(spark, tmp_path):
    billing = CSV_SOURCES_BY_NAME["billing_monthly"]
    path = tmp_path / "billing_monthly.csv"
    path.write_text(BILLING_HEADER + "\ninv_1,org_1,2025-06-01,10.0,,2.1,USD,1.0\ninv_2,org_1,bad,1,1,1,USD,1\n")
    result = ingest(spark, path, billing, "billing_monthly.csv", (date(2025, 6, 1), date(2025, 6, 30)))
    assert _schema(result.rows) == _declared(billing.spec)
    assert _schema(result.rejects) == _declared(CSV_REJECTS) and result.rejects.count() == 1
    orgs = CSV_SOURCES_BY_NAME["customers_orgs"]
    header = ",".join(orgs.column_names)
    path = tmp_path / "customers_orgs.csv"
    path.write_text(header + "\norg_1,A,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n")
    assert _schema(ingest(spark, path, orgs, "o.csv", DAY).rows) == _declared(orgs.spec)


def test_an_empty_file_gives_the_declared_columns_too(spark, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    for name in ("customers_orgs", "billing_monthly"):
        source = CSV_SOURCES_BY_NAME[name]
        assert _schema(ingest(spark, path, source, "empty.csv", DAY).rows) == _declared(source.spec), name


def test_specs_do_not_import_dagster():
    code = "import sys, cloud_analytics.bronze.specs; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
