"""``marketing_touches.csv`` and ``nps_surveys.csv``."""

from __future__ import annotations

import random

from cloud_analytics.landing.generator.common import (
    SURVEY_RANGE,
    TOUCH_RANGE,
    TOUCHES,
    as_date,
    dates_around_signup,
    org_signups,
    outside,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids

_CAMPAIGNS = ("welcome", "genai_launch", "security_week", "webinar_finops", "upgrade_pro",
              "upgrade_enterprise")
_CHANNELS = ("email", "ads", "event", "in_app")
_COMMENTS = ("Missing features", "Love genAI features", "Complex billing", "Stable but slow",
             "Too expensive", "Great support")


def touch_rows(rng: random.Random, ids: Ids, orgs: list[list]) -> list[list]:
    n = TOUCHES
    clicked = pick(rng, range(n), 453)
    # 144 conversions, 96 of them without a click (a quirk the profile counts).
    converted = pick(rng, sorted(clicked), 144 - 96) | pick(rng, outside(n, clicked), 96)
    days = [rng.randint(*TOUCH_RANGE) for _ in range(n)]
    earliest, latest = rng.sample(range(n), 2)
    days[earliest], days[latest] = TOUCH_RANGE
    return [[ids("mkt", 8), orgs[rng.randrange(len(orgs))][0], rng.choice(_CAMPAIGNS),
             rng.choice(_CHANNELS), as_date(days[i]), i in clicked, i in converted] for i in range(n)]


def survey_rows(rng: random.Random, orgs: list[list]) -> list[list]:
    # 60 orgs answer, 32 of them twice: 92 surveys, grouped by org in org order.
    answering = rng.sample(range(len(orgs)), 60)
    twice = set(answering[:32])
    owner = [o for o in sorted(answering) for _ in range(2 if o in twice else 1)]
    n = len(owner)
    signups = org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = SURVEY_RANGE
    before = pick(rng, [i for i in range(n) if signup[i] > first], 10)
    days = dates_around_signup(rng, signup, before, first, last)
    # 19 null scores; the min and max are pinned on two of the scored rows.
    order = rng.sample(range(n), n)
    scores: list[float | None] = [None] * n
    for i in order[19:]:
        scores[i] = float(rng.randint(-16, 68))
    scores[order[19]], scores[order[20]] = -16.0, 68.0
    silent = pick(rng, range(n), 10)
    return [[orgs[owner[i]][0], as_date(days[i]), scores[i],
             None if i in silent else rng.choice(_COMMENTS)] for i in range(n)]
