"""What every landing source shares: shared domains, date ranges, per-block counts and the
exact-count helpers.

The helpers never leave a published count to chance: a quirk is an exact index set drawn
with ``pick`` among the rows able to carry it, and a column with published label counts is
a shuffled ``deck``. They all draw from the block's ``random.Random``, so the *order* in
which callers use them is part of the output (see ``generator/__init__.py``).
"""

from __future__ import annotations

import random
from datetime import date

# Domains shared by several sources (a domain used by one source lives in its module).
INDUSTRIES = ("Education", "Media", "Manufacturing", "E-commerce", "Retail", "Healthcare", "Energy",
              "Fintech", "Gaming", "Government")
REGIONS = ("sa-east", "us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast")
SERVICES = ("compute", "storage", "database", "networking", "analytics", "genai")
METRIC_UNITS = {"requests": "count", "cpu_hours": "hours", "storage_gb_hours": "gb_hours"}


def day(iso: str) -> int:
    """Date ordinal of an ISO date (all date arithmetic works on ordinals)."""
    return date.fromisoformat(iso).toordinal()


def as_date(ordinal: int | None) -> date | None:
    """Ordinal back to a ``date``; ``None`` stays ``None`` (an empty CSV cell)."""
    return None if ordinal is None else date.fromordinal(ordinal)


# Date ranges (ordinals), identical at every scale.
SIGNUP_RANGE = (day("2025-05-04"), day("2025-07-02"))
USER_CREATED_RANGE = (day("2025-05-04"), day("2025-08-11"))
LAST_LOGIN_RANGE = (day("2025-05-14"), day("2025-08-31"))
RESOURCE_CREATED_RANGE = (day("2025-05-04"), day("2025-08-21"))
TICKET_CREATED_RANGE = (day("2025-05-09"), day("2025-08-31"))
TICKET_RESOLVED_RANGE = (day("2025-05-10"), day("2025-09-19"))
TOUCH_RANGE = (day("2025-05-04"), day("2025-08-31"))
SURVEY_RANGE = (day("2025-05-24"), day("2025-08-31"))
BILLING_MONTHS = (day("2025-06-01"), day("2025-07-01"), day("2025-08-01"))
EVENT_FIRST_DAY, EVENT_DAYS, EVENT_V2_FIRST_DAY = day("2025-07-03"), 60, day("2025-07-18")

# One block (= scale 1). Counts of rows and quirks are per block.
ORGS, USERS, RESOURCES, TICKETS, TOUCHES = 80, 800, 400, 1000, 1500
EVENTS_PER_DAY, EVENT_FILES, LINES_PER_FILE = 720, 120, 360


# ---------------------------------------------------------------------------------------
# Small exact-count helpers


def pick(rng: random.Random, candidates, k: int) -> set[int]:
    """Exactly ``k`` distinct members of ``candidates`` (row indices)."""
    candidates = list(candidates)
    if not 0 <= k <= len(candidates):
        raise RuntimeError(f"cannot pick {k} rows among {len(candidates)} candidates")
    return set(rng.sample(candidates, k))


def outside(n: int, *excluded: set[int]) -> list[int]:
    """Row indices in ``range(n)`` that belong to none of ``excluded``, in order."""
    return [i for i in range(n) if not any(i in s for s in excluded)]


def deck(rng: random.Random, counts: dict) -> list:
    """Each label exactly as often as ``counts`` says, shuffled."""
    cards = [label for label, n in counts.items() for _ in range(n)]
    rng.shuffle(cards)
    return cards


def group_sizes(rng: random.Random, groups: int, total: int, lo: int, hi: int) -> list[int]:
    """``groups`` sizes within [lo, hi] summing to ``total``; lo and hi both occur."""
    # The triangular mode is chosen so the expected sum is close to ``total``; the loop
    # below then walks single rows by +/-1 (never the pinned lo/hi rows) until it is exact.
    mode = min(hi, max(lo, 3 * total / groups - lo - hi))
    sizes = [round(rng.triangular(lo, hi, mode)) for _ in range(groups)]
    smallest, largest = rng.sample(range(groups), 2)
    sizes[smallest], sizes[largest] = lo, hi
    free = outside(groups, {smallest, largest})
    while (diff := total - sum(sizes)) != 0:
        i = rng.choice(free)
        step = 1 if diff > 0 else -1
        if lo <= sizes[i] + step <= hi:
            sizes[i] += step
    return sizes


def owners(sizes: list[int]) -> list[int]:
    """Group index per row: group ``g`` repeated ``sizes[g]`` times, groups in order."""
    return [group for group, size in enumerate(sizes) for _ in range(size)]


def dates_around_signup(rng, signups: list[int], before: set[int], first: int, last: int) -> list[int]:
    """Day per row: in [first, signup) for rows in ``before``, else in [max(signup, first), last].

    The first and last day of the range are pinned on a ``before`` row and another row.
    ``before`` must only hold rows whose signup is after ``first`` (callers pick them so),
    otherwise [first, signup) would be empty."""
    days = [rng.randint(first, s - 1) if i in before else rng.randint(max(s, first), last)
            for i, s in enumerate(signups)]
    days[rng.choice(sorted(before))] = first
    days[rng.choice(outside(len(signups), before))] = last
    return days


def org_signups(orgs: list[list]) -> list[int]:
    """Signup ordinal per org row (column 6 of ``customers_orgs``)."""
    return [row[6].toordinal() for row in orgs]
