"""Deterministic generator of the landing dataset described in ``landing-dataset.md``.

``generate(out_dir, scale, seed)`` writes the seven CSV sources and the JSONL usage-event
stream with the shape, quirks and (at scale 1) every published count of the real
``cloud_provider_challenge_dataset_v1.zip``. Standard library only.

How the exact figures are reached
---------------------------------
* Nothing the profile counts is left to chance. A quirk is an *exact index set*:
  ``_pick(rng, candidates, k)`` draws exactly ``k`` rows among the rows able to carry the
  quirk (only a user of an org that signed up after 2025-05-04 can be created before its
  org; only a user created after 2025-05-14 can have logged in before being created).
  A column with published label counts is a shuffled *deck* holding each label exactly as
  often as published (``_deck``).
* Published minima and maxima are pinned on one row each, chosen among rows where the
  pinned value keeps every other rule true; other rows are drawn inside the range.
  Means marked "about" are nudged after drawing (integer steps or one scale factor).
* Usage events: each UTC day holds 720 events on random whole minutes and its date fixes
  the schema version (v1 up to 2025-07-17 23:56, v2 from 2025-07-18 00:01). Services are
  dealt to v1 and v2 events from separate decks so that exactly 3,132 v2 events are genai
  (the ones with ``genai_tokens``). Regions, metrics, value kinds, null units, integer
  carbon zeros and costs are independent exact decks. Every (service, region) pair has a
  resource, so each event picks a resource of its org/service/region; the 7,371 events
  that predate their resource are labelled first (among events whose pair has a resource
  created after the event's day) and then draw from the matching resources only.
* ``cost_usd_increment`` is dealt from a distribution built rank by rank (a piecewise
  quantile function with point masses at 1.00 and 10.00, pinned min/max and exactly
  216 negatives, 211 of them below -0.01), so percentiles and mean hold for any seed.
* Each day's events are dealt 6 to each of the 120 files, so every file spans all 60
  days and arrival order says nothing about event time; each file is then shuffled.

Scale and ids
-------------
Scale ``N`` is ``N`` independent *blocks*, each built exactly like scale 1 from its own
random stream (``Random(f"cloud-analytics/{seed}/{block}")``): every entity count and
quirk count is multiplied by ``N`` while ranges and rates stay. Ids come from a keyed Feistel permutation
of a per-prefix counter, so they look random yet are unique across blocks without keeping
every id in memory. Memory holds one block; CSV rows are appended block by block.

Every file is written to ``.<name>.tmp`` in its own folder, then renamed with ``os.replace``.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
import os
import random
from datetime import date
from pathlib import Path

EXPECTED_FILES = (
    "customers_orgs.csv",
    "users.csv",
    "resources.csv",
    "billing_monthly.csv",
    "support_tickets.csv",
    "marketing_touches.csv",
    "nps_surveys.csv",
)
EVENTS_DIR = "usage_events_stream"

COLUMNS = {
    "customers_orgs": ("org_id", "org_name", "industry", "hq_region", "plan_tier", "is_enterprise",
                       "signup_date", "sales_rep", "lifecycle_stage", "marketing_source", "nps_score"),
    "users": ("user_id", "org_id", "email", "role", "active", "created_at", "last_login"),
    "resources": ("resource_id", "org_id", "service", "region", "created_at", "state", "tags_json"),
    "billing_monthly": ("invoice_id", "org_id", "month", "subtotal", "credits", "taxes", "currency",
                        "exchange_rate_to_usd"),
    "support_tickets": ("ticket_id", "org_id", "category", "severity", "created_at", "resolved_at",
                        "csat", "sla_breached"),
    "marketing_touches": ("touch_id", "org_id", "campaign", "channel", "timestamp", "clicked",
                          "converted"),
    "nps_surveys": ("org_id", "survey_date", "nps_score", "comment"),
}

# Domains.
INDUSTRIES = ("Education", "Media", "Manufacturing", "E-commerce", "Retail", "Healthcare", "Energy",
              "Fintech", "Gaming", "Government")
REGIONS = ("sa-east", "us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast")
SERVICES = ("compute", "storage", "database", "networking", "analytics", "genai")
METRIC_UNITS = {"requests": "count", "cpu_hours": "hours", "storage_gb_hours": "gb_hours"}
_NAME_WORDS = (("Nimbus", "Stratus", "Cirrus", "Cumulus", "Aurora", "Vertex", "Quantum", "Helix",
                "Orbit", "Nova", "Zenith", "Polar", "Atlas", "Summit", "Beacon", "Lumen"),
               ("Labs", "Systems", "Cloud", "Works", "Data", "Dynamics", "Analytics", "Networks",
                "Digital", "Tech", "Solutions", "Soft"))
_ROLES = ("admin", "developer", "devops", "data_engineer", "ml_engineer", "analyst")
_CATEGORIES = ("performance", "security", "availability", "usability", "integration", "billing")
_CAMPAIGNS = ("welcome", "genai_launch", "security_week", "webinar_finops", "upgrade_pro",
              "upgrade_enterprise")
_CHANNELS = ("email", "ads", "event", "in_app")
_COMMENTS = ("Missing features", "Love genAI features", "Complex billing", "Stable but slow",
             "Too expensive", "Great support")


def _day(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


def _date(ordinal: int | None) -> date | None:
    return None if ordinal is None else date.fromordinal(ordinal)


# Date ranges (ordinals), identical at every scale.
SIGNUP_RANGE = (_day("2025-05-04"), _day("2025-07-02"))
USER_CREATED_RANGE = (_day("2025-05-04"), _day("2025-08-11"))
LAST_LOGIN_RANGE = (_day("2025-05-14"), _day("2025-08-31"))
RESOURCE_CREATED_RANGE = (_day("2025-05-04"), _day("2025-08-21"))
TICKET_CREATED_RANGE = (_day("2025-05-09"), _day("2025-08-31"))
TICKET_RESOLVED_RANGE = (_day("2025-05-10"), _day("2025-09-19"))
TOUCH_RANGE = (_day("2025-05-04"), _day("2025-08-31"))
SURVEY_RANGE = (_day("2025-05-24"), _day("2025-08-31"))
BILLING_MONTHS = (_day("2025-06-01"), _day("2025-07-01"), _day("2025-08-01"))
EVENT_FIRST_DAY, EVENT_DAYS, EVENT_V2_FIRST_DAY = _day("2025-07-03"), 60, _day("2025-07-18")

# One block (= scale 1). Counts of rows and quirks are per block.
ORGS, USERS, RESOURCES, TICKETS, TOUCHES = 80, 800, 400, 1000, 1500
EVENTS_PER_DAY, EVENT_FILES, LINES_PER_FILE = 720, 120, 360
RATE_RANGES = {"ARS": (0.00133, 0.00162), "EUR": (0.9981, 1.19808), "USD": (0.85463, 1.11791)}


def generate(out_dir: str | os.PathLike, scale: int = 1, seed: int = 42) -> dict[str, int]:
    """Write the landing dataset into ``out_dir``; return row counts per file stem."""
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    out = Path(out_dir)
    (out / EVENTS_DIR).mkdir(parents=True, exist_ok=True)
    ids = _Ids(seed)
    counts = {stem: 0 for stem in COLUMNS}
    counts["usage_events"] = 0
    with _CsvSinks(out) as sinks:
        for block in range(scale):
            rng = random.Random(f"cloud-analytics/{seed}/{block}")
            tables = _block_tables(rng, ids, block)
            for stem, rows in tables.items():
                sinks.write(stem, rows)
                counts[stem] += len(rows)
            files = _events(rng, ids, tables["resources"])
            for number, lines in enumerate(files, start=block * EVENT_FILES):
                _write_atomic(out / EVENTS_DIR / f"events_part_{number:04d}.jsonl", "".join(lines))
                counts["usage_events"] += len(lines)
    return counts


def _block_tables(rng: random.Random, ids: _Ids, block: int) -> dict[str, list[list]]:
    orgs = _orgs(rng, ids, first_row=block * ORGS)
    return {
        "customers_orgs": orgs,
        "users": _users(rng, ids, orgs),
        "resources": _resources(rng, ids, orgs),
        "billing_monthly": _billing(rng, ids, orgs),
        "support_tickets": _tickets(rng, ids, orgs),
        "marketing_touches": _touches(rng, ids, orgs),
        "nps_surveys": _surveys(rng, orgs),
    }


# ---------------------------------------------------------------------------------------
# Small exact-count helpers


def _pick(rng: random.Random, candidates, k: int) -> set[int]:
    """Exactly ``k`` distinct members of ``candidates`` (row indices)."""
    candidates = list(candidates)
    if not 0 <= k <= len(candidates):
        raise RuntimeError(f"cannot pick {k} rows among {len(candidates)} candidates")
    return set(rng.sample(candidates, k))


def _outside(n: int, *excluded: set[int]) -> list[int]:
    return [i for i in range(n) if not any(i in s for s in excluded)]


def _deck(rng: random.Random, counts: dict) -> list:
    """Each label exactly as often as ``counts`` says, shuffled."""
    deck = [label for label, n in counts.items() for _ in range(n)]
    rng.shuffle(deck)
    return deck


def _group_sizes(rng: random.Random, groups: int, total: int, lo: int, hi: int) -> list[int]:
    """``groups`` sizes within [lo, hi] summing to ``total``; lo and hi both occur."""
    mode = min(hi, max(lo, 3 * total / groups - lo - hi))
    sizes = [round(rng.triangular(lo, hi, mode)) for _ in range(groups)]
    smallest, largest = rng.sample(range(groups), 2)
    sizes[smallest], sizes[largest] = lo, hi
    free = _outside(groups, {smallest, largest})
    while (diff := total - sum(sizes)) != 0:
        i = rng.choice(free)
        step = 1 if diff > 0 else -1
        if lo <= sizes[i] + step <= hi:
            sizes[i] += step
    return sizes


def _owners(sizes: list[int]) -> list[int]:
    return [group for group, size in enumerate(sizes) for _ in range(size)]


def _dates_around_signup(rng, signups: list[int], before: set[int], first: int, last: int) -> list[int]:
    """Day per row: in [first, signup) for rows in ``before``, else in [max(signup, first), last].

    The first and last day of the range are pinned on a ``before`` row and another row."""
    days = [rng.randint(first, s - 1) if i in before else rng.randint(max(s, first), last)
            for i, s in enumerate(signups)]
    days[rng.choice(sorted(before))] = first
    days[rng.choice(_outside(len(signups), before))] = last
    return days


# ---------------------------------------------------------------------------------------
# CSV sources (one function per file; rows hold Python values, csv writes str() of each)


def _orgs(rng: random.Random, ids: _Ids, first_row: int) -> list[list]:
    n = ORGS
    signup = [rng.randint(*SIGNUP_RANGE) for _ in range(n)]
    earliest, latest = rng.sample(range(n), 2)
    signup[earliest], signup[latest] = SIGNUP_RANGE
    enterprise = _pick(rng, range(n), 10)
    flagged = _pick(rng, sorted(enterprise), 1) | _pick(rng, _outside(n, enterprise), 16)
    nps = _org_nps(rng, n)
    rows = []
    for i in range(n):
        plan = "enterprise" if i in enterprise else rng.choice(("free", "standard", "pro"))
        name = f"{rng.choice(_NAME_WORDS[0])} {rng.choice(_NAME_WORDS[1])} {first_row + i}"
        rows.append([ids("org", 8), name, rng.choice(INDUSTRIES), rng.choice(REGIONS), plan,
                     i in flagged, _date(signup[i]),
                     rng.choice(("rep_a", "rep_b", "rep_c", "rep_d", "rep_e")),
                     rng.choice(("lead", "prospect", "active", "at_risk", "churned")),
                     rng.choice(("partner", "event", "organic", "ads", "referral")), nps[i]])
    return rows


def _org_nps(rng: random.Random, n: int) -> list[float | None]:
    """11 null, one 101 (out of range), the rest integers in [-38, 100], mean about 18.7."""
    order = rng.sample(range(n), n)
    scores: list[int | None] = [None] * n
    scores[order[11]], scores[order[12]], scores[order[13]] = 101, -38, 100
    free = order[14:]
    for i in free:
        scores[i] = min(99, max(-37, round(rng.gauss(18.7, 30))))
    target = round(18.7 * (n - 11))
    while (diff := target - sum(s for s in scores if s is not None)) != 0:
        i = rng.choice(free)
        step = 1 if diff > 0 else -1
        if -37 <= scores[i] + step <= 99:
            scores[i] += step
    return [None if s is None else float(s) for s in scores]


def _org_signups(orgs: list[list]) -> list[int]:
    return [row[6].toordinal() for row in orgs]


def _users(rng: random.Random, ids: _Ids, orgs: list[list]) -> list[list]:
    owner = _owners(_group_sizes(rng, len(orgs), USERS, 3, 19))
    n = len(owner)
    signups = _org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = USER_CREATED_RANGE
    before = _pick(rng, [i for i in range(n) if signup[i] > first], 249)
    created = _dates_around_signup(rng, signup, before, first, last)
    login_first, login_last = LAST_LOGIN_RANGE
    never = _pick(rng, range(n), 139)
    early = _pick(rng, [i for i in _outside(n, never) if created[i] > login_first], 232)
    login: list[int | None] = [None] * n
    for i in _outside(n, never):
        login[i] = (rng.randint(login_first, created[i] - 1) if i in early
                    else rng.randint(max(created[i], login_first), login_last))
    login[rng.choice(sorted(early))] = login_first
    login[rng.choice(_outside(n, never, early))] = login_last
    active = _pick(rng, range(n), 728)
    rows = []
    for i in range(n):
        user_id = ids("user", 8)
        rows.append([user_id, orgs[owner[i]][0], f"{user_id}@example.com", rng.choice(_ROLES),
                     i in active, _date(created[i]), _date(login[i])])
    return rows


def _resources(rng: random.Random, ids: _Ids, orgs: list[list]) -> list[list]:
    owner = _owners(_group_sizes(rng, len(orgs), RESOURCES, 1, 11))
    n = len(owner)
    pairs = [(s, r) for s in SERVICES for r in REGIONS]  # every pair exists at least once
    pairs += [(rng.choice(SERVICES), rng.choice(REGIONS)) for _ in range(n - len(pairs))]
    rng.shuffle(pairs)
    signups = _org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = RESOURCE_CREATED_RANGE
    before = _pick(rng, [i for i in range(n) if signup[i] > first], 119)
    created = _dates_around_signup(rng, signup, before, first, last)
    states = _deck(rng, {"running": 242, "stopped": 119, "terminated": 39})
    untagged = _pick(rng, range(n), 83)
    pii = _pick(rng, _outside(n, untagged), 85)
    rows = []
    for i in range(n):
        tags = None if i in untagged else json.dumps(_tags(rng, pii=i in pii))
        rows.append([ids("res", 8), orgs[owner[i]][0], pairs[i][0], pairs[i][1], _date(created[i]),
                     states[i], tags])
    return rows


def _tags(rng: random.Random, pii: bool) -> list[str]:
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


def _billing(rng: random.Random, ids: _Ids, orgs: list[list]) -> list[list]:
    n = 3 * len(orgs)
    currency = _billing_currencies(rng, len(orgs))
    subtotal = _subtotals(rng, n)
    credits: list[float | None] = [None] * n
    credited = sorted(_pick(rng, range(n), n - 137))
    for i in credited:
        credits[i] = round(rng.uniform(0, 79.06), 2)
    lowest, highest = rng.sample(credited, 2)
    credits[lowest], credits[highest] = 0.0, 79.06
    rate = _exchange_rates(rng, currency)
    return [[ids("inv", 8), orgs[i // 3][0], _date(BILLING_MONTHS[i % 3]), subtotal[i], credits[i],
             round(abs(subtotal[i]) * 0.21, 2), currency[i], rate[i]] for i in range(n)]


def _billing_currencies(rng: random.Random, n_orgs: int) -> list[str]:
    """USD 160, ARS 51, EUR 29 over 3 invoices per org; exactly 50 orgs mix currencies."""
    order = rng.sample(range(n_orgs), n_orgs)
    single, multi = order[:30], order[30:]
    per_org: dict[int, list[str]] = {}
    for org, cur in zip(single, _deck(rng, {"USD": 24, "ARS": 4, "EUR": 2})):
        per_org[org] = [cur] * 3
    pool = _deck(rng, {"USD": 160 - 72, "ARS": 51 - 12, "EUR": 29 - 6})
    triples = [pool[3 * k:3 * k + 3] for k in range(len(multi))]
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
            while rates[i] == 1.0:
                rates[i] = round(rng.uniform(lo, hi), 5)
        lowest, highest = rng.sample(rows, 2)
        rates[lowest], rates[highest] = lo, hi
    return rates


def _tickets(rng: random.Random, ids: _Ids, orgs: list[list]) -> list[list]:
    n = TICKETS
    owner = [rng.randrange(len(orgs)) for _ in range(n)]
    signups = _org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = TICKET_CREATED_RANGE
    resolved_first, resolved_last = TICKET_RESOLVED_RANGE
    open_ = _pick(rng, range(n), 240)
    before = _pick(rng, [i for i in range(n) if signup[i] > first], 209)
    created = _dates_around_signup(rng, signup, before, first, last)
    earliest = rng.choice([i for i in sorted(before) if i not in open_])
    created[earliest] = first  # a resolved ticket opens on the first day (resolved the next)
    resolved: list[int | None] = [None] * n
    for i in _outside(n, open_):
        resolved[i] = min(created[i] + 1 + int(rng.expovariate(0.2)), resolved_last)
    resolved[earliest] = resolved_first
    late = rng.choice([i for i in _outside(n, open_, {earliest}) if created[i] >= resolved_last - 30])
    resolved[late] = resolved_last
    csat = _csat(rng, n, open_)
    critical = _pick(rng, range(n), 56)
    breached = _pick(rng, range(n), 95)
    rows = []
    for i in range(n):
        severity = "critical" if i in critical else rng.choice(("low", "medium", "high"))
        rows.append([ids("tkt", 8), orgs[owner[i]][0], rng.choice(_CATEGORIES), severity,
                     _date(created[i]), _date(resolved[i]), csat[i], i in breached])
    return rows


def _csat(rng: random.Random, n: int, open_: set[int]) -> list[float | None]:
    """254 null; 172 open tickets rated; 40 ratings outside 1-5 (0, 6 or 7)."""
    rated = sorted(_pick(rng, sorted(open_), 172) | _pick(rng, _outside(n, open_), n - 240 - (254 - 68)))
    scores: list[float | None] = [None] * n
    for i in rated:
        scores[i] = float(rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 3, 3))[0])
    for k, i in enumerate(rng.sample(rated, 40)):
        scores[i] = (0.0, 6.0, 7.0)[k] if k < 3 else rng.choice((0.0, 6.0, 7.0))
    return scores


def _touches(rng: random.Random, ids: _Ids, orgs: list[list]) -> list[list]:
    n = TOUCHES
    clicked = _pick(rng, range(n), 453)
    converted = _pick(rng, sorted(clicked), 144 - 96) | _pick(rng, _outside(n, clicked), 96)
    days = [rng.randint(*TOUCH_RANGE) for _ in range(n)]
    earliest, latest = rng.sample(range(n), 2)
    days[earliest], days[latest] = TOUCH_RANGE
    return [[ids("mkt", 8), orgs[rng.randrange(len(orgs))][0], rng.choice(_CAMPAIGNS),
             rng.choice(_CHANNELS), _date(days[i]), i in clicked, i in converted] for i in range(n)]


def _surveys(rng: random.Random, orgs: list[list]) -> list[list]:
    answering = rng.sample(range(len(orgs)), 60)
    twice = set(answering[:32])
    owner = [o for o in sorted(answering) for _ in range(2 if o in twice else 1)]
    n = len(owner)
    signups = _org_signups(orgs)
    signup = [signups[o] for o in owner]
    first, last = SURVEY_RANGE
    before = _pick(rng, [i for i in range(n) if signup[i] > first], 10)
    days = _dates_around_signup(rng, signup, before, first, last)
    order = rng.sample(range(n), n)
    scores: list[float | None] = [None] * n
    for i in order[19:]:
        scores[i] = float(rng.randint(-16, 68))
    scores[order[19]], scores[order[20]] = -16.0, 68.0
    silent = _pick(rng, range(n), 10)
    return [[orgs[owner[i]][0], _date(days[i]), scores[i],
             None if i in silent else rng.choice(_COMMENTS)] for i in range(n)]


# ---------------------------------------------------------------------------------------
# Usage events


def _events(rng: random.Random, ids: _Ids, resources: list[list]) -> list[list[str]]:
    """One block of events as JSON lines, grouped by file (EVENT_FILES lists of 360 lines)."""
    times = _event_times(rng)
    n = len(times)
    versions = [1 if day < EVENT_V2_FIRST_DAY else 2 for day, _ in times]
    services = _event_services(rng, versions)
    regions = _deck(rng, {"ap-northeast": 7773, "us-east": 7566, "us-west": 6384, "sa-east": 6270,
                          "ap-south": 5943, "eu-west": 4854, "eu-central": 4410})
    metrics = _deck(rng, {"requests": 19512, "storage_gb_hours": 12996, "cpu_hours": 10692})
    kinds = _deck(rng, {"number": 41014, "string": 1309, "null": 877})
    no_unit = (_pick(rng, [i for i in range(n) if kinds[i] != "null"], 2038)
               | _pick(rng, [i for i in range(n) if kinds[i] == "null"], 37))
    costs = _cost_deck(rng, n)
    carbon_zero = _pick(rng, [i for i in range(n) if versions[i] == 2], 2638)
    owners = _event_resources(rng, times, services, regions, resources)
    stamps = {day: date.fromordinal(day).isoformat() for day, _ in times}

    def line(i: int) -> str:
        day, minute = times[i]
        res = resources[owners[i]]
        value = None if kinds[i] == "null" else _metric_value(rng, metrics[i])
        event = {
            "event_id": ids("evt", 12),
            "timestamp": f"{stamps[day]}T{minute // 60:02d}:{minute % 60:02d}:00Z",
            "org_id": res[1], "resource_id": res[0], "service": services[i], "region": regions[i],
            "metric": metrics[i], "value": str(value) if kinds[i] == "string" else value,
            "unit": None if i in no_unit else METRIC_UNITS[metrics[i]],
            "cost_usd_increment": costs[i], "schema_version": versions[i],
        }
        if versions[i] == 2:
            event["carbon_kg"] = 0 if i in carbon_zero else round(rng.uniform(0.0005, 2.5), 4)
            if services[i] == "genai":
                event["genai_tokens"] = rng.randint(40, 25000)
        return json.dumps(event) + "\n"

    return [[line(i) for i in indices] for indices in _deal_to_files(rng, n)]


def _event_times(rng: random.Random) -> list[tuple[int, int]]:
    """(day ordinal, minute of day), day-major: 720 a day, v1's last at 23:56, v2's first at 00:01."""
    times = []
    for day in range(EVENT_FIRST_DAY, EVENT_FIRST_DAY + EVENT_DAYS):
        lo, hi, pin = 0, 1439, None
        if day == EVENT_V2_FIRST_DAY - 1:
            lo, hi, pin = 0, 23 * 60 + 56, 23 * 60 + 56
        elif day == EVENT_V2_FIRST_DAY:
            lo, hi, pin = 1, 1439, 1
        minutes = [rng.randint(lo, hi) for _ in range(EVENTS_PER_DAY)]
        if pin is not None:
            minutes[rng.randrange(EVENTS_PER_DAY)] = pin
        times.extend((day, minute) for minute in sorted(minutes))
    return times


def _event_services(rng: random.Random, versions: list[int]) -> list[str]:
    """Exact service counts, with genai split 1,026 (v1) / 3,132 (v2)."""
    others = _deck(rng, {"compute": 12498, "storage": 7614, "database": 7419, "networking": 6921,
                         "analytics": 4590})
    n_v1 = versions.count(1)
    v1 = others[:n_v1 - 1026] + ["genai"] * 1026
    v2 = others[n_v1 - 1026:] + ["genai"] * 3132
    rng.shuffle(v1)
    rng.shuffle(v2)
    deal = {1: iter(v1), 2: iter(v2)}
    return [next(deal[v]) for v in versions]


def _event_resources(rng, times, services, regions, resources) -> list[int]:
    """Index of each event's resource: same service and region; exactly 7,371 created later."""
    by_pair: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for index, row in enumerate(resources):
        by_pair.setdefault((row[2], row[3]), []).append((row[4].toordinal(), index))
    pools = {pair: sorted(members) for pair, members in by_pair.items()}
    created = {pair: [c for c, _ in members] for pair, members in pools.items()}
    n = len(times)
    # split[i]: resources of the pair created on or before the event's day (not predating).
    split = [bisect.bisect_right(created[(services[i], regions[i])], times[i][0]) for i in range(n)]
    size = [len(created[(services[i], regions[i])]) for i in range(n)]
    forced = [i for i in range(n) if split[i] == 0]
    flexible = [i for i in range(n) if 0 < split[i] < size[i]]
    predating = set(forced) | _pick(rng, flexible, 7371 - len(forced))
    chosen = []
    for i in range(n):
        lo, hi = (split[i], size[i]) if i in predating else (0, split[i])
        chosen.append(pools[(services[i], regions[i])][rng.randrange(lo, hi)][1])
    return chosen


def _metric_value(rng: random.Random, metric: str) -> float:
    if metric == "requests":
        return float(rng.randint(1, 500))
    if metric == "cpu_hours":
        return round(rng.uniform(0.01, 12.0), 4)
    return round(rng.uniform(0.1, 250.0), 4)


# (first rank as a fraction of n, value at start, value at end, curve exponent)
_COST_SEGMENTS = (
    (0.47, 1.0, 1.0, 1.0),        # point mass at 1.00 around the median
    (0.53, 1.0, 10.0, 1.965),
    (0.88, 10.0, 10.0, 1.0),      # point mass at 10.00 around p90
    (0.92, 10.0, 16.72, 1.0),
    (0.99, 16.72, 132.27, 8.5),
    (0.999, 132.27, 317.43, 5.0),
)


def _cost_deck(rng: random.Random, n: int) -> list[float]:
    """cost_usd_increment values for ``n`` events, shuffled (see module docstring)."""
    values = []

    def segment(count: int, start: float, end: float, exponent: float) -> None:
        for k in range(count):
            t = (k + rng.random()) / count  # stratified: keeps every quantile in place
            values.append(round(start + (end - start) * t ** exponent, 4))

    # 211 below -0.01 (heavy tail down to -154.46), 5 in (-0.01, 0).
    for k in range(211):
        t = 1 - (k + rng.random()) / 211
        values.append(round(-0.0101 - 154.4499 * t ** 9, 4))
    values[0] = -154.46
    values.extend(-round(rng.uniform(0.0001, 0.0099), 4) for _ in range(5))
    starts = [216] + [int(f * (n - 1)) for f, *_ in _COST_SEGMENTS] + [n]
    segment(starts[1] - starts[0], 0.0, 1.0, 0.85)
    for (_, start, end, exponent), (lo, hi) in zip(_COST_SEGMENTS, zip(starts[1:], starts[2:])):
        segment(hi - lo, start, end, exponent)
    values[-1] = 317.43
    rng.shuffle(values)
    return values


def _deal_to_files(rng: random.Random, n: int) -> list[list[int]]:
    """Each day's events dealt evenly over the files (6 a day each), then each file shuffled."""
    per_day = EVENTS_PER_DAY // EVENT_FILES
    files: list[list[int]] = [[] for _ in range(EVENT_FILES)]
    for first in range(0, n, EVENTS_PER_DAY):
        day = list(range(first, first + EVENTS_PER_DAY))
        rng.shuffle(day)
        for f, members in enumerate(files):
            members.extend(day[f * per_day:(f + 1) * per_day])
    for members in files:
        rng.shuffle(members)
    return files


# ---------------------------------------------------------------------------------------
# Ids and atomic writing

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_U64 = (1 << 64) - 1


class _Ids:
    """``prefix_`` + base-36 image of a per-prefix counter under a keyed Feistel permutation.

    A permutation of distinct counters gives distinct ids at any scale without remembering
    them; cycle-walking keeps the image below 36**length."""

    def __init__(self, seed: int):
        self._seed = seed
        self._state: dict[str, list] = {}

    def __call__(self, prefix: str, length: int) -> str:
        if prefix not in self._state:
            keys = random.Random(f"cloud-analytics-ids/{self._seed}/{prefix}")
            half = round(length * math.log2(36) / 2)
            self._state[prefix] = [0, [keys.getrandbits(64) for _ in range(4)], half]
        state = self._state[prefix]
        counter, keys, half = state
        state[0] += 1
        space = 36 ** length
        if counter >= min(space, 1 << (2 * half)):
            raise OverflowError(f"too many {prefix} ids")
        x = _feistel(counter, keys, half)
        while x >= space:
            x = _feistel(x, keys, half)
        chars = []
        for _ in range(length):
            x, digit = divmod(x, 36)
            chars.append(_ALPHABET[digit])
        return f"{prefix}_{''.join(chars)}"


def _feistel(x: int, keys: list[int], half: int) -> int:
    mask = (1 << half) - 1
    left, right = x >> half, x & mask
    for key in keys:
        mixed = ((right ^ key) * 0x9E3779B97F4A7C15) & _U64
        mixed ^= mixed >> 29
        mixed = (mixed * 0xBF58476D1CE4E5B9) & _U64
        mixed ^= mixed >> 32
        left, right = right, left ^ (mixed & mask)
    return (left << half) | right


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_atomic(path: Path, text: str) -> None:
    tmp = _temp_path(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class _CsvSinks:
    """The seven CSV files, appended block by block to temp files and renamed on success."""

    def __init__(self, out: Path):
        self._out = out
        self._files: dict[str, object] = {}
        self._writers: dict[str, object] = {}

    def __enter__(self) -> _CsvSinks:
        for stem, columns in COLUMNS.items():
            f = open(_temp_path(self._out / f"{stem}.csv"), "w", encoding="utf-8", newline="")
            self._files[stem] = f
            self._writers[stem] = csv.writer(f, lineterminator="\n")
            self._writers[stem].writerow(columns)
        return self

    def write(self, stem: str, rows: list[list]) -> None:
        self._writers[stem].writerows(rows)

    def __exit__(self, exc_type, exc, tb) -> None:
        for f in self._files.values():
            f.close()
        for stem in self._files:
            tmp, final = _temp_path(self._out / f"{stem}.csv"), self._out / f"{stem}.csv"
            if exc_type is None:
                os.replace(tmp, final)
            else:
                tmp.unlink(missing_ok=True)
