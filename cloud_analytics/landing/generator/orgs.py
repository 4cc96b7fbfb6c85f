"""``customers_orgs.csv``: the orgs every other source hangs off."""

from __future__ import annotations

import random

from cloud_analytics.landing.generator.common import (
    INDUSTRIES,
    ORGS,
    REGIONS,
    SIGNUP_RANGE,
    as_date,
    outside,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids

_NAME_WORDS = (("Nimbus", "Stratus", "Cirrus", "Cumulus", "Aurora", "Vertex", "Quantum", "Helix",
                "Orbit", "Nova", "Zenith", "Polar", "Atlas", "Summit", "Beacon", "Lumen"),
               ("Labs", "Systems", "Cloud", "Works", "Data", "Dynamics", "Analytics", "Networks",
                "Digital", "Tech", "Solutions", "Soft"))


def org_rows(rng: random.Random, ids: Ids, first_row: int) -> list[list]:
    """One block of org rows; ``first_row`` (the block's offset) keeps org names unique."""
    n = ORGS
    signup = [rng.randint(*SIGNUP_RANGE) for _ in range(n)]
    earliest, latest = rng.sample(range(n), 2)
    signup[earliest], signup[latest] = SIGNUP_RANGE
    enterprise = pick(rng, range(n), 10)
    # ``is_enterprise`` disagrees with ``plan_tier`` on purpose: only 1 of the 10
    # enterprise-plan orgs is flagged, and 16 orgs on other plans are (17 flags in all).
    flagged = pick(rng, sorted(enterprise), 1) | pick(rng, outside(n, enterprise), 16)
    nps = _org_nps(rng, n)
    rows = []
    for i in range(n):
        plan = "enterprise" if i in enterprise else rng.choice(("free", "standard", "pro"))
        name = f"{rng.choice(_NAME_WORDS[0])} {rng.choice(_NAME_WORDS[1])} {first_row + i}"
        rows.append([ids("org", 8), name, rng.choice(INDUSTRIES), rng.choice(REGIONS), plan,
                     i in flagged, as_date(signup[i]),
                     rng.choice(("rep_a", "rep_b", "rep_c", "rep_d", "rep_e")),
                     rng.choice(("lead", "prospect", "active", "at_risk", "churned")),
                     rng.choice(("partner", "event", "organic", "ads", "referral")), nps[i]])
    return rows


def _org_nps(rng: random.Random, n: int) -> list[float | None]:
    """11 null, one 101 (out of range), the rest integers in [-38, 100], mean about 18.7."""
    # A random order of the rows: the first 11 stay null, the next three carry the pinned
    # 101 / min / max, and only the rest (drawn strictly inside the range) are nudged.
    order = rng.sample(range(n), n)
    scores: list[int | None] = [None] * n
    scores[order[11]], scores[order[12]], scores[order[13]] = 101, -38, 100
    free = order[14:]
    for i in free:
        scores[i] = min(99, max(-37, round(rng.gauss(18.7, 30))))
    # The mean is over the non-null scores, the out-of-range 101 included.
    target = round(18.7 * (n - 11))
    while (diff := target - sum(s for s in scores if s is not None)) != 0:
        i = rng.choice(free)
        step = 1 if diff > 0 else -1
        if -37 <= scores[i] + step <= 99:
            scores[i] += step
    return [None if s is None else float(s) for s in scores]
