"""Rules of the CSV-fed tables, one tiny frame per table, expectations literal.

Each case is (label, overrides, expected): expected is ("kept", dq_flags, {column: value})
or ("quarantined", rule_id, rule_ids, reason). The label is written into a column the
table does not test (a key, or the free-text comment) to find the row again.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from cloud_analytics.quality import evaluate
from cloud_analytics_tests.quality.frames import csv_rows, refs

LABEL = {"customers_orgs": "org_name", "users": "user_id", "resources": "resource_id",
         "billing_monthly": "invoice_id", "support_tickets": "ticket_id",
         "marketing_touches": "touch_id", "nps_surveys": "comment"}

CASES = {
    "customers_orgs": [
        ("ok", {}, ("kept", [], {})),
        ("alias", {"industry": " fintech ", "hq_region": "EU_WEST"}, ("kept", [], {"industry": " fintech "})),
        ("bad_domain", {"industry": "Banking", "sales_rep": "rep_z"},
         ("quarantined", "DOM-02", ["DOM-02"],
          "DOM-02: industry='Banking' not in domain; sales_rep='rep_z' not in domain")),
        ("nps_out", {"nps_score": 101.0}, ("kept", ["DOM-01"], {"nps_score": 101.0})),
        ("cast", {"signup_date": None, "cast_errors": {"signup_date": "2025-13-45"}},
         ("quarantined", "CAST-01", ["CAST-01"], "CAST-01: value(s) not of their column type: signup_date='2025-13-45'")),
        ("no_key", {"org_id": None}, ("quarantined", "KEY-02", ["KEY-02"], "KEY-02: org_id=null")),
        ("conflict", {"key_conflict": True}, ("kept", ["KEY-01"], {})),
    ],
    "users": [
        ("ok", {}, ("kept", [], {})),
        ("no_org", {"org_id": "org_zz"},
         ("quarantined", "RI-01", ["RI-01"], "RI-01: org_id='org_zz' not found in customers_orgs")),
        ("early", {"created_at": date(2025, 5, 20)}, ("kept", ["TI-01"], {})),
        ("role_case", {"role": " ADMIN "}, ("kept", [], {})),
        ("role_bad", {"role": "boss"}, ("quarantined", "DOM-02", ["DOM-02"], "DOM-02: role='boss' not in domain")),
    ],
    "resources": [
        ("ok", {}, ("kept", [], {})),
        ("early", {"created_at": date(2025, 5, 1)}, ("kept", ["TI-01"], {})),
        ("state_bad", {"state": "deleted"},
         ("quarantined", "DOM-02", ["DOM-02"], "DOM-02: state='deleted' not in domain")),
    ],
    "billing_monthly": [
        ("ok", {}, ("kept", [], {"credits": 10.0, "exchange_rate_to_usd": 1.1})),
        ("no_credits", {"credits": None}, ("kept", ["BI-02"], {"credits": 0.0})),
        ("usd_rate", {"currency": "USD", "exchange_rate_to_usd": 0.9},
         ("kept", ["BI-03"], {"exchange_rate_to_usd": 1.0, "currency": "USD"})),
        ("usd_ok", {"currency": " usd", "exchange_rate_to_usd": 1.0}, ("kept", [], {"exchange_rate_to_usd": 1.0})),
        ("both_fixes", {"currency": "USD", "exchange_rate_to_usd": None, "credits": None},
         ("kept", ["BI-02", "BI-03"], {"exchange_rate_to_usd": 1.0, "credits": 0.0})),
        ("sign", {"subtotal": -50.0, "taxes": 10.5}, ("kept", ["BI-01"], {"subtotal": -50.0})),
        ("zero", {"subtotal": 0.0, "taxes": 0.0}, ("kept", [], {})),
        ("gbp", {"currency": "GBP"}, ("quarantined", "DOM-02", ["DOM-02"], "DOM-02: currency='GBP' not in domain")),
    ],
    "support_tickets": [
        ("ok", {}, ("kept", [], {})),
        ("backwards", {"resolved_at": date(2025, 6, 30)},
         ("quarantined", "TK-01", ["TK-01"], "TK-01: resolved_at='2025-06-30' before created_at='2025-07-01'")),
        ("csat_6", {"csat": 6.0}, ("kept", ["TK-02"], {"csat": 6.0})),
        ("csat_0", {"csat": 0.0}, ("kept", ["TK-02"], {})),
        ("open_csat", {"resolved_at": None, "csat": 3.0}, ("kept", ["TK-03"], {})),
        ("open_csat_7", {"resolved_at": None, "csat": 7.0}, ("kept", ["TK-02", "TK-03"], {})),
        ("open_clean", {"resolved_at": None, "csat": None}, ("kept", [], {})),
        ("early", {"created_at": date(2025, 5, 20), "resolved_at": None, "csat": None}, ("kept", ["TI-01"], {})),
        ("sev_bad", {"severity": "urgent"},
         ("quarantined", "DOM-02", ["DOM-02"], "DOM-02: severity='urgent' not in domain")),
    ],
    "marketing_touches": [
        ("ok", {}, ("kept", [], {})),
        ("channel_case", {"channel": " In_App"}, ("kept", [], {})),
        ("fax", {"channel": "fax"}, ("quarantined", "DOM-02", ["DOM-02"], "DOM-02: channel='fax' not in domain")),
    ],
    "nps_surveys": [
        ("ok", {}, ("kept", [], {})),
        ("low", {"nps_score": -120.0}, ("kept", ["DOM-01"], {})),
        ("early", {"survey_date": date(2025, 5, 30)}, ("kept", ["TI-01"], {})),
        ("no_org", {"org_id": "org_zz"},
         ("quarantined", "RI-01", ["RI-01"], "RI-01: org_id='org_zz' not found in customers_orgs")),
    ],
}

PARAMS = [pytest.param(table, label, expected, id=f"{table}-{label}")
          for table, cases in CASES.items() for label, _, expected in cases]


@pytest.fixture(scope="module")
def outcomes(spark):
    out = {}
    for table, cases in CASES.items():
        df = csv_rows(spark, table, *[{LABEL[table]: label, **o} for label, o, _ in cases])
        ev = evaluate(df, table, refs(spark))
        kept = {r[LABEL[table]]: r for r in ev.kept.collect()}
        quarantined = {json.loads(r.raw_record)[LABEL[table]]: r for r in ev.quarantined.collect()}
        assert len(kept) + len(quarantined) == len(cases)
        out[table] = (kept, quarantined)
    return out


@pytest.mark.parametrize(("table", "label", "expected"), PARAMS)
def test_rule_outcome(outcomes, table, label, expected):
    kept, quarantined = outcomes[table]
    if expected[0] == "kept":
        assert label in kept, f"{label} was quarantined: {quarantined.get(label)}"
        row = kept[label]
        assert row.dq_flags == expected[1]
        assert {c: row[c] for c in expected[2]} == expected[2]
    else:
        assert label in quarantined, f"{label} was kept: {kept.get(label)}"
        row = quarantined[label]
        assert (row.rule_id, row.rule_ids, row.reason) == expected[1:]
        assert row.table == table and row.source_file == f"{table}.csv"


def test_partition_value_of_quarantined_rows(outcomes):
    assert outcomes["billing_monthly"][1]["gbp"].partition_date == date(2025, 7, 1)  # the invoice month
    assert outcomes["users"][1]["no_org"].partition_date == date(2025, 8, 1)  # the snapshot day


def test_missing_reference_frame_is_an_error(spark):
    df = csv_rows(spark, "users", {})
    with pytest.raises(KeyError, match="needs reference frame 'orgs'"):
        evaluate(df, "users", {})
