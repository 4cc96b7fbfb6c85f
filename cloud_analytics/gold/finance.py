"""Financial marts from silver ``billing_monthly`` (and ``usage_events`` for reconciliation).

Invoice amounts are booked in cents by silver (USD = amount × exchange_rate_to_usd, rounded
per invoice); gold sums them as ``decimal(18,2)``, so every total reconciles with silver to the
cent. ``total = subtotal − credits + taxes``. A credit note is an invoice with a negative
subtotal. Month-over-month figures compare with the calendar month before (not "the previous
row"), so a missing month gives null growth instead of a wrong one; pass every invoice (the
table is small) so the first month of a window still finds its predecessor.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import cents, contract, count_if, merged_flags, ratio, sum_exact, sum_money

AMOUNTS = ("subtotal", "credits", "taxes", "total")


def _all_or_null(col: str, agg: Column) -> Column:
    """``agg`` when every row of the group has ``col``, else null (a partial sum would
    understate: e.g. a non-USD invoice without a rate has no USD amounts)."""
    return F.when(F.count(col) == F.count(F.lit(1)), agg)


def _single(col: str) -> Column:
    """The group's one distinct value of ``col``, null when it has several."""
    return F.when(F.count_distinct(col) == 1, F.max(col))


def revenue_by_org_month(billing: DataFrame) -> DataFrame:
    """Silver billing_monthly → ``revenue_by_org_month`` (key org_id, month).

    The source has one invoice per org and month; should there be several, amounts add up,
    ``currency`` / ``fx_rate`` are kept when all invoices share them and the original-currency
    amounts are null when the currencies differ (they cannot be added). ``flags`` = the
    invoices' dq flags (distinct, sorted); ``is_credit_note`` = negative subtotal.
    """
    local = {a: F.when(F.count_distinct("currency") <= 1, _all_or_null(a, sum_money(a))).alias(a)
             for a in AMOUNTS}
    usd = {f"{a}_usd": _all_or_null(f"{a}_usd", sum_money(f"{a}_usd")).alias(f"{a}_usd") for a in AMOUNTS}
    out = billing.groupBy("org_id", "month").agg(
        F.count(F.lit(1)).alias("invoice_count"),
        F.array_sort(F.collect_set("invoice_id")).alias("invoice_ids"),
        _single("currency").alias("currency"),
        _single("exchange_rate_to_usd").alias("fx_rate"),
        *local.values(), *usd.values(),
        merged_flags().alias("flags"),
    ).withColumn("is_credit_note", F.coalesce(F.col("subtotal_usd") < 0, F.col("subtotal") < 0))
    return contract(out, C.REVENUE_BY_ORG_MONTH)


def revenue_trend_monthly(billing: DataFrame) -> DataFrame:
    """Silver billing_monthly → ``revenue_trend_monthly`` (key month): USD totals, invoice and
    org counts, credit notes, and ``mom_growth`` = (total − previous month's total) /
    |previous total| (null when there is no previous month or it is 0)."""
    monthly = billing.groupBy("month").agg(
        F.count(F.lit(1)).alias("invoice_count"),
        F.count_distinct("org_id").alias("org_count"),
        *[sum_money(f"{a}_usd").alias(f"{a}_usd") for a in AMOUNTS],
        count_if(F.col("subtotal") < 0).alias("credit_note_count"),
    )
    previous = monthly.select(F.add_months("month", 1).alias("month"),
                              F.col("total_usd").alias("prev_total_usd"))
    out = monthly.join(previous, "month", "left").withColumn(
        "mom_growth", ratio(F.col("total_usd") - F.col("prev_total_usd"), F.abs("prev_total_usd")))
    return contract(out, C.REVENUE_TREND_MONTHLY)


def credit_impact(billing: DataFrame) -> DataFrame:
    """Silver billing_monthly → ``credit_impact`` (key month, org_id): credits_usd, subtotal_usd,
    ``credit_ratio`` = credits_usd / subtotal_usd (null for a zero subtotal or a credit note,
    where a share of a negative subtotal means nothing) and ``net_of_credits_usd``."""
    out = billing.groupBy("month", "org_id").agg(
        *[sum_money(f"{a}_usd").alias(f"{a}_usd") for a in ("subtotal", "credits", "total")],
    ).withColumns({
        "is_credit_note": F.col("subtotal_usd") < 0,
        "credit_ratio": F.when(F.col("subtotal_usd") > 0, ratio(F.col("credits_usd"), F.col("subtotal_usd"))),
        "net_of_credits_usd": (F.col("subtotal_usd") - F.col("credits_usd")).try_cast("decimal(18,2)"),
    })
    return contract(out, C.CREDIT_IMPACT)


def cost_vs_billing_reconciliation(events: DataFrame, billing: DataFrame) -> DataFrame:
    """Silver usage_events + billing_monthly → ``cost_vs_billing_reconciliation`` (key org_id,
    month): the month's usage cost (exact sum of every silver event cost, then cents) against
    the invoiced subtotal and total in USD. ``difference_usd`` = invoiced total − usage cost,
    ``billing_ratio`` = invoiced total / usage cost. Full outer: a month with usage and no
    invoice (or the reverse) is a row with the missing side null. ``usage_days`` shows how much
    of the month the events cover (the landing data starts mid-July)."""
    usage = events.groupBy("org_id", F.trunc("event_date", "month").alias("month")).agg(
        sum_exact("cost_usd_increment").alias("usage_cost_usd_exact"),
        F.count(F.lit(1)).alias("usage_event_count"),
        F.count_distinct("event_date").alias("usage_days"),
    )
    invoiced = billing.groupBy("org_id", "month").agg(
        sum_money("subtotal_usd").alias("invoiced_subtotal_usd"),
        sum_money("total_usd").alias("invoiced_total_usd"),
        F.count(F.lit(1)).alias("invoice_count"))
    out = usage.join(invoiced, ["org_id", "month"], "full_outer").withColumns({
        "usage_cost_usd": cents(F.col("usage_cost_usd_exact")),
        "has_usage": F.col("usage_event_count").isNotNull(),
        "has_invoice": F.col("invoice_count").isNotNull(),
    }).withColumns({
        "difference_usd": (F.col("invoiced_total_usd") - F.col("usage_cost_usd")).try_cast("decimal(18,2)"),
        "billing_ratio": ratio(F.col("invoiced_total_usd"), F.col("usage_cost_usd")),
    })
    return contract(out, C.COST_VS_BILLING_RECONCILIATION)
