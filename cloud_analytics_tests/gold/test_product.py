"""GenAI tokens per org and day, user activity, campaign effectiveness."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from cloud_analytics.gold.product import campaign_effectiveness, genai_tokens_by_org_date, user_activity
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics_tests.gold.frames import ev, silver


def test_genai_tokens_estimated_and_recorded_cost(spark):
    events = silver(
        spark, "usage_events",
        ev("g1", datetime(2025, 7, 20, 1, 0), 0.30, service="genai", genai_tokens=1500),
        ev("g2", datetime(2025, 7, 20, 2, 0), 0.20, service="genai", genai_tokens=500),
        ev("g3", datetime(2025, 7, 20, 3, 0), 0.05, service="genai"),  # a genai event without tokens
        ev("c1", datetime(2025, 7, 20, 3, 0), 9.00, service="compute", genai_tokens=999),  # EV-06: not genai
        ev("v1", datetime(2025, 7, 10, 3, 0), 1.10, service="genai", schema_version=1),  # v1: no tokens
    )
    out = genai_tokens_by_org_date(events)
    assert out.columns == GOLD_BY_NAME["genai_tokens_by_org_date"].column_names
    rows = {r.date: r for r in out.collect()}
    day = rows[date(2025, 7, 20)]
    assert (day.genai_tokens, day.genai_event_count, day.token_event_count, day.tokens_measured) == (2000, 3, 2, True)
    assert day.estimated_cost_usd == Decimal("0.004000")  # 2000 / 1000 × 0.002
    assert (day.recorded_cost_usd, day.recorded_cost_usd_exact) == (Decimal("0.55"), Decimal("0.550000"))
    assert day.recorded_cost_per_1k_tokens_usd == pytest.approx(0.275)
    v1 = rows[date(2025, 7, 10)]
    assert (v1.genai_tokens, v1.tokens_measured, v1.estimated_cost_usd, v1.recorded_cost_usd) == (
        None, False, None, Decimal("1.10"))


def test_user_activity(spark):
    def user(uid, org, active, last_login, **kw):
        return {"user_id": uid, "org_id": org, "active": active, "last_login": last_login,
                "has_logged_in": last_login is not None, **kw}

    users = silver(
        spark, "users",
        user("u1", "org_a", True, date(2025, 8, 30)),
        user("u2", "org_a", True, None),
        user("u3", "org_a", False, date(2025, 7, 1)),
        user("u4", "org_b", False, date(2025, 8, 3)),  # 30 days up to 09-01 start on 08-03
        user("u5", "org_b", True, date(2025, 8, 31), snapshot_date=date(2025, 8, 31)),  # old snapshot only
    )
    out = user_activity(users)
    assert out.columns == GOLD_BY_NAME["user_activity"].column_names
    rows = {r.org_id: r for r in out.collect()}
    a = rows["org_a"]
    assert (a.users, a.active_users, a.users_logged_in, a.users_never_logged_in, a.users_logged_in_last_30d) == (
        3, 2, 2, 1, 1)
    assert a.last_login_date == date(2025, 8, 30) and a.active_rate == pytest.approx(2 / 3)
    b = rows["org_b"]
    assert (b.users, b.active_users, b.users_logged_in_last_30d, b.last_login_date) == (1, 0, 1, date(2025, 8, 3))


def test_campaign_effectiveness(spark):
    def touch(tid, org, clicked, converted, campaign="welcome", channel="email"):
        return {"touch_id": tid, "org_id": org, "campaign": campaign, "channel": channel,
                "clicked": clicked, "converted": converted, "converted_without_click": converted and not clicked}

    touches = silver(
        spark, "marketing_touches",
        touch("m1", "org_a", True, True), touch("m2", "org_a", True, False),
        touch("m3", "org_b", False, True), touch("m4", "org_c", False, False),
        touch("m5", "org_a", False, False, channel="ads"),
    )
    out = campaign_effectiveness(touches)
    assert [*out.columns, "snapshot_date"] == GOLD_BY_NAME["campaign_effectiveness"].column_names
    rows = {(r.campaign, r.channel): r for r in out.collect()}
    email = rows[("welcome", "email")]
    assert (email.touches, email.orgs_reached, email.clicks, email.conversions) == (4, 3, 2, 2)
    assert (email.conversions_after_click, email.conversions_without_click) == (1, 1)
    assert (email.click_rate, email.conversion_rate, email.click_to_conversion_rate) == (0.5, 0.5, 0.5)
    ads = rows[("welcome", "ads")]
    assert (ads.touches, ads.clicks, ads.click_rate, ads.click_to_conversion_rate) == (1, 0, 0.0, None)
