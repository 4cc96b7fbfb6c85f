"""One headless chromium per test session for the browser tests; a screenshot of the page
whenever one of them fails (``test-output/screenshots/<test>.png``)."""

from __future__ import annotations

import pytest

from cloud_analytics_tests.browser import web


@pytest.fixture(scope="session")
def browser():
    driver = web.chrome()
    yield driver
    driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and driver is not None:
        try:
            path = web.screenshot(driver, web.OUTPUT / f"{item.name}.png", full_page=False)
            report.sections.append(("browser", f"screenshot of the page at failure: {path} ({driver.current_url})"))
        except Exception as exc:  # the browser itself may be what failed
            report.sections.append(("browser", f"no screenshot: {exc}"))
