"""Delivering the speed layer's cost alerts to a webhook (stdlib only).

An alert nobody receives is worth nothing, so delivery retries: a network blip, a timeout,
a 429 or a 5xx costs a short exponential backoff, not an alert. A 4xx other than 429 is not
retried: a wrong URL or a refused payload will not get better by asking again.

An alert must not be sent twice either. The caller records the keys it delivered and skips
them on the next run; the ``Idempotency-Key`` header covers the one gap that leaves (a crash
after the POST and before the record), so the receiver can drop the duplicate.

Delivery failures are returned, never raised: one dead endpoint must not fail the pipeline run.
Messages name only ``scheme://host:port``, since a webhook's path or query often is its token.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

MAX_WAIT_S = 30.0


class WebhookError(RuntimeError):
    """The webhook URL cannot be used at all (not http(s)); the message names its host."""


@dataclass(frozen=True)
class Delivery:
    key: str  # the alert id
    ok: bool
    attempts: int
    status: int | None  # the last HTTP status, None when no response came
    error: str  # empty when ok


def host_of(url: str) -> str:
    """``scheme://host[:port]``: what a message may show of a webhook URL."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would replay a redirected POST as a body-less GET and report its 200 as delivered.
    def redirect_request(self, *args, **kwargs):
        return None


def _redact(text: str, url: str) -> str:
    # An exception's text may quote the URL (http.client's InvalidURL does): hide path and query.
    parts = urllib.parse.urlsplit(url)
    for secret in sorted({url, parts.path, parts.query, parts.fragment}, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "…")
    return text


def _retry_after(headers) -> float | None:
    try:
        return min(max(float(headers.get("Retry-After", "")), 0.0), MAX_WAIT_S)
    except (TypeError, ValueError):  # absent, or an HTTP date: use the backoff instead
        return None


def post_json(url: str, payload: dict, *, attempts: int = 4, timeout_s: float = 5.0, backoff_s: float = 0.5,
              key: str = "", sleep=time.sleep) -> Delivery:
    """POST ``payload`` as JSON; retry transient failures. Raises only for a non-http(s) URL."""
    host = host_of(url)
    parts = urllib.parse.urlsplit(url)
    try:
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a malformed port: as unusable as a wrong scheme
        usable = False
    if not usable:
        raise WebhookError(f"webhook {host}: not a usable http(s) URL")
    headers = {"Content-Type": "application/json", "User-Agent": "cloud-analytics-alerts"}
    if key:
        headers["Idempotency-Key"] = key
    body = json.dumps(payload, default=str).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    status, error, attempts = None, "", max(attempts, 1)
    for attempt in range(1, attempts + 1):
        wait = None
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with opener.open(request, timeout=timeout_s) as response:
                status = response.status
            return Delivery(key, True, attempt, status, "")
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            wait = _retry_after(exc.headers) if exc.code in (429, 503) else None
            exc.close()
            if exc.code != 429 and exc.code < 500:
                return Delivery(key, False, attempt, status, f"webhook {host}: {error}")
        except (ValueError, http.client.InvalidURL) as exc:  # a URL http.client rejects: final
            error = f"{type(exc).__name__}: {_redact(str(exc), url)}"
            return Delivery(key, False, attempt, None, f"webhook {host}: {error}")
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, DNS, timeout
            status, error = None, f"{type(exc).__name__}: {_redact(str(getattr(exc, 'reason', exc)), url)}"
        if attempt < attempts:
            sleep(wait if wait is not None else min(backoff_s * 2 ** (attempt - 1), MAX_WAIT_S))
    return Delivery(key, False, attempts, status, f"webhook {host}: {error} (after {attempts} attempts)")


def deliver(url: str, payloads: list[tuple[str, dict]], *, attempts: int = 4, timeout_s: float = 5.0,
            backoff_s: float = 0.5, sleep=time.sleep) -> list[Delivery]:
    """Post each ``(key, payload)`` in order; stop at the first endpoint failure."""
    results: list[Delivery] = []
    for i, (key, payload) in enumerate(payloads):
        result = post_json(url, payload, attempts=attempts, timeout_s=timeout_s, backoff_s=backoff_s,
                           key=key, sleep=sleep)
        results.append(result)
        # Unreachable, 5xx or still throttling after a full retry cycle: the next alert would only
        # wait out the same cycle. A payload-specific 4xx says nothing about the next payload.
        if not result.ok and (result.status is None or result.status >= 500 or result.status == 429):
            skipped = f"not attempted: {host_of(url)} failing"
            results += [Delivery(k, False, 0, None, skipped) for k, _ in payloads[i + 1:]]
            break
    return results
