"""Query rows → the dashboard's tables and chart frames (pure pandas; no Streamlit, no driver).

The dashboard shows exactly what the query functions return (``serving/queries.py``, the
same functions ``cloud-analytics query`` prints): these functions only reshape and format,
they never compute a figure of their own beyond a sum over the rows shown.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Iterable

import pandas as pd

PROVISIONAL = "provisional (speed layer)"
FINAL = "final (batch layer)"
BANDS = ("healthy", "watch", "at_risk")


def money(value) -> str:
    """USD with cents and thousands separators; an em dash for a missing amount. A Decimal is
    rounded as a Decimal (half to even), as the query command rounds it, never through a float."""
    if value is None:
        return "—"
    return f"${value if isinstance(value, Decimal) else float(value):,.2f}"


def count(value) -> str:
    return "—" if value is None else f"{int(value):,}"


def rate(value) -> str:
    """An exchange rate with 6 significant digits (ARS 0.00157), as the CLI prints it."""
    return "—" if value is None else f"{float(value):.6g}"


def total(rows: Iterable[dict], column: str):
    """The sum of a column over the rows shown (Decimal stays Decimal: money is exact)."""
    values = [r[column] for r in rows if r.get(column) is not None]
    return sum(values, Decimal(0) if values and isinstance(values[0], Decimal) else 0)


def daily_cost(q1_rows: list[dict], anomaly_rows: list[dict]) -> pd.DataFrame:
    """One row per day and service (q1): cost as float for charting, ``layer`` final or
    provisional (rows the speed layer wrote after the batch watermark), ``anomaly`` true where
    cost_anomalies flags the org/service/day."""
    flagged = {(r["anomaly_date"], r["service"]) for r in anomaly_rows}
    return pd.DataFrame([{
        "date": pd.Timestamp(r["usage_date"]), "service": r["service"],
        "cost_usd": float(r["daily_cost_usd"] or 0), "requests": r["requests"],
        "layer": PROVISIONAL if r.get("source") == "speed" else FINAL,
        "anomaly": (r["usage_date"], r["service"]) in flagged,
    } for r in q1_rows], columns=["date", "service", "cost_usd", "requests", "layer", "anomaly"])


def anomaly_marks(anomaly_rows: list[dict]) -> pd.DataFrame:
    """One mark per anomalous day: the services flagged and their cost that day."""
    per_day: dict = {}
    for r in anomaly_rows:
        day = per_day.setdefault(r["anomaly_date"], {"services": [], "cost_usd": 0.0})
        day["services"].append(r["service"])
        day["cost_usd"] += float(r["daily_cost_usd"] or 0)
    return pd.DataFrame([{"date": pd.Timestamp(d), "services": ", ".join(sorted(v["services"])),
                          "flagged_cost_usd": v["cost_usd"]} for d, v in sorted(per_day.items())],
                        columns=["date", "services", "flagged_cost_usd"])


def top_services_table(q2_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"rank": r["rank"], "service": r["service"], "cost": money(r["cost_usd"]),
                          "requests": count(r["requests"]), "days": r["days"]} for r in q2_rows],
                        columns=["rank", "service", "cost", "requests", "days"]).set_index("rank")


def tickets(q3_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"date": pd.Timestamp(r["date"]), "opened": r["opened"], "critical": r["critical"],
                          "sla_breached": r["sla_breached"]} for r in q3_rows],
                        columns=["date", "opened", "critical", "sla_breached"])


def revenue_table(q4_rows: list[dict]) -> pd.DataFrame:
    """Newest month first, in USD and in the invoice currency with its rate (q4)."""
    return pd.DataFrame([{
        "month": r["month"].strftime("%Y-%m"), "currency": r.get("currency") or "USD", "rate": rate(r.get("fx_rate")),
        "invoiced": "—" if r.get("total_original") is None else f"{float(r['total_original']):,.2f}",
        "total_usd": money(r["total_usd"]),
    } for r in sorted(q4_rows, key=lambda r: r["month"], reverse=True)],
        columns=["month", "currency", "rate", "invoiced", "total_usd"]).set_index("month")


def revenue(q4_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"month": pd.Timestamp(r["month"]), "total_usd": float(r["total_usd"] or 0)}
                         for r in q4_rows], columns=["month", "total_usd"])


def genai(q5_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"date": pd.Timestamp(r["usage_date"]), "tokens": r["tokens"],
                          "estimated_cost_usd": float(r["estimated_cost_usd"] or 0),
                          "layer": PROVISIONAL if r.get("source") == "speed" else FINAL} for r in q5_rows],
                        columns=["date", "tokens", "estimated_cost_usd", "layer"])


def live(live_rows: list[dict]) -> pd.DataFrame:
    """The last hour per service; open windows (``is_closed`` false) are provisional."""
    return pd.DataFrame([{"window_end": pd.Timestamp(r["window_end"]), "service": r["service"],
                          "cost_usd": float(r["cost_usd"] or 0), "events": r["event_count"],
                          "layer": FINAL if r["is_closed"] else PROVISIONAL} for r in live_rows],
                        columns=["window_end", "service", "cost_usd", "events", "layer"])


def alerts_table(alert_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"time": r["event_ts"].strftime("%Y-%m-%d %H:%M"), "service": r["service"],
                          "cost": money(r["cost_usd"]), "baseline": money(r["baseline_median_usd"]),
                          "reason": r["reason"]} for r in alert_rows],
                        columns=["time", "service", "cost", "baseline", "reason"])


def platform_cost(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"date": pd.Timestamp(r["usage_date"]), "cost_usd": float(r["cost_usd"] or 0),
                          "orgs": r["orgs"], "anomalies": r["anomalies"]} for r in rows],
                        columns=["date", "cost_usd", "orgs", "anomalies"])


def org_table(ranking: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"rank": r["rank"], "org": r["org_id"], "cost_30d": money(r["cost_last_30d_usd"]),
                          "health": "—" if r["health_score"] is None else f"{r['health_score']:.1f}",
                          "band": r["risk_band"], "assessed": r["as_of_date"].isoformat()} for r in ranking],
                        columns=["rank", "org", "cost_30d", "health", "band", "assessed"]).set_index("rank")


def band_counts(ranking: list[dict]) -> pd.DataFrame:
    """Orgs per health band, every band shown (0 included), in the bands' order."""
    counts = Counter(r["risk_band"] for r in ranking)
    return pd.DataFrame([{"band": b, "orgs": counts.get(b, 0)} for b in BANDS], columns=["band", "orgs"])


def alerts_per_day(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"date": pd.Timestamp(r["alert_date"]), "alerts": r["alerts"], "orgs": r["orgs"]}
                         for r in rows], columns=["date", "alerts", "orgs"])


def top_services(q2_rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"service": r["service"], "cost_usd": float(r["cost_usd"])} for r in q2_rows],
                        columns=["service", "cost_usd"])
