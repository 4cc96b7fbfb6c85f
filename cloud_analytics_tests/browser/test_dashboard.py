"""The dashboard in a real browser: the figures it shows are the ones `cloud-analytics query
--format json` prints for the same org (the CLI run as a separate process, against the same test
Cassandra), its charts are drawn, and no error appears; a Cassandra that cannot be reached is
one clear message on the page.

With CLOUD_ANALYTICS_SCREENSHOTS=<folder> (``make screenshots``) the pages are also saved there
for the README.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from cloud_analytics_tests.browser import web

pytestmark = [pytest.mark.browser, pytest.mark.cassandra]


def cli(*args: str) -> list[dict]:
    done = subprocess.run([web.CLI, "query", *args, "--format", "json"], env=dict(os.environ), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def money(value) -> str:  # as a reader sees it: dollars, thousands separated, cents
    return f"${Decimal(str(value)):,.2f}"


def dollars(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def close_to(shown: str, rows: list[dict], column: str) -> bool:
    """The page sums exact amounts; the CLI prints each rounded to cents: equal within half a
    cent per row."""
    expected = sum(Decimal(str(r[column])) for r in rows)
    return abs(dollars(shown) - expected) <= Decimal("0.005") * max(len(rows), 1)


@pytest.fixture(scope="module")
def dashboard(serving_run, tmp_path_factory):
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    with web.dashboard(dict(os.environ), log) as url:
        yield url


@pytest.fixture(scope="module")
def org(dashboard) -> str:
    """The org with the highest cost over 30 days, as the query command ranks them."""
    return cli("orgs", "--top", "1")[0]["org_id"]


def test_the_org_view_shows_what_the_query_command_returns(browser, dashboard, org):
    web.open_streamlit(browser, f"{dashboard}/org?org={org}")
    assert web.errors(browser) == []
    q1, q2, q3, q4, q5 = (cli("q1", "--org", org), cli("q2", "--org", org), cli("q3", "--org", org),
                          cli("q4", "--org", org), cli("q5", "--org", org))
    anomalies, [health] = cli("anomalies", "--org", org), cli("health", "--org", org)
    assert q1 and q2 and q4 and q5, "the chosen org has rows in every query"

    shown = web.metrics(browser, "org_metrics")
    assert close_to(shown["Cost, 30 days"], q1, "daily_cost_usd"), shown
    assert shown["Anomalous service days"] == f"{len(anomalies):,}"
    assert shown["Tickets opened, 30 days"] == f"{sum(r['opened'] for r in q3):,}"
    assert shown[f"Health ({health['risk_band']})"] == f"{health['health_score']:.1f}"

    assert [(r["service"], r["cost"], r["requests"]) for r in web.table(browser, "top_services")] == [
        (r["service"], money(r["cost_usd"]), f"{r['requests']:,}") for r in q2]
    revenue = web.table(browser, "revenue")
    assert [(r["month"], r["currency"], r["total_usd"]) for r in revenue] == [
        (r["month"][:7], r["currency"], money(r["total_usd"])) for r in sorted(q4, key=lambda r: r["month"],
                                                                             reverse=True)]
    assert all(r["rate"] == f"{q['fx_rate']:.6g}" for r, q in zip(revenue, sorted(q4, key=lambda r: r["month"],
                                                                                    reverse=True)))
    tokens = f"{sum(r['tokens'] for r in q5):,} tokens"
    assert tokens in browser.find_element("tag name", "body").text

    ink = web.chart_ink(browser)
    assert len(ink) >= 5 and all(n > 0 for n in ink), f"empty chart among {ink}"
    if web.README_SHOTS:
        web.readme_shot(browser, Path(web.README_SHOTS) / "dashboard-org.png")


def test_the_platform_overview_shows_what_the_query_command_returns(browser, dashboard):
    web.open_streamlit(browser, f"{dashboard}/")
    assert web.errors(browser) == []
    cost, ranking, alerts = cli("platform"), cli("orgs", "--top", "0"), cli("alert-counts")
    shown = web.metrics(browser, "platform_metrics")
    assert close_to(shown["Cost, every org"], cost, "cost_usd"), shown
    assert shown["Orgs"] == f"{len(ranking):,}"
    assert shown["Anomalous org/service days"] == f"{sum(r['anomalies'] for r in cost):,}"
    assert shown["Cost alerts, 7 days"] == f"{sum(r['alerts'] for r in alerts):,}"
    assert [(r["org"], r["cost_30d"], r["band"]) for r in web.table(browser, "top_orgs")] == [
        (r["org_id"], money(r["cost_last_30d_usd"]), r["risk_band"]) for r in ranking[:10]]
    bands = {r["band"]: int(r["orgs"]) for r in web.table(browser, "bands")}
    assert bands == {b: sum(r["risk_band"] == b for r in ranking) for b in ("healthy", "watch", "at_risk")}
    ink = web.chart_ink(browser)
    assert len(ink) >= 2 and all(n > 0 for n in ink), f"empty chart among {ink}"
    if web.README_SHOTS:
        web.readme_shot(browser, Path(web.README_SHOTS) / "dashboard-platform.png")


def test_a_cassandra_that_cannot_be_reached_is_one_message_on_the_page(browser, tmp_path):
    port = web.free_port()  # nothing listens there
    env = {**os.environ, "CLOUD_ANALYTICS_CASSANDRA_PORT": str(port)}
    with web.dashboard(env, tmp_path / "dashboard.log") as url:
        for page in ("/", "/org?org=org_x"):
            web.open_streamlit(browser, url + page)
            [message] = web.errors(browser)
            assert f"Cannot reach Cassandra at 127.0.0.1:{port}" in message
            assert "Traceback" not in browser.find_element("tag name", "body").text
            assert not browser.find_elements("css selector", "[data-testid='stException']")
