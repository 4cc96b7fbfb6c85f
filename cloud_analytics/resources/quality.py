"""Data-quality settings the silver assets need, carried by a resource (never read from the
environment inside a layer): the PII pepper (a secret: built as ``EnvVar`` when it comes from
the environment) and the quarantine-rate limit of the WARN check."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field


class QualityResource(ConfigurableResource):
    pii_pepper: str = Field(default="", description="HMAC key for email pseudonymization; EnvVar only.")
    max_quarantine_rate: float = Field(default=0.05, description="WARN when a window quarantines more.")
