"""``users.csv``: 3 to 19 users per org, some created before their org or logging in
before they were created."""

from __future__ import annotations

import random

from cloud_analytics.landing.generator.common import (
    LAST_LOGIN_RANGE,
    USER_CREATED_RANGE,
    USERS,
    as_date,
    dates_around_signup,
    group_sizes,
    org_signups,
    outside,
    owners,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids

_ROLES = ("admin", "developer", "devops", "data_engineer", "ml_engineer", "analyst")


def user_rows(rng: random.Random, ids: Ids, orgs: list[list]) -> list[list]:
    owner = owners(group_sizes(rng, len(orgs), USERS, 3, 19))
    n = len(owner)
    signups = org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = USER_CREATED_RANGE
    # Only a user of an org that signed up after the first creation day can be created
    # before its org.
    before = pick(rng, [i for i in range(n) if signup[i] > first], 249)
    created = dates_around_signup(rng, signup, before, first, last)
    login_first, login_last = LAST_LOGIN_RANGE
    never = pick(rng, range(n), 139)
    # Likewise only a user created after the first login day can have logged in before
    # being created.
    early = pick(rng, [i for i in outside(n, never) if created[i] > login_first], 232)
    login: list[int | None] = [None] * n
    for i in outside(n, never):
        login[i] = (rng.randint(login_first, created[i] - 1) if i in early
                    else rng.randint(max(created[i], login_first), login_last))
    login[rng.choice(sorted(early))] = login_first
    login[rng.choice(outside(n, never, early))] = login_last
    active = pick(rng, range(n), 728)
    rows = []
    for i in range(n):
        user_id = ids("user", 8)
        rows.append([user_id, orgs[owner[i]][0], f"{user_id}@example.com", rng.choice(_ROLES),
                     i in active, as_date(created[i]), as_date(login[i])])
    return rows
