"""The usage-event stream: 720 events per UTC day over 60 days, dealt to 120 JSONL files.

* Each day's events sit on random whole minutes and the date fixes the schema version (v1 up
  to 2025-07-17 23:56, v2 from 2025-07-18 00:01). Services are dealt to v1 and v2 events
  from separate decks so that exactly 3,132 v2 events are genai (the ones with
  ``genai_tokens``). Regions, metrics, value kinds, null units, integer carbon zeros and
  costs are independent exact decks.
* Every (service, region) pair has a resource, so each event picks a resource of its
  service/region (and takes that resource's org); the 7,371 events that predate their
  resource are labelled first (among events whose pair has a resource created after the
  event's day) and then draw from the matching resources only.
* ``cost_usd_increment`` is dealt from a distribution built rank by rank (a piecewise
  quantile function with point masses at 1.00 and 10.00, pinned min/max and exactly 216
  negatives, 211 of them below -0.01), so percentiles and mean hold for any seed.
* Each day's events are dealt 6 to each of the 120 files, so every file spans all 60 days
  and arrival order says nothing about event time; each file is then shuffled.
"""

from __future__ import annotations

import bisect
import json
import random
from datetime import date

from cloud_analytics.landing.generator.common import (
    EVENT_DAYS,
    EVENT_FILES,
    EVENT_FIRST_DAY,
    EVENT_V2_FIRST_DAY,
    EVENTS_PER_DAY,
    METRIC_UNITS,
    deck,
    pick,
)
from cloud_analytics.landing.generator.ids import Ids


def event_files(rng: random.Random, ids: Ids, resources: list[list]) -> list[list[str]]:
    """One block of events as JSON lines, grouped by file (EVENT_FILES lists of 360 lines)."""
    times = _event_times(rng)
    n = len(times)
    versions = [1 if day < EVENT_V2_FIRST_DAY else 2 for day, _ in times]
    services = _event_services(rng, versions)
    regions = deck(rng, {"ap-northeast": 7773, "us-east": 7566, "us-west": 6384, "sa-east": 6270,
                         "ap-south": 5943, "eu-west": 4854, "eu-central": 4410})
    metrics = deck(rng, {"requests": 19512, "storage_gb_hours": 12996, "cpu_hours": 10692})
    kinds = deck(rng, {"number": 41014, "string": 1309, "null": 877})
    # A null unit falls on both null and non-null values, in exact numbers of each.
    no_unit = (pick(rng, [i for i in range(n) if kinds[i] != "null"], 2038)
               | pick(rng, [i for i in range(n) if kinds[i] == "null"], 37))
    costs = _cost_deck(rng, n)
    carbon_zero = pick(rng, [i for i in range(n) if versions[i] == 2], 2638)
    owners = _event_resources(rng, times, services, regions, resources)
    stamps = {day: date.fromordinal(day).isoformat() for day, _ in times}

    def line(i: int) -> str:
        # Called in file order, not event order: the per-event draws below (value, carbon,
        # tokens) and the event ids follow the order in which lines are written.
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
            # ``0`` (an int, not 0.0) is the "integer carbon zero" quirk.
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
    others = deck(rng, {"compute": 12498, "storage": 7614, "database": 7419, "networking": 6921,
                        "analytics": 4590})
    # The non-genai deck is cut so v1 and v2 each get their exact number of cards once
    # their genai cards are added; each side is then shuffled and dealt in event order.
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
    # Each pair's resources sorted by creation day, so those created on or before a given
    # day form a prefix of the pool (found by bisection).
    pools = {pair: sorted(members) for pair, members in by_pair.items()}
    created = {pair: [c for c, _ in members] for pair, members in pools.items()}
    n = len(times)
    # split[i]: resources of the pair created on or before the event's day (not predating).
    split = [bisect.bisect_right(created[(services[i], regions[i])], times[i][0]) for i in range(n)]
    size = [len(created[(services[i], regions[i])]) for i in range(n)]
    # An event whose pair has no resource yet must predate its resource; one whose pair has
    # resources on both sides of its day may; the rest of the 7,371 come from the latter.
    forced = [i for i in range(n) if split[i] == 0]
    flexible = [i for i in range(n) if 0 < split[i] < size[i]]
    predating = set(forced) | pick(rng, flexible, 7371 - len(forced))
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
    # Ranks [216, n): a [0, 1) ramp up to the first segment, then each _COST_SEGMENTS row
    # from its first rank to the next row's (the last one to n).
    starts = [216] + [int(f * (n - 1)) for f, *_ in _COST_SEGMENTS] + [n]
    segment(starts[1] - starts[0], 0.0, 1.0, 0.85)
    for (_, start, end, exponent), (lo, hi) in zip(_COST_SEGMENTS, zip(starts[1:], starts[2:])):
        segment(hi - lo, start, end, exponent)
    values[-1] = 317.43
    rng.shuffle(values)
    return values


def _deal_to_files(rng: random.Random, n: int) -> list[list[int]]:
    """Each day's events dealt evenly over the files (6 a day each), then each file shuffled."""
    # Relies on ``times`` being day-major with EVENTS_PER_DAY events per day.
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
