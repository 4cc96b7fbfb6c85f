"""What each named job reads from the landing folder, fingerprinted (``landing.fingerprints``).

Every run ``make run`` launches carries the fingerprints of its job's input in the run tag
``cloud_analytics/input_fingerprints``; a later plan compares them with the landing folder
(``runner.skip_unchanged``) and skips what would be rebuilt from the same content. Scopes:
a billing month (``YYYY-MM-01``) for the monthly job, ``*`` (the whole input) for the others.
The usage refresh has no entry: its input is the dates stream runs touched, which the planner
already tracks.
"""

from __future__ import annotations

import json
from pathlib import Path

from cloud_analytics.bronze.specs import CSV_SOURCES, EVENTS_DIR
from cloud_analytics.landing.fingerprints import (
    INVALID,
    file_fingerprint,
    files_fingerprint,
    listing_fingerprint,
    month_fingerprints,
)
from cloud_analytics.orchestration.jobs import BILLING_JOB, HEALTH_JOB, SNAPSHOT_JOB, STREAM_JOB, TICKETS_JOB

TAG = "cloud_analytics/input_fingerprints"
WHOLE = "*"
_BY_NAME = {source.name: source for source in CSV_SOURCES}
_SNAPSHOTS = [source for source in CSV_SOURCES if source.partitioning == "snapshot"]
_BILLING = _BY_NAME["billing_monthly"]


def _files(landing: Path, names: list[str]) -> list[Path]:
    return [landing / _BY_NAME[name].file_name for name in names]


def fingerprints(job: str, landing: Path) -> dict[str, str]:
    """``{scope: fingerprint}`` of the job's landed input; ``{}`` for a job without one."""
    landing = Path(landing)
    if job == BILLING_JOB:
        months = month_fingerprints(landing / _BILLING.file_name, _BILLING.partitioning)
        # Lines without a usable month are rejected on every run: a change there redoes every month.
        invalid = months.pop(INVALID, "")
        return {month: f"{fingerprint}{invalid[:4]}" for month, fingerprint in months.items()}
    snapshots = [landing / source.file_name for source in _SNAPSHOTS]
    if job == SNAPSHOT_JOB:
        return {WHOLE: files_fingerprint(snapshots)}
    if job == TICKETS_JOB:
        return {WHOLE: file_fingerprint(landing / _BY_NAME["support_tickets"].file_name)}
    if job == STREAM_JOB:
        return {WHOLE: listing_fingerprint(landing / EVENTS_DIR)}
    if job == HEALTH_JOB:  # customer 360 reads every source
        return {WHOLE: files_fingerprint([*snapshots, landing / _BILLING.file_name])
                + listing_fingerprint(landing / EVENTS_DIR)}
    return {}


def scope(job: str, partition: str | None) -> str:
    """The scope of ``fingerprints`` a partition of the job is built from."""
    return partition if job == BILLING_JOB and partition else WHOLE


def render(values: dict[str, str]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def parse(tag: str) -> dict[str, str]:
    try:
        values = json.loads(tag) if tag else {}
    except json.JSONDecodeError:
        return {}
    return values if isinstance(values, dict) else {}
