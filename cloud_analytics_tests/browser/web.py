"""What the browser tests (and ``benchmarks/dashboard.py``) share: Debian's chromium driven by
selenium, servers started on free loopback ports and stopped with their process group, and the
page readers (Streamlit tables, metrics, charts).

Chromium runs headless with the flags that keep it on loopback: no background networking,
component updates, sync or QUIC (without them it calls Google's hosts at every start).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from cloud_analytics.config import REPO_ROOT

CHROMIUM = os.environ.get("CLOUD_ANALYTICS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CLOUD_ANALYTICS_CHROMEDRIVER", "/usr/bin/chromedriver")
CLI = str(Path(os.sys.executable).with_name("cloud-analytics"))
# Failure screenshots (git-ignored); README screenshots go where CLOUD_ANALYTICS_SCREENSHOTS says.
OUTPUT = REPO_ROOT / "test-output" / "screenshots"
README_SHOTS = os.environ.get("CLOUD_ANALYTICS_SCREENSHOTS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chrome(width: int = 1400, height: int = 1800):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
                 f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_until(check: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.25):
    """The first truthy value of ``check`` within the timeout, else an AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the page or server is not there yet
            last_error = exc
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}"
                         + (f" (last error: {last_error})" if last_error else ""))


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


@contextmanager
def server(argv: list[str], env: dict[str, str], ready_url: str, log: Path, timeout_s: float = 120,
           cwd: Path = REPO_ROOT) -> Iterator[subprocess.Popen]:
    """A server process in its own process group, ready when ``ready_url`` answers 200; on exit
    the whole group is stopped (``stop_group``), so no child outlives the test."""
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        def up():
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {process.returncode}; its log: {log}")
            return http_ok(ready_url)

        wait_until(up, timeout_s, f"{' '.join(argv[:3])} at {ready_url} (log: {log})")
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen, grace_s: float = 15) -> None:
    """Ctrl-C to the whole group (dagster dev and Streamlit shut down on SIGINT; dagster dev
    ignores SIGTERM for a long while), then SIGKILL whatever is left of it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their parent, too
    except ProcessLookupError:
        pass
    process.wait()


@contextmanager
def dashboard(env: dict[str, str], log: Path) -> Iterator[str]:
    """``cloud-analytics dashboard`` on a free port; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server([CLI, "dashboard", "--port", str(port)], env, f"{base}/_stcore/health", log, timeout_s=60):
        yield base


# -- Streamlit pages -------------------------------------------------------------------------------

def open_streamlit(driver, url: str, timeout_s: float = 30) -> None:
    """Open a page and wait until it has rendered: the timing caption (written last) or an error."""
    driver.get(url)
    wait_until(lambda: driver.find_elements("css selector", ".st-key-timing, [data-testid='stAlertContentError'], "
                                                            "[data-testid='stException']"),
               timeout_s, f"the dashboard page {url}")


def table(driver, key: str) -> list[dict[str, str]]:
    """The rows of the st.table in the container ``key``: header → cell text (index column included)."""
    found = driver.find_elements("css selector", f".st-key-{key} table")
    assert found, f"no table in container {key}"
    head = [th.text.strip() for th in found[0].find_elements("css selector", "thead th")]
    rows = []
    for tr in found[0].find_elements("css selector", "tbody tr"):
        cells = [c.text.strip() for c in tr.find_elements("css selector", "th, td")]
        rows.append(dict(zip(head, cells)))
    return rows


def metrics(driver, key: str) -> dict[str, str]:
    """label → value of the st.metric elements in the container ``key``."""
    out = {}
    for metric in driver.find_elements("css selector", f".st-key-{key} [data-testid='stMetric']"):
        label = metric.find_element("css selector", "[data-testid='stMetricLabel']").text.strip()
        out[label] = metric.find_element("css selector", "[data-testid='stMetricValue']").text.strip()
    return out


# Painted pixels of each Vega-Lite chart (canvas), or drawn marks (SVG): 0 means an empty chart.
_CHART_INK = """
return [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(chart => {
  const canvas = chart.querySelector('canvas');
  if (canvas && canvas.width && canvas.height) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
    return painted;
  }
  const svg = chart.querySelector('svg');
  return svg ? svg.querySelectorAll('path, rect, line, circle').length : 0;
});
"""


def chart_ink(driver) -> list[int]:
    return driver.execute_script(_CHART_INK)


def errors(driver) -> list[str]:
    """Text of every error element on a Streamlit page (exceptions and st.error boxes)."""
    return [e.text for e in driver.find_elements("css selector", "[data-testid='stException'], "
                                                                 "[data-testid='stAlertContentError']")]


def readme_shot(driver, path: Path, width: int = 1280, height: int = 860,
                ready: Callable[[], object] | None = None) -> Path:
    """A small viewport PNG for the README (the top of the page), at a fixed size. With ``ready``
    the page is loaded again at that size and shot once ``ready()`` is true (a graph laid out
    for the window it was drawn in)."""
    before = driver.get_window_size()
    driver.set_window_size(width, height)
    if ready is not None:
        driver.refresh()
        wait_until(ready, 60, f"the page {driver.current_url} at {width}x{height}")
    time.sleep(1.5)  # the charts re-layout to the new width
    try:
        return screenshot(driver, path, full_page=False)
    finally:
        driver.set_window_size(before["width"], before["height"])


def screenshot(driver, path: Path, full_page: bool = True) -> Path:
    """A PNG of the page (the whole scroll height when ``full_page``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if full_page:
        height = driver.execute_script(
            "return Math.max(document.body.scrollHeight, "
            "...[...document.querySelectorAll('section, main, [data-testid=stMain]')].map(e => e.scrollHeight))")
        width = driver.get_window_size()["width"]
        driver.set_window_size(width, max(int(height) + 120, 800))
    driver.save_screenshot(str(path))
    return path
