"""The dashboard's Altair charts, from the frames of ``frames.py``.

Provisional figures (written by the speed layer, or a live window still open) are drawn
faded and named in the legend, so a reader never mistakes them for final ones.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from cloud_analytics.dashboard.frames import FINAL, PROVISIONAL

HEIGHT = 260
_LAYER = alt.Opacity("layer:N", title="figures", scale=alt.Scale(domain=[FINAL, PROVISIONAL], range=[1.0, 0.35]))
_DAY = alt.X("date:T", title=None, axis=alt.Axis(format="%b %d"))


def daily_cost_by_service(costs: pd.DataFrame, anomalies: pd.DataFrame) -> alt.LayerChart:
    """Stacked daily cost by service, the days with an anomaly marked above their bar."""
    bars = alt.Chart(costs).mark_bar().encode(
        x=_DAY, y=alt.Y("sum(cost_usd):Q", title="cost (USD)"), color=alt.Color("service:N", title="service"),
        opacity=_LAYER,
        tooltip=[alt.Tooltip("date:T"), "service:N", alt.Tooltip("cost_usd:Q", format="$,.2f"), "layer:N"],
    )
    day_totals = costs.groupby("date", as_index=False)["cost_usd"].sum()
    marked = anomalies.merge(day_totals, on="date", how="left")
    marks = alt.Chart(marked).mark_point(shape="triangle-down", size=110, filled=True, color="black").encode(
        x=_DAY, y=alt.Y("cost_usd:Q"),
        tooltip=[alt.Tooltip("date:T", title="anomaly on"), alt.Tooltip("services:N", title="services flagged"),
                 alt.Tooltip("flagged_cost_usd:Q", format="$,.2f", title="their cost")],
    )
    return alt.layer(bars, marks).properties(height=HEIGHT)


def top_services(q2: pd.DataFrame) -> alt.Chart:
    return alt.Chart(q2).mark_bar().encode(
        x=alt.X("cost_usd:Q", title="cost (USD)"), y=alt.Y("service:N", sort="-x", title=None),
        tooltip=["service:N", alt.Tooltip("cost_usd:Q", format="$,.2f")],
    ).properties(height=40 * max(len(q2), 1))


def tickets(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(id_vars="date", value_vars=["opened", "critical", "sla_breached"], var_name="tickets",
                      value_name="count")
    return alt.Chart(long).mark_line(point=True).encode(
        x=_DAY, y=alt.Y("count:Q", title="tickets"), color=alt.Color("tickets:N", title=None),
        tooltip=[alt.Tooltip("date:T"), "tickets:N", "count:Q"],
    ).properties(height=HEIGHT)


def revenue(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("yearmonth(month):O", title=None), y=alt.Y("total_usd:Q", title="revenue (USD)"),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m"), alt.Tooltip("total_usd:Q", format="$,.2f")],
    ).properties(height=HEIGHT)


def genai(frame: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(frame).encode(x=_DAY)
    tokens = base.mark_bar(color="#9467bd").encode(
        y=alt.Y("tokens:Q", title="tokens"), opacity=_LAYER, tooltip=[alt.Tooltip("date:T"), "tokens:Q", "layer:N"])
    cost = base.mark_line(color="#ff7f0e", point=True).encode(
        y=alt.Y("estimated_cost_usd:Q", title="estimated cost (USD)"),
        tooltip=[alt.Tooltip("date:T"), alt.Tooltip("estimated_cost_usd:Q", format="$,.2f")])
    return alt.layer(tokens, cost).resolve_scale(y="independent").properties(height=HEIGHT)


def live(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("window_end:T", title="window end (UTC)", axis=alt.Axis(format="%H:%M")),
        y=alt.Y("cost_usd:Q", title="cost in the hour (USD)"), color=alt.Color("service:N", title="service"),
        opacity=_LAYER,
        tooltip=[alt.Tooltip("window_end:T", format="%H:%M"), "service:N",
                 alt.Tooltip("cost_usd:Q", format="$,.2f"), "events:Q", "layer:N"],
    ).properties(height=HEIGHT)


def platform_cost(frame: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(frame).encode(x=_DAY)
    cost = base.mark_area(opacity=0.5, line=True).encode(
        y=alt.Y("cost_usd:Q", title="cost, every org (USD)"),
        tooltip=[alt.Tooltip("date:T"), alt.Tooltip("cost_usd:Q", format="$,.2f"), "orgs:Q", "anomalies:Q"])
    flagged = base.mark_bar(color="#d62728", opacity=0.7).encode(
        y=alt.Y("anomalies:Q", title="anomalous org/service days"), tooltip=[alt.Tooltip("date:T"), "anomalies:Q"])
    return alt.layer(cost, flagged).resolve_scale(y="independent").properties(height=HEIGHT)


def bands(frame: pd.DataFrame) -> alt.Chart:
    colors = alt.Scale(domain=["healthy", "watch", "at_risk"], range=["#2ca02c", "#ffbf00", "#d62728"])
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("band:N", sort=["healthy", "watch", "at_risk"], title=None), y=alt.Y("orgs:Q", title="orgs"),
        color=alt.Color("band:N", scale=colors, legend=None), tooltip=["band:N", "orgs:Q"],
    ).properties(height=HEIGHT)


def alerts(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar(color="#d62728").encode(
        x=_DAY, y=alt.Y("alerts:Q", title="cost alerts"), tooltip=[alt.Tooltip("date:T"), "alerts:Q", "orgs:Q"],
    ).properties(height=HEIGHT)
