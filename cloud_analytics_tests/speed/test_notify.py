"""New alerts reach someone exactly once: the run's alerts are found in the lake, POSTed to a real
HTTP server on 127.0.0.1, recorded, never sent again, and retried by a later run when the
endpoint was down."""

from datetime import date, datetime

import pytest

from cloud_analytics.resources.alerts import AlertWebhookResource
from cloud_analytics.speed import notify
from cloud_analytics.speed.stream import ALERT_SCHEMA
from cloud_analytics_tests.endpoint import endpoint  # noqa: F401 (a fixture)


def _alert(n: int, stream_run: str, batch_id: int, org="org_a"):
    ts = datetime(2025, 9, 1, 12, n)
    return (f"cost:evt_{n}", org, f"evt_{n}", ts, ts.date(), "compute", "res_1", 50.0 + n, 1.0, "org_service",
            9.5, 3.5, f"cost {50 + n:.2f} USD is 9.5 robust-z above the org_service median", "enterprise",
            "Fintech", "eu-west", "running", stream_run, batch_id, ts.date())


@pytest.fixture
def lake(spark, tmp_path):
    alerts, ledger = str(tmp_path / "usage_alerts"), str(tmp_path / "_alert_deliveries")

    def add(*rows):
        spark.createDataFrame(list(rows), ALERT_SCHEMA).write.format("delta").mode("append").save(alerts)
    return alerts, ledger, add


def _notify(spark, sink, lake, stream_run, batch_ids):
    alerts, ledger, _add = lake
    new = notify.run_alerts(spark, alerts, stream_run, batch_ids)
    return new, notify.notify_webhook(spark, sink, alerts, ledger, new, stream_run, log=lambda _m: None)


def test_each_alert_is_posted_once_with_its_org_service_and_reason(spark, lake, endpoint):  # noqa: F811
    _alerts, _ledger, add = lake
    add(_alert(1, "run_0", 7))  # raised before the webhook was configured: never sent
    add(_alert(2, "run_1", 8), _alert(3, "run_1", 8, org="org_b"))
    sink = AlertWebhookResource(url=endpoint.url + "?token=secret")
    new, outcome = _notify(spark, sink, lake, "run_1", [8])
    assert [a["alert_id"] for a in new] == ["cost:evt_2", "cost:evt_3"]
    assert outcome == {"delivered": 2, "failed": 0}
    bodies = [r["body"] for r in endpoint.requests]
    assert [(b["alert_id"], b["org_id"], b["service"]) for b in bodies] == [
        ("cost:evt_2", "org_a", "compute"), ("cost:evt_3", "org_b", "compute")]
    assert bodies[0]["reason"].startswith("cost 52.00 USD") and bodies[0]["event_date"] == "2025-09-01"
    assert [r["headers"]["Idempotency-Key"] for r in endpoint.requests] == ["cost:evt_2", "cost:evt_3"]
    assert "ALERT org_a compute" in notify.describe(new[0]) and new[0]["reason"] in notify.describe(new[0])

    # The same run again (a retried run, a replayed batch): nothing is sent twice.
    _new, again = _notify(spark, sink, lake, "run_1", [8])
    assert again == {"delivered": 0, "failed": 0} and len(endpoint.requests) == 2


def test_an_alert_the_endpoint_missed_is_delivered_by_the_next_run(spark, lake, endpoint):  # noqa: F811
    _alerts, ledger, add = lake
    add(_alert(4, "run_2", 9))
    endpoint.script = [503]
    sink = AlertWebhookResource(url=endpoint.url, attempts=2, timeout_s=2.0)
    _new, down = _notify(spark, sink, lake, "run_2", [9])
    assert down == {"delivered": 0, "failed": 1} and len(endpoint.requests) == 2  # one alert, two tries
    recorded = spark.read.format("delta").load(ledger).collect()
    assert [(r.alert_id, r.ok, r.attempts, r.status) for r in recorded] == [("cost:evt_4", False, 2, 503)]

    endpoint.script = [200]
    new, up = _notify(spark, sink, lake, "run_3", [10])  # a later run that raised no alert itself
    assert new == [] and up == {"delivered": 1, "failed": 0}
    assert endpoint.requests[-1]["body"]["alert_id"] == "cost:evt_4"
    _new, idle = _notify(spark, sink, lake, "run_4", [11])
    assert idle == {"delivered": 0, "failed": 0} and len(endpoint.requests) == 3
    assert date(2025, 9, 1) == date.fromisoformat(endpoint.requests[-1]["body"]["event_date"])


def test_a_refused_alert_is_not_sent_again_and_a_bad_url_fails_deliveries_not_the_run(spark, lake, endpoint):  # noqa: F811
    _alerts, ledger, add = lake
    add(_alert(5, "run_5", 12))
    endpoint.script = [400]
    sink = AlertWebhookResource(url=endpoint.url)
    assert _notify(spark, sink, lake, "run_5", [12])[1] == {"delivered": 0, "failed": 1}
    endpoint.script = [200]
    assert _notify(spark, sink, lake, "run_6", [13])[1] == {"delivered": 0, "failed": 0}  # refused: final
    assert len(endpoint.requests) == 1

    add(_alert(6, "run_7", 14))
    bad = AlertWebhookResource(url="ftp://alerts.example/hook")
    new, outcome = _notify(spark, bad, lake, "run_7", [14])
    assert outcome == {"delivered": 0, "failed": 1}
    recorded = spark.read.format("delta").load(ledger).filter("alert_id = 'cost:evt_6'").collect()
    assert [(r.ok, r.attempts) for r in recorded] == [(False, 0)] and "ftp://alerts.example" in recorded[0].error
    # Fixed later: the alert that could not be sent then is delivered by the next run.
    assert _notify(spark, sink, lake, "run_8", [15])[1] == {"delivered": 1, "failed": 0}
