"""Silver billing: invoices with totals in their own currency and in USD.

Input is the ``kept`` frame of ``quality.evaluate(…, "billing_monthly")``: BI-02 has already
filled missing credits with 0 and BI-03 set the rate of USD invoices to 1, so the conversion
here is plain arithmetic. ``exchange_rate_to_usd`` is USD per unit of ``currency``.
Amounts are rounded to cents per invoice, as an accounting system would book them, so
sums over invoices never carry binary-float dust.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.quality.domains import canonical

AMOUNTS = ("subtotal", "credits", "taxes", "total")
CENTS = 2


def _money(col: Column) -> Column:
    return F.round(col, CENTS)


def invoice_total(subtotal: Column, credits: Column, taxes: Column) -> Column:
    """total = subtotal − credits + taxes (credits reduce what the customer owes)."""
    return subtotal - credits + taxes


def conform_billing(kept: DataFrame) -> DataFrame:
    """Columns: invoice_id, org_id, month, currency (canonical), exchange_rate_to_usd,
    subtotal, credits, taxes, total (original currency), subtotal_usd, credits_usd,
    taxes_usd, total_usd, dq_flags. A non-USD invoice without a rate has null USD amounts."""
    base = kept.select(
        "invoice_id", "org_id", "month",
        canonical("currency", "currency").alias("currency"),
        "exchange_rate_to_usd", "subtotal", "credits", "taxes", "dq_flags",
    ).withColumn("total", invoice_total(F.col("subtotal"), F.col("credits"), F.col("taxes")))
    usd = {f"{a}_usd": _money(F.col(a) * F.col("exchange_rate_to_usd")) for a in AMOUNTS}
    local = {a: _money(F.col(a)) for a in AMOUNTS}
    return base.withColumns(usd).withColumns(local).select(
        "invoice_id", "org_id", "month", "currency", "exchange_rate_to_usd",
        *AMOUNTS, *usd, "dq_flags",
    )
