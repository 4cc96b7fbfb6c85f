"""The FinOps dashboard: a Streamlit app over the serving layer (``cloud-analytics dashboard``).

It reads Cassandra only, through the query functions ``cloud-analytics query`` prints
(``serving/queries.py``), so each number has one definition. Two pages: the platform overview
(every org) and an org's view (``/org?org=<id>``). Every figure is read when the page renders
(no cache beyond the org list), so the live view and the speed layer's provisional rows are as
fresh as Cassandra. A Cassandra that cannot be reached, or holds nothing yet, is one message
on the page, never a stack trace.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st
from cassandra import InvalidRequest, OperationTimedOut, RequestExecutionException, RequestValidationException
from cassandra.cluster import NoHostAvailable

from cloud_analytics.config import load_settings
from cloud_analytics.dashboard import charts, frames
from cloud_analytics.resources.cassandra import CassandraResource, CassandraUnavailableError
from cloud_analytics.serving import queries
from cloud_analytics.serving.queries import NoServingData

ORG_PARAM = "org"


@dataclass
class Connection:
    session: Any
    target: str
    keyspace: str
    _stack: ExitStack


@st.cache_resource(show_spinner=False)
def _connect() -> Connection:
    """One driver session per dashboard process (the driver reconnects by itself after an
    outage). A failure is not cached: the next page load tries again."""
    resource = CassandraResource.from_settings(load_settings())
    stack = ExitStack()
    # The dashboard only reads: it never creates the keyspace (use_keyspace=False skips that).
    session = stack.enter_context(resource.session(use_keyspace=False))
    try:
        session.set_keyspace(resource.keyspace)
    except InvalidRequest:
        stack.close()
        raise NoServingData(f"keyspace {resource.keyspace} does not exist on Cassandra at {resource.target}: "
                            "run the pipeline first (make run)") from None
    return Connection(session, resource.target, resource.keyspace, stack)


@st.cache_data(ttl=60, show_spinner=False)
def _org_ranking(_session, keyspace: str) -> list[dict]:
    return queries.org_ranking(_session)


def _guarded(page: Callable[[Connection], None]) -> None:
    """Run a page; the platform's known failures become one message on the page."""
    started = time.perf_counter()
    try:
        connection = _connect()
        page(connection)
    except (CassandraUnavailableError, NoServingData) as exc:
        st.error(str(exc), icon="⚠️")
        return
    except (NoHostAvailable, OperationTimedOut, RequestExecutionException) as exc:
        settings = load_settings()
        st.error(f"Cassandra at {', '.join(settings.cassandra_hosts)}:{settings.cassandra_port} did not answer "
                 f"({type(exc).__name__}): is the node running (`cloud-analytics cassandra status`)? Reload the page "
                 "to try again.", icon="⚠️")
        return
    except RequestValidationException as exc:  # e.g. a table this dashboard reads was never created
        st.error(f"Cassandra refused a dashboard query: {exc}. The serving tables may predate this dashboard: "
                 "run the pipeline (make run) to create and load them.", icon="⚠️")
        return
    elapsed_ms = (time.perf_counter() - started) * 1000
    with st.container(key="timing"):
        st.caption(f"Read from Cassandra ({connection.target}, keyspace {connection.keyspace}) in "
                   f"{elapsed_ms:,.0f} ms.")


def _table(key: str, frame) -> None:
    """A static HTML table (the figures, as text) in a container the browser tests find by key."""
    with st.container(key=key):
        st.table(frame)


def platform_page(connection: Connection) -> None:
    session = connection.session
    st.title("Cloud Analytics: platform")
    cost = queries.platform_cost(session)
    ranking = _org_ranking(session, connection.keyspace)
    alerts = queries.alert_counts(session)
    first, last = (cost[0]["usage_date"], cost[-1]["usage_date"]) if cost else (None, None)
    with st.container(key="platform_metrics"):
        a, b, c, d = st.columns(4)
        a.metric("Cost, every org", frames.money(frames.total(cost, "cost_usd")),
                 help=f"{first} .. {last} (the 30 days to the newest day served)")
        b.metric("Orgs", frames.count(len(ranking)))
        c.metric("Anomalous org/service days", frames.count(frames.total(cost, "anomalies")))
        d.metric("Cost alerts, 7 days", frames.count(frames.total(alerts, "alerts")))
    st.subheader("Total cost and anomalies per day")
    st.caption(f"{first} .. {last}. Bars: org/service days flagged anomalous by at least 2 of 3 methods.")
    st.altair_chart(charts.platform_cost(frames.platform_cost(cost)), use_container_width=True)
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Top orgs by cost (30 days)")
        _table("top_orgs", frames.org_table(ranking[:10]))
    with right:
        st.subheader("Health bands")
        bands = frames.band_counts(ranking)
        st.altair_chart(charts.bands(bands), use_container_width=True)
        _table("bands", bands.set_index("band"))
    st.subheader("Cost alerts per day (speed layer)")
    if alerts:
        st.altair_chart(charts.alerts(frames.alerts_per_day(alerts)), use_container_width=True)
    else:
        st.info("No cost alert in the last 7 days of alerts kept (90 days).")


def org_page(connection: Connection) -> None:
    session = connection.session
    ranking = _org_ranking(session, connection.keyspace)
    if not ranking:
        raise NoServingData("customer_health_by_org holds no org yet: run the pipeline first (make run)")
    options = [r["org_id"] for r in ranking]
    wanted = st.query_params.get(ORG_PARAM)
    org = st.sidebar.selectbox("Org (by cost, highest first)", options,
                               index=options.index(wanted) if wanted in options else 0, key="org_select")
    st.query_params[ORG_PARAM] = org
    days = st.sidebar.slider("Days", min_value=7, max_value=90, value=30, step=1)
    st.title(f"Org {org}")

    q1 = queries.q1_daily_cost(session, org, days=days)
    anomalies = queries.cost_anomalies(session, org, days=days)
    health = queries.customer_health(session, org)
    q3 = queries.q3_critical_tickets(session, org, days=days)
    q5 = queries.q5_genai(session, org, days=days)

    with st.container(key="org_metrics"):
        a, b, c, d = st.columns(4)
        a.metric(f"Cost, {days} days", frames.money(frames.total(q1, "daily_cost_usd")))
        b.metric("Anomalous service days", frames.count(len(anomalies)))
        c.metric(f"Tickets opened, {days} days", frames.count(frames.total(q3, "opened")))
        if health:
            h = health[0]
            d.metric(f"Health ({h['risk_band']})", f"{h['health_score']:.1f}",
                     help=f"0-100, as of {h['as_of_date']}; {h['active_resources']} active resources")

    st.subheader("Daily cost by service")
    provisional = sorted({r["usage_date"] for r in q1 if r.get("source") == "speed"})
    note = (f" Days from {provisional[0]} are provisional (speed layer) until the batch layer covers them."
            if provisional else "")
    st.caption(f"Triangles mark days with a cost anomaly (at least 2 of 3 methods).{note}")
    st.altair_chart(charts.daily_cost_by_service(frames.daily_cost(q1, anomalies), frames.anomaly_marks(anomalies)),
                    use_container_width=True)

    left, right = st.columns(2)
    with left:
        q2 = queries.q2_top_services(session, org)
        st.subheader("Top services, 14 days")
        if q2:
            st.caption(f"{q2[0]['from']} .. {q2[0]['to']}")
            st.altair_chart(charts.top_services(frames.top_services(q2)), use_container_width=True)
        _table("top_services", frames.top_services_table(q2))
    with right:
        st.subheader("Support tickets")
        st.caption(f"Opened, critical and SLA breaches per day ({frames.count(frames.total(q3, 'sla_breached'))} "
                   f"breaches in {days} days).")
        if q3:
            st.altair_chart(charts.tickets(frames.tickets(q3)), use_container_width=True)
        else:
            st.info(f"No ticket opened in the last {days} days.")

    left, right = st.columns(2)
    with left:
        q4 = queries.q4_monthly_revenue(session, org)
        st.subheader("Revenue by month (USD)")
        st.altair_chart(charts.revenue(frames.revenue(q4)), use_container_width=True)
        _table("revenue", frames.revenue_table(q4))
    with right:
        st.subheader("GenAI tokens and estimated cost")
        st.caption(f"{frames.count(frames.total(q5, 'tokens'))} tokens, "
                   f"{frames.money(frames.total(q5, 'estimated_cost_usd'))} estimated in {days} days.")
        if q5:
            st.altair_chart(charts.genai(frames.genai(q5)), use_container_width=True)
        else:
            st.info(f"No GenAI usage in the last {days} days.")

    st.subheader("Live: the last hour (speed layer)")
    live = queries.live_usage(session, org)
    if live:
        st.caption("One-hour windows every 5 minutes; faded: windows still open (provisional).")
        st.altair_chart(charts.live(frames.live(live)), use_container_width=True)
    else:
        st.info("No live window for this org: the speed layer has not seen its events in the last two days "
                "(`make dev` with `cloud-analytics landing replay` feeds it).")
    alerts = queries.usage_alerts(session, org)
    st.subheader("Recent cost alerts")
    if alerts:
        _table("alerts", frames.alerts_table(alerts))
    else:
        st.info("No cost alert for this org in the last 7 days of alerts.")


def platform() -> None:
    _guarded(platform_page)


def org() -> None:
    _guarded(org_page)


def main() -> None:
    st.set_page_config(page_title="Cloud Analytics", page_icon="☁️", layout="wide")
    pages = [st.Page(platform, title="Platform", url_path="platform", default=True),
             st.Page(org, title="Org", url_path="org")]
    st.navigation(pages).run()


main()
