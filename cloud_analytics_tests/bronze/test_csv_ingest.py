"""Bronze CSV ingestion on small files the tests write themselves."""

from datetime import date

import pytest

from cloud_analytics.bronze.csv_ingest import CsvLayoutError, count_records, ingest, read_header
from cloud_analytics.bronze.specs import CSV_SOURCES_BY_NAME

ORGS = CSV_SOURCES_BY_NAME["customers_orgs"]
RESOURCES = CSV_SOURCES_BY_NAME["resources"]
BILLING = CSV_SOURCES_BY_NAME["billing_monthly"]
DAY = (date(2025, 9, 1), date(2025, 9, 1))
ORG_HEADER = "org_id,org_name,industry,hq_region,plan_tier,is_enterprise,signup_date,sales_rep,lifecycle_stage,marketing_source,nps_score"


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def _rows(result):
    return {r.org_id if "org_id" in r else r[0]: r for r in result.rows.collect()}


def test_bom_crlf_and_quoted_json_field(spark, tmp_path):
    path = _write(tmp_path / "resources.csv",
                  "\ufeffresource_id,org_id,service,region,created_at,state,tags_json\r\n"
                  'res_a,org_1,compute,us-east,2025-05-04,running,"[""env:prod"",""pii:true""]"\r\n'
                  "res_b,org_1,storage,eu-west,2025-06-01,stopped,\r\n")
    result = ingest(spark, path, RESOURCES, "landing/resources.csv", DAY)
    rows = {r.resource_id: r for r in result.rows.collect()}
    assert result.landed == 2 and set(rows) == {"res_a", "res_b"}
    assert rows["res_a"].tags_json == '["env:prod","pii:true"]'
    assert rows["res_b"].tags_json is None and rows["res_b"].state == "stopped"
    assert rows["res_a"].created_at == date(2025, 5, 4)
    assert rows["res_a"].snapshot_date == date(2025, 9, 1)
    assert rows["res_a"].source_file == "landing/resources.csv"
    assert result.rejects.count() == 0


def test_failed_cast_is_kept_with_its_raw_text(spark, tmp_path):
    path = _write(tmp_path / "o.csv", ORG_HEADER + "\n"
                  "org_1,A 0,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,abc\n"
                  "org_2,B 1,Media,us-east,pro,maybe,2025-13-40,rep_a,active,ads,12.0\n")
    rows = {r.org_id: r for r in ingest(spark, path, ORGS, "o.csv", DAY).rows.collect()}
    assert rows["org_1"].nps_score is None and rows["org_1"].cast_errors == {"nps_score": "abc"}
    assert rows["org_1"].is_enterprise is True
    assert rows["org_2"].cast_errors == {"is_enterprise": "maybe", "signup_date": "2025-13-40"}
    assert rows["org_2"].nps_score == 12.0


def test_exact_duplicates_removed_and_conflicts_flagged(spark, tmp_path):
    line = "org_1,A 0,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n"
    path = _write(tmp_path / "o.csv", ORG_HEADER + "\n" + line + line + line
                  + "org_2,B 1,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n"
                  + "org_2,B 1,Media,us-east,free,True,2025-05-04,rep_a,active,ads,10.0\n")
    result = ingest(spark, path, ORGS, "o.csv", DAY)
    rows = result.rows.collect()
    assert result.landed == 5 and result.duplicates_removed == 2
    assert sorted(r.org_id for r in rows) == ["org_1", "org_2", "org_2"]
    assert {(r.org_id, r.key_conflict) for r in rows} == {("org_1", False), ("org_2", True)}


def test_malformed_lines_empty_keys_and_bad_bytes_are_rejected_with_reasons(spark, tmp_path):
    body = (ORG_HEADER + "\n"
            "org_1,A 0,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n"
            "org_2,B 1,Media,us-east\n"
            "org_3,C 2,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0,surplus\n"
            ",D 3,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n").encode()
    body += b"org_5,Caf\xe9 4,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n"
    path = _write(tmp_path / "o.csv", body)
    result = ingest(spark, path, ORGS, "o.csv", DAY)
    assert [r.org_id for r in result.rows.collect()] == ["org_1"]
    reasons = sorted(r.reason.split(":")[0] for r in result.rejects.collect())
    assert reasons == ["invalid_utf8", "malformed_line", "malformed_line", "missing_key"]
    assert all(r.partition_key == "2025-09-01" and r.source_file == "o.csv" for r in result.rejects.collect())
    assert result.landed == 5


def test_snapshot_window_writes_the_capture_for_each_day(spark, tmp_path):
    path = _write(tmp_path / "o.csv", ORG_HEADER + "\norg_1,A 0,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,1.0\n")
    rows = ingest(spark, path, ORGS, "o.csv", (date(2025, 9, 1), date(2025, 9, 3))).rows.collect()
    assert sorted(r.snapshot_date.day for r in rows) == [1, 2, 3]


def test_billing_keeps_the_window_and_rejects_unusable_months(spark, tmp_path):
    path = _write(tmp_path / "b.csv", "invoice_id,org_id,month,subtotal,credits,taxes,currency,exchange_rate_to_usd\n"
                  "inv_1,org_1,2025-06-01,10.0,,2.1,USD,0.9\n"
                  "inv_2,org_1,2025-07-01,10.0,1.0,2.1,EUR,1.1\n"
                  "inv_3,org_1,not-a-month,10.0,1.0,2.1,EUR,1.1\n"
                  "inv_4,org_1,2024-01-01,10.0,1.0,2.1,EUR,1.1\n")
    result = ingest(spark, path, BILLING, "b.csv", (date(2025, 6, 1), date(2025, 6, 30)),
                    partition_floor=date(2025, 6, 1))
    assert [r.invoice_id for r in result.rows.collect()] == ["inv_1"]
    rejects = {r.line.split('"invoice_id":"')[1][:5]: r for r in result.rejects.collect()}
    assert set(rejects) == {"inv_3", "inv_4"}
    assert all(r.partition_key == "invalid" for r in rejects.values())


def test_missing_and_extra_columns_name_the_file_and_columns(tmp_path):
    missing = _write(tmp_path / "customers_orgs.csv", ORG_HEADER.replace(",sales_rep", "") + "\n")
    with pytest.raises(CsvLayoutError, match=r"customers_orgs\.csv.*missing column\(s\) sales_rep"):
        read_header(missing, ORGS)
    extra = _write(tmp_path / "x.csv", ORG_HEADER + ",shoe_size\n")
    with pytest.raises(CsvLayoutError, match=r"x\.csv.*unexpected column\(s\) shoe_size"):
        read_header(extra, ORGS)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_header(tmp_path / "nope.csv", ORGS)


def test_empty_file_is_zero_rows_not_an_error(spark, tmp_path):
    path = _write(tmp_path / "o.csv", "")
    result = ingest(spark, path, ORGS, "o.csv", DAY)
    assert result.empty_file and result.landed == 0
    assert result.rows.count() == 0 and result.rejects.count() == 0
    header_only = _write(tmp_path / "h.csv", ORG_HEADER + "\r\n")
    assert ingest(spark, header_only, ORGS, "h.csv", DAY).rows.count() == 0
    assert count_records(header_only) == 0


def test_counts_asked_before_the_rows_are_read_read_them_once(spark, tmp_path):
    line = "org_1,A 0,Media,us-east,pro,True,2025-05-04,rep_a,active,ads,10.0\n"
    path = _write(tmp_path / "o.csv", ORG_HEADER + "\n" + line + line + "org_2,B 1,Media\n")
    result = ingest(spark, path, ORGS, "o.csv", DAY)
    # Normally counted while the rows are written; asked first, they read the rows for it.
    assert (result.landed, result.duplicates_removed) == (3, 1)
    assert result.rejects.count() == 1 and len(result.rows.collect()) == 1
