"""Product marts: genai token usage (silver ``usage_events``), user activity (silver ``users``)
and campaign effectiveness (silver ``marketing_touches``).

GenAI price: ``estimated_cost_usd`` = genai_tokens / 1000 × ``GENAI_PRICE_PER_1K_TOKENS_USD``
(USD 0.002 per 1,000 tokens, a list-price assumption to compare with what the events actually
recorded, ``recorded_cost_usd`` = sum of cost_usd_increment of the genai events). Only events of
the genai service count; tokens reported on another service are a producer error (EV-06).
Schema v1 events carry no tokens: a day with only those has ``tokens_measured`` false and null
tokens / estimate (not measured, not zero).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import EXACT, cents, contract, count_if, latest_snapshot, ratio, sum_exact

GENAI = "genai"
GENAI_PRICE_PER_1K_TOKENS_USD = Decimal("0.002")
RECENT_LOGIN_DAYS = 30


def estimated_token_cost(tokens: Column) -> Column:
    """tokens / 1000 × the price per 1k tokens, exact (``decimal(18,6)``)."""
    return (tokens.try_cast("decimal(20,0)") * F.lit(GENAI_PRICE_PER_1K_TOKENS_USD) / F.lit(1000)).try_cast(EXACT)


def genai_tokens_by_org_date(events: DataFrame) -> DataFrame:
    """Silver usage_events → ``genai_tokens_by_org_date`` (key org_id, date)."""
    genai = events.filter(F.col("service") == GENAI)
    measured = F.count("genai_tokens") > 0
    out = genai.groupBy("org_id", F.col("event_date").alias("date")).agg(
        F.count(F.lit(1)).alias("genai_event_count"),
        F.count("genai_tokens").alias("token_event_count"),
        F.when(measured, F.sum("genai_tokens")).try_cast("bigint").alias("genai_tokens"),
        measured.alias("tokens_measured"),
        sum_exact("cost_usd_increment").alias("recorded_cost_usd_exact"),
    ).withColumns({
        "estimated_cost_usd": estimated_token_cost(F.col("genai_tokens")),
        "recorded_cost_usd": cents(F.col("recorded_cost_usd_exact")),
    }).withColumn("recorded_cost_per_1k_tokens_usd",
                  ratio(F.col("recorded_cost_usd_exact") * 1000, F.col("genai_tokens")))
    return contract(out, C.GENAI_TOKENS_BY_ORG_DATE)


def user_activity(users: DataFrame, snapshot: date | None = None) -> DataFrame:
    """Silver users (latest snapshot, or ``snapshot``) → ``user_activity`` (key org_id): users,
    active users, users who ever logged in (``has_logged_in``), those who logged in during the
    ``RECENT_LOGIN_DAYS`` days up to the snapshot date, and the last login date."""
    u = latest_snapshot(users, snapshot)
    recent = F.col("last_login") >= F.date_sub(F.col("snapshot_date"), RECENT_LOGIN_DAYS - 1)
    out = u.groupBy("org_id").agg(
        F.max("snapshot_date").alias("snapshot_date"),
        F.count(F.lit(1)).alias("users"),
        count_if(F.col("active")).alias("active_users"),
        count_if(F.col("has_logged_in")).alias("users_logged_in"),
        count_if(recent).alias("users_logged_in_last_30d"),
        F.max("last_login").alias("last_login_date"),
    ).withColumns({
        "users_never_logged_in": F.col("users") - F.col("users_logged_in"),
        "active_rate": ratio(F.col("active_users"), F.col("users")),
    })
    return contract(out, C.USER_ACTIVITY)


def campaign_effectiveness(touches: DataFrame, snapshot: date | None = None) -> DataFrame:
    """Silver marketing_touches (latest snapshot, or ``snapshot``) → ``campaign_effectiveness``
    (key campaign, channel): touches, orgs reached, clicks, conversions (and those without a
    click), click_rate = clicks / touches, conversion_rate = conversions / touches,
    click_to_conversion_rate = conversions after a click / clicks."""
    t = latest_snapshot(touches, snapshot)
    out = t.groupBy("campaign", "channel").agg(
        F.count(F.lit(1)).alias("touches"),
        F.count_distinct("org_id").alias("orgs_reached"),
        count_if(F.col("clicked")).alias("clicks"),
        count_if(F.col("converted")).alias("conversions"),
        count_if(F.col("converted") & F.col("clicked")).alias("conversions_after_click"),
        count_if(F.col("converted_without_click")).alias("conversions_without_click"),
    ).withColumns({
        "click_rate": ratio(F.col("clicks"), F.col("touches")),
        "conversion_rate": ratio(F.col("conversions"), F.col("touches")),
        "click_to_conversion_rate": ratio(F.col("conversions_after_click"), F.col("clicks")),
    })
    return contract(out, C.CAMPAIGN_EFFECTIVENESS)
