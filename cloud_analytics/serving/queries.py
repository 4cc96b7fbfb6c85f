"""The dashboard queries q1–q5 (plus anomalies and health), each a function over a driver
session that runs the CQL in ``cql/<name>.cql`` with bound parameters and returns plain dicts.

"Last N days" is relative to ``as_of``, which defaults to the newest date the serving table
holds (``serving_state``). Rows carry ``source`` = batch or speed where the table has both.
The all-org forms of q3 and q4 read one partition each: the platform tables hold every org's
figures summed per day / month under the single partition key ``PLATFORM``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from cloud_analytics.serving.schema import cql


# The one partition of the platform-wide tables (platform_tickets_by_day, platform_revenue_by_month):
# every org summed, so an all-org query is one partition read (serving/rows.py writes it).
PLATFORM = "all"


class NoServingData(LookupError):
    """The serving table is empty: nothing loaded yet."""


_PREPARED: "WeakKeyDictionary[Any, dict[str, Any]]" = WeakKeyDictionary()


def _run(session, name: str, params: tuple) -> list[dict[str, Any]]:
    """Execute ``cql/<name>.cql``, prepared once per session (dashboards call these often)."""
    prepared = _PREPARED.setdefault(session, {})
    if name not in prepared:
        prepared[name] = session.prepare(cql(name))
    return [row._asdict() for row in session.execute(prepared[name], params)]


def newest_date(session, table: str) -> date:
    """The newest date ``table`` serves, from the batch layer or the speed layer."""
    rows = _run(session, "state", (table,))
    dates = [as_date(rows[0][c]) for c in ("max_date", "speed_max_date") if rows and rows[0].get(c) is not None]
    if not dates:
        raise NoServingData(f"serving table {table} holds no data yet: run the pipeline (make run) first")
    return max(dates)


def as_date(value) -> date:
    """The driver returns cassandra.util.Date for CQL date; make it a datetime.date."""
    if isinstance(value, date):
        return value
    return value.date() if hasattr(value, "date") else date.fromisoformat(str(value))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(day: date, count: int) -> list[date]:
    months, current = [], _month_start(day)
    for _ in range(count):
        months.append(current)
        current = _month_start(current - timedelta(days=1))
    return months


def _clean(row: dict) -> dict:
    return {k: (as_date(v) if type(v).__name__ == "Date" else v) for k, v in row.items()}


def q1_daily_cost(session, org: str, start: date | None = None, end: date | None = None,
                  as_of: date | None = None, days: int = 30) -> list[dict]:
    """Daily cost, requests and carbon by service for ``org`` in [start, end] (default: the 30 days
    to as_of). ``carbon_kg`` (kg CO2e) is null where no event of the day measured carbon (schema
    v1 events do not): "not measured", never 0."""
    end = end or as_of or newest_date(session, "org_daily_usage")
    start = start or end - timedelta(days=days - 1)
    rows = [_clean(r) for r in _run(session, "q1", (org, start, end))]
    return sorted(rows, key=lambda r: (r["usage_date"], r["service"]))


def q2_top_services(session, org: str, as_of: date | None = None, days: int = 14, top: int = 5) -> list[dict]:
    """The ``top`` services of ``org`` by cost over the ``days`` days up to as_of."""
    end = as_of or newest_date(session, "org_daily_usage")
    start = end - timedelta(days=days - 1)
    totals: dict[str, dict] = defaultdict(lambda: {"cost_usd": Decimal(0), "requests": 0, "days": 0})
    for row in _run(session, "q2", (org, start, end)):
        t = totals[row["service"]]
        t["cost_usd"] += row["daily_cost_usd"] or 0
        t["requests"] += row["requests"] or 0
        t["days"] += 1
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1]["cost_usd"], kv[0]))[:top]
    return [{"rank": i + 1, "service": s, **t, "from": start, "to": end} for i, (s, t) in enumerate(ranked)]


def q3_critical_tickets(session, org: str | None = None, as_of: date | None = None, days: int = 30) -> list[dict]:
    """Per day over the last ``days`` days: tickets opened, critical tickets opened and the SLA
    breach rate (breached / opened), for one org or all orgs; days on which no ticket was opened
    are left out. The window ends at ``as_of``, by default the newest day on which a ticket was
    opened (``platform_tickets_by_day`` holds only such days), not the newest resolution date."""
    end = as_of or newest_date(session, "platform_tickets_by_day")
    start = end - timedelta(days=days - 1)
    if org:
        rows = _run(session, "q3_org", (org, start, end))
    else:  # every org, summed per day at load time: one partition slice
        rows = _run(session, "q3_all", (PLATFORM, start, end))
    per_day: dict[date, dict] = defaultdict(lambda: {"opened": 0, "critical": 0, "sla_breached": 0})
    for row in rows:
        d = per_day[as_date(row["ticket_date"])]
        for k in ("opened", "critical", "sla_breached"):
            d[k] += row[k] or 0
    return [{"date": day, **v, "sla_breach_rate": round(v["sla_breached"] / v["opened"], 4)}
            for day, v in sorted(per_day.items()) if v["opened"]]


def q4_monthly_revenue(session, org: str | None = None, as_of: date | None = None, months: int = 12) -> list[dict]:
    """Monthly revenue in USD (subtotal − credits + taxes), for one org or summed over all orgs.

    The all-org rows sum the orgs' USD amounts (never amounts in their invoice currencies);
    ``orgs`` counts the orgs invoiced in the month and ``orgs_without_usd`` those whose invoice
    has no USD amount (no exchange rate), which the USD sums therefore leave out."""
    end = _month_start(as_of or newest_date(session, "platform_revenue_by_month"))
    first = _months_back(end, months)[-1]
    if org:
        rows = [_clean(r) for r in _run(session, "q4_org", (org, first, end))]
    else:  # every org, summed per month at load time: one partition slice
        rows = [_clean(r) for r in _run(session, "q4_all", (PLATFORM, first, end))]
    return sorted(rows, key=lambda r: r["month"])


def q5_genai(session, org: str, as_of: date | None = None, days: int = 30) -> list[dict]:
    """GenAI tokens, events and estimated cost per day for ``org`` over the last ``days`` days."""
    end = as_of or newest_date(session, "genai_by_org_day")
    start = end - timedelta(days=days - 1)
    return sorted((_clean(r) for r in _run(session, "q5", (org, start, end))), key=lambda r: r["usage_date"])


def cost_anomalies(session, org: str, as_of: date | None = None, days: int = 30) -> list[dict]:
    end = as_of or newest_date(session, "cost_anomalies_by_org")
    start = end - timedelta(days=days - 1)
    rows = [_clean(r) for r in _run(session, "anomalies", (org, start, end)) if r["is_anomaly"]]
    return sorted(rows, key=lambda r: (r["anomaly_date"], r["service"]))


def customer_health(session, org: str) -> list[dict]:
    """The org's latest assessment: as_of_date, health_score, risk_band, active_resources and
    the score's components (docs/health-score.md)."""
    return [_clean(r) for r in _run(session, "health", (org,))]


def usage_alerts(session, org: str, as_of: date | None = None, days: int = 7, limit: int = 5) -> list[dict]:
    """The speed layer's newest cost alerts for ``org`` over the ``days`` days up to as_of
    (default: the newest alert's date)."""
    rows = [_clean(r) for r in _run(session, "alerts", (org, limit))]
    if not rows:
        return []
    end = as_of or max(r["alert_date"] for r in rows)
    start = end - timedelta(days=days - 1)
    return [r for r in rows if start <= r["alert_date"] <= end]


# A sliding window of the live view spans WINDOW_MINUTES and starts every STEP_MINUTES (speed/windows.py).
WINDOW_MINUTES, STEP_MINUTES = 60, 5


def live_usage(session, org: str, minutes: int = 60, until: datetime | None = None) -> list[dict]:
    """The live view of ``org``: per service, the one-hour windows ending every 5 minutes over the
    last ``minutes`` up to ``until`` (default: the window ending at the first 5-minute step after
    the org's newest event, i.e. the trailing hour "now"), oldest first; ``is_closed`` false marks
    provisional windows that on-time events may still reach."""
    if until is None:
        newest = _run(session, "live_newest", (org,))
        if not newest:
            return []
        # An event at t lies in the windows ending up to 55 minutes after its 5-minute step.
        until = newest[0]["window_end"] - timedelta(minutes=WINDOW_MINUTES - STEP_MINUTES)
    rows = _run(session, "live", (org, until - timedelta(minutes=minutes), until))
    return sorted(rows, key=lambda r: (r["service"], r["window_end"]))


# -- The platform overview (every org) -----------------------------------------------------------

def platform_cost(session, as_of: date | None = None, days: int = 30) -> list[dict]:
    """Per day over the last ``days`` days up to as_of: the cost of every org summed, the orgs with a
    cost, and the org/service days flagged anomalous (one slice of the platform partition)."""
    end = as_of or newest_date(session, "platform_cost_by_day")
    start = end - timedelta(days=days - 1)
    return sorted((_clean(r) for r in _run(session, "platform_cost", (PLATFORM, start, end))),
                  key=lambda r: r["usage_date"])


def org_ranking(session, top: int | None = None) -> list[dict]:
    """Every org's latest health assessment, ranked by its cost over the 30 days to that
    assessment (highest first): org_id, as_of_date, cost_last_30d_usd, health_score, risk_band,
    active_resources. One row per org (``PER PARTITION LIMIT 1``)."""
    rows = []
    for r in _run(session, "platform_health", ()):
        facts = r.pop("facts") or {}
        rows.append({**_clean(r), "cost_last_30d_usd": facts.get("cost_last_30d_usd")})
    rows.sort(key=lambda r: (-(r["cost_last_30d_usd"] or 0.0), r["org_id"]))
    ranked = [{"rank": i + 1, **r} for i, r in enumerate(rows)]
    return ranked[:top] if top else ranked


def alert_counts(session, as_of: date | None = None, days: int = 7) -> list[dict]:
    """Per day over the last ``days`` days up to as_of (default: the newest alert's date): the
    speed layer's cost alerts across orgs and the orgs alerted."""
    per_day: dict[date, dict] = defaultdict(lambda: {"alerts": 0, "orgs": set()})
    for row in _run(session, "platform_alerts", ()):
        day = per_day[as_date(row["alert_date"])]
        day["alerts"] += 1
        day["orgs"].add(row["org_id"])
    if not per_day:
        return []
    end = as_of or max(per_day)
    start = end - timedelta(days=days - 1)
    return [{"alert_date": d, "alerts": v["alerts"], "orgs": len(v["orgs"])}
            for d, v in sorted(per_day.items()) if start <= d <= end]
