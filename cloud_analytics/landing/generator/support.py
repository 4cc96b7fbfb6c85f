"""``support_tickets.csv``: 1,000 tickets per block, 240 of them still open."""

from __future__ import annotations

import random

from cloud_analytics.landing.generator.common import (
    TICKET_CREATED_RANGE,
    TICKET_RESOLVED_RANGE,
    TICKETS,
    as_date,
    dates_around_signup,
    org_signups,
    outside,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids

_CATEGORIES = ("performance", "security", "availability", "usability", "integration", "billing")


def ticket_rows(rng: random.Random, ids: Ids, orgs: list[list]) -> list[list]:
    n = TICKETS
    owner = [rng.randrange(len(orgs)) for _ in range(n)]
    signups = org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = TICKET_CREATED_RANGE
    resolved_first, resolved_last = TICKET_RESOLVED_RANGE
    open_ = pick(rng, range(n), 240)
    before = pick(rng, [i for i in range(n) if signup[i] > first], 209)
    created = dates_around_signup(rng, signup, before, first, last)
    # The published earliest resolution (the day after the first creation day) needs a
    # resolved ticket opened on that first day: pin it on a resolved ``before`` row too.
    earliest = rng.choice([i for i in sorted(before) if i not in open_])
    created[earliest] = first  # a resolved ticket opens on the first day (resolved the next)
    resolved: list[int | None] = [None] * n
    for i in outside(n, open_):
        resolved[i] = min(created[i] + 1 + int(rng.expovariate(0.2)), resolved_last)
    resolved[earliest] = resolved_first
    # The last resolution day goes to a ticket created at most 30 days before it.
    late = rng.choice([i for i in outside(n, open_, {earliest}) if created[i] >= resolved_last - 30])
    resolved[late] = resolved_last
    csat = _csat(rng, n, open_)
    critical = pick(rng, range(n), 56)
    breached = pick(rng, range(n), 95)
    rows = []
    for i in range(n):
        severity = "critical" if i in critical else rng.choice(("low", "medium", "high"))
        rows.append([ids("tkt", 8), orgs[owner[i]][0], rng.choice(_CATEGORIES), severity,
                     as_date(created[i]), as_date(resolved[i]), csat[i], i in breached])
    return rows


def _csat(rng: random.Random, n: int, open_: set[int]) -> list[float | None]:
    """254 null; 172 open tickets rated; 40 ratings outside 1-5 (0, 6 or 7)."""
    # Of the 254 nulls, 240 - 172 = 68 are open tickets left unrated, so 254 - 68 resolved
    # tickets are unrated too and the other n - 240 - (254 - 68) resolved ones are rated.
    rated = sorted(pick(rng, sorted(open_), 172) | pick(rng, outside(n, open_), n - 240 - (254 - 68)))
    scores: list[float | None] = [None] * n
    for i in rated:
        scores[i] = float(rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 3, 3))[0])
    # The first three out-of-range ratings are 0, 6 and 7 so that each value occurs.
    for k, i in enumerate(rng.sample(rated, 40)):
        scores[i] = (0.0, 6.0, 7.0)[k] if k < 3 else rng.choice((0.0, 6.0, 7.0))
    return scores
