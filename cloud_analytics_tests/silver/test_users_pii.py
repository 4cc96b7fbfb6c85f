"""Users: emails pseudonymized with a keyed HMAC-SHA256, never kept in clear."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from cloud_analytics.quality import evaluate
from cloud_analytics.silver.dims import conform_users
from cloud_analytics.silver.pii import PEPPER_ENV, PepperError, hmac_pads, with_hmac
from cloud_analytics_tests.quality.frames import csv_rows, refs

PEPPER = "test-pepper-0123456789abcdef"
OTHER = "another-pepper-0123456789abcdef"


def _users(spark, pepper):
    bronze = csv_rows(
        spark, "users",
        {"user_id": "u1", "email": "user_1@example.com"},
        {"user_id": "u2", "email": "  USER_1@Example.COM "},
        {"user_id": "u3", "email": "user_3@corp.example.org", "last_login": None, "role": " Data_Engineer"},
        {"user_id": "u4", "email": None},
    )
    return conform_users(evaluate(bronze, "users", refs(spark)).kept, pepper)


def _expected(pepper, email):
    return hmac.new(pepper.encode(), email.encode(), hashlib.sha256).hexdigest()


def test_no_plain_email_and_hash_is_rfc2104_hmac(spark):
    out = _users(spark, PEPPER)
    assert "email" not in out.columns
    rows = {r.user_id: r for r in out.collect()}
    assert not any("@" in str(v) for r in rows.values() for v in r.asDict().values())
    assert rows["u1"].email_hash == _expected(PEPPER, "user_1@example.com")
    assert rows["u1"].email_domain == "example.com" and rows["u3"].email_domain == "corp.example.org"
    assert rows["u4"].email_hash is None and rows["u4"].email_domain is None


def test_same_email_same_pepper_same_hash_other_pepper_other_hash(spark):
    one = {r.user_id: r.email_hash for r in _users(spark, PEPPER).collect()}
    two = {r.user_id: r.email_hash for r in _users(spark, OTHER).collect()}
    assert one["u1"] == one["u2"]  # normalized (trim + lower) before hashing
    assert one["u1"] != one["u3"]
    assert two["u1"] == _expected(OTHER, "user_1@example.com") != one["u1"]


def test_role_login_and_active(spark):
    rows = {r.user_id: r for r in _users(spark, PEPPER).collect()}
    assert rows["u3"].role == "data_engineer" and rows["u3"].has_logged_in is False
    assert rows["u1"].has_logged_in is True and rows["u1"].last_login == date(2025, 8, 1)
    assert rows["u1"].active is True


def test_long_peppers_are_hashed_first_as_rfc2104_says(spark):
    long_pepper = "k" * 100
    df = spark.createDataFrame([("a@b.c",)], "m string")
    out = with_hmac(df, df.m, long_pepper, "h").first().h
    assert out == _expected(long_pepper, "a@b.c")


def test_the_pepper_never_appears_in_the_query_plan(spark):
    df = spark.createDataFrame([("a@b.c",)], "m string")
    plan = with_hmac(df, df.m, PEPPER, "h")._jdf.queryExecution().toString()
    ipad_hex = bytes(b ^ 0x36 for b in PEPPER.encode().ljust(64, b"\0")).hex().upper()
    assert PEPPER not in plan and ipad_hex[:16] not in plan.upper()


def test_a_pepper_is_required_and_long_enough(spark):
    for missing in ("", "   "):
        with pytest.raises(PepperError, match=f"{PEPPER_ENV} is not set"):
            hmac_pads(missing)
    with pytest.raises(PepperError, match="at least"):
        hmac_pads("short")
    with pytest.raises(PepperError, match=f"{PEPPER_ENV} is not set"):
        _users(spark, "")
