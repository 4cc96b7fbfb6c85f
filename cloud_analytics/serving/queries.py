"""The dashboard queries q1–q5 (plus anomalies and health), each a function over a driver
session that runs the CQL in ``cql/<name>.cql`` with bound parameters and returns plain dicts.

"Last N days" is relative to ``as_of``, which defaults to the newest date the serving table
holds (``serving_state``). Rows carry ``source`` = batch or speed where the table has both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from cloud_analytics.serving.schema import cql


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
    """Daily cost and requests by service for ``org`` in [start, end] (default: the 30 days to as_of)."""
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
    """Per day over the last ``days`` days: critical tickets opened and the SLA breach rate
    (breached / opened), for one org or all orgs."""
    end = as_of or newest_date(session, "tickets_by_day")
    start = end - timedelta(days=days - 1)
    if org:
        rows = _run(session, "q3_org", (org, start, end))
    else:
        rows = [r for m in _months_between(start, end) for r in _run(session, "q3_all", (m, start, end))]
    per_day: dict[date, dict] = defaultdict(lambda: {"opened": 0, "critical": 0, "sla_breached": 0})
    for row in rows:
        d = per_day[as_date(row["ticket_date"])]
        for k in ("opened", "critical", "sla_breached"):
            d[k] += row[k] or 0
    return [{"date": day, **v, "sla_breach_rate": round(v["sla_breached"] / v["opened"], 4) if v["opened"] else None}
            for day, v in sorted(per_day.items())]


def _months_between(start: date, end: date) -> list[str]:
    months, current = [], _month_start(start)
    while current <= end:
        months.append(current.strftime("%Y-%m"))
        current = _month_start(current + timedelta(days=32))
    return months


def q4_monthly_revenue(session, org: str | None = None, as_of: date | None = None, months: int = 12) -> list[dict]:
    """Monthly revenue in USD (subtotal − credits + taxes), for one org or summed over all orgs."""
    end = _month_start(as_of or newest_date(session, "revenue_by_month"))
    wanted = _months_back(end, months)
    if org:
        rows = [_clean(r) for r in _run(session, "q4_org", (org, wanted[-1], end))]
        return sorted(rows, key=lambda r: r["month"])
    out = []
    for month in sorted(wanted):
        rows = _run(session, "q4_all", (month,))
        if rows:
            sums = {k: sum((r[k] or Decimal(0)) for r in rows) for k in ("subtotal_usd", "credits_usd", "taxes_usd", "total_usd")}
            out.append({"month": month, "orgs": len(rows), **sums})
    return out


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
