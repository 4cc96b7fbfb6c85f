"""``billing_monthly.csv``: three invoices per org (June, July, August 2025)."""

from __future__ import annotations

import random

from cloud_analytics.landing.generator.common import BILLING_MONTHS, as_date, deck, pick
from cloud_analytics.landing.generator.ids import Ids

# USD per unit of each currency; USD itself wrongly carries a rate around 1.
RATE_RANGES = {"ARS": (0.00133, 0.00162), "EUR": (0.9981, 1.19808), "USD": (0.85463, 1.11791)}


def billing_rows(rng: random.Random, ids: Ids, orgs: list[list]) -> list[list]:
    # Row i is org i // 3's invoice for month i % 3 (orgs in order, months in order).
    n = 3 * len(orgs)
    currency = _billing_currencies(rng, len(orgs))
    subtotal = _subtotals(rng, n)
    credits: list[float | None] = [None] * n
    credited = sorted(pick(rng, range(n), n - 137))
    for i in credited:
        credits[i] = round(rng.uniform(0, 79.06), 2)
    lowest, highest = rng.sample(credited, 2)
    credits[lowest], credits[highest] = 0.0, 79.06
    rate = _exchange_rates(rng, currency)
    # Taxes are 21 % of |subtotal|: positive even on a negative subtotal.
    return [[ids("inv", 8), orgs[i // 3][0], as_date(BILLING_MONTHS[i % 3]), subtotal[i], credits[i],
             round(abs(subtotal[i]) * 0.21, 2), currency[i], rate[i]] for i in range(n)]


def _billing_currencies(rng: random.Random, n_orgs: int) -> list[str]:
    """USD 160, ARS 51, EUR 29 over 3 invoices per org; exactly 50 orgs mix currencies."""
    order = rng.sample(range(n_orgs), n_orgs)
    single, multi = order[:30], order[30:]
    per_org: dict[int, list[str]] = {}
    # 30 single-currency orgs take 3 invoices each of their currency (72 USD, 12 ARS,
    # 6 EUR); the remaining labels are dealt three at a time to the 50 mixed orgs.
    for org, cur in zip(single, deck(rng, {"USD": 24, "ARS": 4, "EUR": 2})):
        per_org[org] = [cur] * 3
    pool = deck(rng, {"USD": 160 - 72, "ARS": 51 - 12, "EUR": 29 - 6})
    triples = [pool[3 * k:3 * k + 3] for k in range(len(multi))]
    # Swapping labels between triples keeps the per-currency totals; a swap is only made
    # when it leaves the other triple mixed, so fixing one triple never breaks another.
    for triple in triples:  # swap labels until no mixed org is single-currency
        while len(set(triple)) == 1:
            other, j = rng.choice(triples), rng.randrange(3)
            swapped = other[:j] + [triple[0]] + other[j + 1:]
            if other[j] != triple[0] and len(set(swapped)) > 1:
                triple[0], other[j] = other[j], triple[0]
    for org, triple in zip(multi, triples):
        per_org[org] = triple
    return [cur for org in range(n_orgs) for cur in per_org[org]]


def _subtotals(rng: random.Random, n: int) -> list[float]:
    """13 negative; min -1671.83, max 2237.39, smallest |x| 62.76 (taxes 13.18); mean about 717."""
    order = rng.sample(range(n), n)
    negative, small, large, free = order[:13], order[13], order[14], order[15:]
    values = [0.0] * n
    for i in negative:
        values[i] = -round(rng.uniform(70, 1500), 2)
    values[negative[0]], values[small], values[large] = -1671.83, 62.76, 2237.39
    for i in free:
        values[i] = rng.triangular(70, 2200, 400)
    # One scale factor on the free rows brings the mean to 717; clamping to [70, 2237]
    # afterwards keeps the pinned extremes the extremes (hence "about" 717).
    fixed = sum(values) - sum(values[i] for i in free)
    factor = (717 * n - fixed) / sum(values[i] for i in free)
    for i in free:
        values[i] = round(min(2237.0, max(70.0, values[i] * factor)), 2)
    return values


def _exchange_rates(rng: random.Random, currency: list[str]) -> list[float]:
    """USD per unit; USD rows wrongly carry a rate around 1 (never exactly 1)."""
    rates = [0.0] * len(currency)
    for cur, (lo, hi) in RATE_RANGES.items():
        rows = [i for i, c in enumerate(currency) if c == cur]
        for i in rows:
            rates[i] = 1.0
            while rates[i] == 1.0:  # redraw: an exact 1.0 would look like a correct USD rate
                rates[i] = round(rng.uniform(lo, hi), 5)
        lowest, highest = rng.sample(rows, 2)
        rates[lowest], rates[highest] = lo, hi
    return rates
