"""``resources.csv``: 1 to 11 resources per org, one per (service, region) pair at least."""

from __future__ import annotations

import json
import random

from cloud_analytics.landing.generator.common import (
    REGIONS,
    RESOURCE_CREATED_RANGE,
    RESOURCES,
    SERVICES,
    as_date,
    dates_around_signup,
    deck,
    group_sizes,
    org_signups,
    outside,
    owners,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids


def resource_rows(rng: random.Random, ids: Ids, orgs: list[list]) -> list[list]:
    owner = owners(group_sizes(rng, len(orgs), RESOURCES, 1, 11))
    n = len(owner)
    # Every (service, region) pair exists at least once: usage events pick a resource of
    # their own service and region, so none may be missing (see events.py).
    pairs = [(s, r) for s in SERVICES for r in REGIONS]
    pairs += [(rng.choice(SERVICES), rng.choice(REGIONS)) for _ in range(n - len(pairs))]
    rng.shuffle(pairs)
    signups = org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = RESOURCE_CREATED_RANGE
    before = pick(rng, [i for i in range(n) if signup[i] > first], 119)
    created = dates_around_signup(rng, signup, before, first, last)
    states = deck(rng, {"running": 242, "stopped": 119, "terminated": 39})
    untagged = pick(rng, range(n), 83)
    pii = pick(rng, outside(n, untagged), 85)
    rows = []
    for i in range(n):
        tags = None if i in untagged else json.dumps(_tags(rng, pii=i in pii))
        rows.append([ids("res", 8), orgs[owner[i]][0], pairs[i][0], pairs[i][1], as_date(created[i]),
                     states[i], tags])
    return rows


def _tags(rng: random.Random, pii: bool) -> list[str]:
    """A tagged resource's tags; never an empty list (an untagged resource has null tags)."""
    tags = []
    if rng.random() < 0.8:
        tags.append(rng.choice(("env:prod", "env:dev")))
    if rng.random() < 0.5:
        tags.append(rng.choice(("team:core", "team:ml")))
    if rng.random() < 0.4:
        tags.append(rng.choice(("costcenter:alpha", "costcenter:beta")))
    if rng.random() < 0.3:
        tags.append("backup:daily")
    if pii:
        tags.append("pii:true")
    return tags or [rng.choice(("env:prod", "env:dev"))]
