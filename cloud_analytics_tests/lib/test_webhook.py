"""Webhook delivery against a real HTTP server on 127.0.0.1: transient failures are retried with
backoff, a refused payload is not, a dead endpoint costs one retry cycle per run, and no message
shows the URL's path or query (where a webhook keeps its token)."""

from __future__ import annotations

import socket

import pytest

from cloud_analytics.lib.webhook import Delivery, WebhookError, deliver, host_of, post_json
from cloud_analytics_tests.endpoint import HANG, endpoint  # noqa: F401 (a fixture)

pytestmark = pytest.mark.fast


@pytest.fixture
def sleeps():
    return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_2xx_is_delivered_at_the_first_attempt(endpoint, sleeps):
    payload = {"org": "acme", "cost": 12.5, "services": ["s3", "ec2"]}
    result = post_json(endpoint.url, payload, key="alert-1", sleep=sleeps.append)

    assert result == Delivery(key="alert-1", ok=True, attempts=1, status=200, error="")
    assert len(endpoint.requests) == 1
    request = endpoint.requests[0]
    assert request["path"] == "/hook"
    assert request["body"] == payload
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Idempotency-Key"] == "alert-1"
    assert request["headers"]["User-Agent"] == "cloud-analytics-alerts"
    assert sleeps == []


def test_payload_values_json_cannot_encode_are_sent_as_text(endpoint, sleeps):
    from datetime import datetime

    post_json(endpoint.url, {"at": datetime(2024, 5, 1, 12, 0)}, sleep=sleeps.append)

    assert endpoint.requests[0]["body"] == {"at": "2024-05-01 12:00:00"}
    assert "Idempotency-Key" not in endpoint.requests[0]["headers"]  # no key given, none sent


def test_5xx_is_retried_with_exponential_backoff(endpoint, sleeps):
    endpoint.script = [503, 503, 200]
    result = post_json(endpoint.url, {"a": 1}, key="k", backoff_s=0.5, sleep=sleeps.append)

    assert (result.ok, result.attempts, result.status) == (True, 3, 200)
    assert len(endpoint.requests) == 3
    assert [r["headers"]["Idempotency-Key"] for r in endpoint.requests] == ["k", "k", "k"]
    assert sleeps == [0.5, 1.0]


def test_the_backoff_is_capped_at_30_seconds(endpoint, sleeps):
    endpoint.script = [500]
    post_json(endpoint.url, {}, attempts=4, backoff_s=20, sleep=sleeps.append)

    assert sleeps == [20, 30, 30]


def test_429_waits_as_long_as_retry_after_says(endpoint, sleeps):
    endpoint.script, endpoint.retry_after = [429, 200], "2"
    result = post_json(endpoint.url, {}, sleep=sleeps.append)

    assert (result.ok, result.attempts) == (True, 2)
    assert sleeps == [2]


def test_retry_after_is_capped_at_30_seconds(endpoint, sleeps):
    endpoint.script, endpoint.retry_after = [503, 200], "3600"
    post_json(endpoint.url, {}, sleep=sleeps.append)

    assert sleeps == [30]


def test_a_4xx_is_not_retried(endpoint, sleeps):
    endpoint.script = [400, 200]
    result = post_json(endpoint.url, {}, key="k", sleep=sleeps.append)

    assert len(endpoint.requests) == 1
    assert (result.ok, result.attempts, result.status) == (False, 1, 400)
    assert "400" in result.error
    assert f"http://127.0.0.1:{endpoint.port}" in result.error
    assert sleeps == []


def test_a_redirect_is_not_followed_as_a_get(endpoint, sleeps):
    endpoint.script = [302]
    result = post_json(endpoint.url, {}, sleep=sleeps.append)

    assert (result.ok, result.attempts, result.status) == (False, 1, 302)
    assert [r["path"] for r in endpoint.requests] == ["/hook"]


def test_a_failing_endpoint_gives_up_after_the_attempts(endpoint, sleeps):
    endpoint.script = [500]
    result = post_json(endpoint.url, {}, attempts=3, sleep=sleeps.append)

    assert len(endpoint.requests) == 3
    assert (result.ok, result.attempts, result.status) == (False, 3, 500)
    assert "500" in result.error and endpoint.host in result.error
    assert sleeps == [0.5, 1.0]  # no wait after the last attempt


def test_a_failing_endpoint_costs_one_retry_cycle_per_run(endpoint, sleeps):
    endpoint.script = [500]
    results = deliver(endpoint.url, [("a", {"n": 1}), ("b", {"n": 2}), ("c", {"n": 3})],
                      attempts=3, sleep=sleeps.append)

    assert len(endpoint.requests) == 3
    assert {r["body"]["n"] for r in endpoint.requests} == {1}
    assert [(r.key, r.ok, r.attempts) for r in results] == [("a", False, 3), ("b", False, 0), ("c", False, 0)]
    assert results[1].error == results[2].error == f"not attempted: {endpoint.host} failing"


def test_a_refused_payload_does_not_stop_the_others(endpoint, sleeps):
    endpoint.script = [422, 200, 200]
    results = deliver(endpoint.url, [("a", {}), ("b", {}), ("c", {})], sleep=sleeps.append)

    assert [(r.key, r.ok, r.status) for r in results] == [("a", False, 422), ("b", True, 200), ("c", True, 200)]


def test_deliver_posts_in_order_one_delivery_per_key(endpoint, sleeps):
    payloads = [(f"alert-{i}", {"i": i}) for i in range(4)]
    results = deliver(endpoint.url, payloads, sleep=sleeps.append)

    assert [r["body"]["i"] for r in endpoint.requests] == [0, 1, 2, 3]
    assert [r["headers"]["Idempotency-Key"] for r in endpoint.requests] == [k for k, _ in payloads]
    assert results == [Delivery(k, True, 1, 200, "") for k, _ in payloads]
    assert deliver(endpoint.url, [], sleep=sleeps.append) == []


def test_connection_refused_is_reported_not_raised(sleeps):
    port = free_port()
    result = post_json(f"http://127.0.0.1:{port}/hook", {}, attempts=2, sleep=sleeps.append)

    assert (result.ok, result.attempts, result.status) == (False, 2, None)
    assert f"http://127.0.0.1:{port}" in result.error
    assert "refused" in result.error.lower()
    assert sleeps == [0.5]


def test_a_timeout_is_retried(endpoint, sleeps):
    endpoint.script = [HANG, 200]
    result = post_json(endpoint.url, {}, timeout_s=0.1, sleep=sleeps.append)

    assert (result.ok, result.attempts) == (True, 2)
    assert len(endpoint.requests) == 2


def test_the_url_token_never_reaches_a_message(endpoint, sleeps):
    url = f"http://127.0.0.1:{endpoint.port}/hook/PATHSECRET?token=SECRET"
    endpoint.script = [401]
    refused = post_json(url, {}, sleep=sleeps.append)
    dead = post_json(f"http://127.0.0.1:{free_port()}/hook/PATHSECRET?token=SECRET", {}, attempts=1)
    bad = post_json(f"http://127.0.0.1:{endpoint.port}/hook/PATH SECRET?token=SECRET", {}, sleep=sleeps.append)

    for result in (refused, dead, bad):
        assert not result.ok and result.error
        assert "SECRET" not in result.error and "token" not in result.error
    assert endpoint.host in refused.error and endpoint.host in bad.error
    assert bad.attempts == 1 and sleeps == []  # a URL http.client rejects will not get better
    with pytest.raises(WebhookError) as raised:
        post_json("ftp://127.0.0.1/hook?token=SECRET", {})
    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize("url", ["ftp://x", "x", "", "http:///no-host", "http://127.0.0.1:notaport/hook"])
def test_a_url_that_is_not_http_raises_before_any_request(url):
    with pytest.raises(WebhookError, match="not a usable http"):
        post_json(url, {}, sleep=lambda s: pytest.fail("slept"))


def test_host_of_keeps_scheme_host_and_port_only():
    assert host_of("https://user:pw@hooks.example.com:8443/services/T0/B0/XYZ?token=1#f") == \
        "https://hooks.example.com:8443"
    assert host_of("http://127.0.0.1/hook") == "http://127.0.0.1"
    assert host_of("http://[::1]:9000/hook") == "http://[::1]:9000"
