"""Where the speed layer's new cost alerts are sent besides the run log: an optional webhook
(``CLOUD_ANALYTICS_ALERT_WEBHOOK``). Its URL often carries a token, so it is treated as a
secret: built as ``EnvVar`` when it comes from the environment, never shown in the UI, and
messages name only its scheme, host and port (``lib/webhook.py``)."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from cloud_analytics.config import Settings
from cloud_analytics.lib import webhook


class AlertWebhookResource(ConfigurableResource):
    url: str = Field(default="", description="http(s) URL new alerts are POSTed to as JSON; empty: none.")
    attempts: int = Field(default=4, description="Tries per alert (retries on timeouts, 429 and 5xx).")
    timeout_s: float = Field(default=5.0, description="Seconds to wait for one answer.")

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip())

    @property
    def host(self) -> str:
        return webhook.host_of(self.url)

    def deliver(self, payloads: list[tuple[str, dict]]) -> list[webhook.Delivery]:
        """One outcome per payload; a URL that is not http(s) fails them all with its reason (the
        stream run has committed by then: a typo in a setting must not fail it)."""
        try:
            return webhook.deliver(self.url.strip(), payloads, attempts=self.attempts, timeout_s=self.timeout_s)
        except webhook.WebhookError as exc:
            return [webhook.Delivery(key, False, 0, None, str(exc)) for key, _payload in payloads]

    @classmethod
    def from_settings(cls, settings: Settings, url=None) -> "AlertWebhookResource":
        return cls(url=settings.alert_webhook if url is None else url, attempts=settings.alert_webhook_attempts)
