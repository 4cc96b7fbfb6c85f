"""The Dagster UI as a user meets it: `make dev` started by the test (the Spark service, then
`dagster dev` with its daemon) on free ports, over a lake of its own holding the landed CSV files
and no event feed (so the sensors run and find nothing to do). A partition backfill launched
through the UI's GraphQL API completes; the asset graph shows every layer; the backfilled asset's
page shows its row count, column schema and check results; the sensors are listed and running.

With CLOUD_ANALYTICS_SCREENSHOTS=<folder> (``make screenshots``) the asset graph is saved there.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from cloud_analytics.bronze.specs import CSV_SOURCES
from cloud_analytics.config import REPO_ROOT
from cloud_analytics.orchestration.sensors import build_sensors
from cloud_analytics_tests.browser import web

pytestmark = pytest.mark.browser

LAYERS = ("bronze", "silver", "quarantine", "gold", "speed", "serving")
ASSET = ("bronze", "customers_orgs")
PARTITIONS = ("2026-11-29", "2026-11-30")
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED", "FAILING", "CANCELING"}


class Dagster:
    def __init__(self, url: str, landing: Path):
        self.url, self.landing = url, landing

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(f"{self.url}/graphql", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"query": query, "variables": variables or {}}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture(scope="module")
def dagster(generated_landing, settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("dagster_ui")
    landing = root / "landing"
    landing.mkdir()
    for source in CSV_SOURCES:  # the master data, no event feed
        shutil.copy(settings.landing / source.file_name, landing / source.file_name)
    port, service_port = web.free_port(), web.free_port()
    env = {**os.environ, "CLOUD_ANALYTICS_LAKE": str(root / "datalake"), "CLOUD_ANALYTICS_LANDING": str(landing),
           "DAGSTER_HOME": str(root / "dagster_home"), "DAGSTER_PORT": str(port),
           # As `make dev` runs for a user: its runs connect to the Spark service it starts.
           "CLOUD_ANALYTICS_SPARK_SERVICE": "auto", "CLOUD_ANALYTICS_SPARK_SERVICE_PORT": str(service_port),
           "CLOUD_ANALYTICS_SPARK_SERVICE_HOME": str(root / "spark_service")}
    url = f"http://127.0.0.1:{port}"
    try:
        with web.server(["make", "--no-print-directory", "-C", str(REPO_ROOT), "dev"], env, f"{url}/server_info",
                        root / "make_dev.log", timeout_s=300):
            yield Dagster(url, landing)
    finally:  # `cloud-analytics spark start` detaches the service from make's process group
        subprocess.run([web.CLI, "spark", "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def backfill(dagster) -> dict:
    """Two daily partitions of bronze/customers_orgs, backfilled through GraphQL as the UI does."""
    launched = dagster.graphql("""
        mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
          __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                               {"params": {"assetSelection": [{"path": list(ASSET)}],
                                           "partitionNames": list(PARTITIONS)}})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def finished():
        found = dagster.graphql("""
            query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
              ... on PartitionBackfill { status numPartitions runs(limit: 10) { runId status } } } }""",
                                {"id": launched["backfillId"]})["partitionBackfillOrError"]
        return found if found.get("status") in DONE and all(
            r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in found["runs"]) else None

    return web.wait_until(finished, 300, f"backfill {launched['backfillId']} of {'/'.join(ASSET)}", interval_s=2)


def _skip_welcome(driver, wait_s: float = 6) -> None:
    """Dismiss the UI's first-visit community dialog, which opens a moment after the page (the
    browser remembers the answer, so later pages have none)."""
    try:
        buttons = web.wait_until(lambda: driver.find_elements("xpath", "//button[normalize-space()='Skip']"),
                                 wait_s, "the community dialog")
    except AssertionError:
        return  # already dismissed in this browser
    buttons[0].click()


def _open(driver, url: str, *texts: str, timeout_s: float = 60) -> str:
    driver.get(url)
    body = web.wait_until(lambda: (lambda t: t if all(x in t for x in texts) else None)(
        driver.find_element("tag name", "body").text), timeout_s, f"{', '.join(texts)} on {url}")
    _skip_welcome(driver)
    return body


def test_a_partition_backfill_launched_through_graphql_completes(backfill):
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert backfill["numPartitions"] == len(PARTITIONS)
    assert [r["status"] for r in backfill["runs"]] == ["SUCCESS"]  # a single-run backfill policy


def test_the_asset_graph_shows_every_layer(browser, dagster):
    _open(browser, f"{dagster.url}/asset-groups", *LAYERS)
    # Each layer's name twice: in the group list and as a node of the drawn graph (bronze → silver →
    # quarantine, gold → speed → serving).
    def drawn():
        return all(browser.find_element("tag name", "body").text.count(layer) >= 2 for layer in LAYERS)

    web.wait_until(drawn, 60, "a graph node for every layer")
    if web.README_SHOTS:
        web.readme_shot(browser, Path(web.README_SHOTS) / "dagster-asset-graph.png", ready=drawn)


def test_the_asset_page_shows_row_count_schema_and_check_results(browser, dagster, backfill):
    with open(dagster.landing / "customers_orgs.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        landed = sum(1 for _ in reader)
    overview = _open(browser, f"{dagster.url}/assets/{'/'.join(ASSET)}", "Row count", "Columns", "Latest check results")
    # One snapshot of every landed org per partition day (the landing file counted here, by csv).
    rows = overview.split("Row count", 1)[1].split()[0]
    assert int(rows.replace(",", "")) == landed * len(PARTITIONS)
    columns = overview.split("Columns", 1)[1]
    assert all(name in columns for name in header), header
    names = ("key_not_null", "key_unique", "row_reconciliation")
    _open(browser, f"{dagster.url}/assets/{'/'.join(ASSET)}?view=checks", "Checks (3)", *names)
    # The list is drawn before each check's latest result arrives: wait for a verdict on every one.
    checks = web.wait_until(lambda: (lambda t: t if all(f"{n}\nSucceeded" in t or f"{n}\nFailed" in t
                                                        for n in names) else None)(
        browser.find_element("tag name", "body").text), 60, "a result for every check")
    for name in names:
        assert f"{name}\nSucceeded" in checks, checks[:800]


# The on/off switch in a sensor's row of the automation list (the row's first checkbox selects it;
# the switch, its last, appears once the sensor's state has loaded: null until then).
_TOGGLE = """
const leaf = [...document.querySelectorAll('body *')].find(e => e.childElementCount === 0 && e.textContent.trim() === arguments[0]);
let row = leaf;
while (row && row.querySelectorAll('input[type=checkbox]').length < 1) row = row.parentElement;
const boxes = row ? row.querySelectorAll('input[type=checkbox]') : [];
return boxes.length === 2 ? boxes[1].checked : null;
"""


def test_the_sensors_are_listed_and_running(browser, dagster):
    names = sorted(s.name for s in build_sensors(interval_s=5))
    _open(browser, f"{dagster.url}/automation", *names)
    switches = web.wait_until(lambda: (lambda found: found if None not in found.values() else None)(
        {name: browser.execute_script(_TOGGLE, name) for name in names}), 60, "the sensors' switches")
    assert switches == dict.fromkeys(names, True)
    # The reader tells off from on: the schedules ship stopped (turned on by a deployment).
    assert browser.execute_script(_TOGGLE, "daily_snapshot_schedule") is False
    states = dagster.graphql("""{ sensorsOrError(repositorySelector: {repositoryName: "__repository__",
        repositoryLocationName: "cloud_analytics"}) { ... on Sensors { results { name sensorState { status } } } } }""")
    assert {s["name"]: s["sensorState"]["status"] for s in states["sensorsOrError"]["results"]} == dict.fromkeys(
        names, "RUNNING")
