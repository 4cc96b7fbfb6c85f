"""Data-quality settings the silver and speed assets need, carried by a resource (never read
from the environment inside a layer): the PII pepper (a secret: built as ``EnvVar`` when it comes
from the environment), the quarantine-rate limit of the WARN check and the rule policy (EV-05's
threshold and action)."""

from __future__ import annotations

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field


class QualityResource(ConfigurableResource):
    pii_pepper: str = Field(default="", description="HMAC key for email pseudonymization; EnvVar only.")
    max_quarantine_rate: float = Field(default=0.05, description="WARN when a window quarantines more.")
    min_cost_increment: float = Field(
        default=-0.01, description="EV-05: usage events with a lower cost_usd_increment are below the minimum.")
    negative_costs: Literal["quarantine", "flag"] = Field(
        default="quarantine", description="EV-05's action: quarantine (the specification) or flag (book as credits).")
