"""The landed file layout and atomic writing.

Every file is written to ``.<name>.tmp`` in its own folder, then renamed with
``os.replace``, so a reader of the landing folder never sees a half-written file.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

EXPECTED_FILES = (
    "customers_orgs.csv",
    "users.csv",
    "resources.csv",
    "billing_monthly.csv",
    "support_tickets.csv",
    "marketing_touches.csv",
    "nps_surveys.csv",
)
EVENTS_DIR = "usage_events_stream"

COLUMNS = {
    "customers_orgs": ("org_id", "org_name", "industry", "hq_region", "plan_tier", "is_enterprise",
                       "signup_date", "sales_rep", "lifecycle_stage", "marketing_source", "nps_score"),
    "users": ("user_id", "org_id", "email", "role", "active", "created_at", "last_login"),
    "resources": ("resource_id", "org_id", "service", "region", "created_at", "state", "tags_json"),
    "billing_monthly": ("invoice_id", "org_id", "month", "subtotal", "credits", "taxes", "currency",
                        "exchange_rate_to_usd"),
    "support_tickets": ("ticket_id", "org_id", "category", "severity", "created_at", "resolved_at",
                        "csat", "sla_breached"),
    "marketing_touches": ("touch_id", "org_id", "campaign", "channel", "timestamp", "clicked",
                          "converted"),
    "nps_surveys": ("org_id", "survey_date", "nps_score", "comment"),
}


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    tmp = _temp_path(path)
    try:
        # newline="": the lines already end in "\n"; no platform translation.
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class CsvSinks:
    """The seven CSV files, appended block by block to temp files and renamed on success.

    Rows hold Python values and ``csv`` writes ``str()`` of each (``None`` as an empty
    cell, booleans as ``True``/``False``, dates as ISO). On an exception no CSV is renamed
    into place and the temp files are removed."""

    def __init__(self, out: Path):
        self._out = out
        self._files: dict[str, object] = {}
        self._writers: dict[str, object] = {}

    def __enter__(self) -> CsvSinks:
        for stem, columns in COLUMNS.items():
            f = open(_temp_path(self._out / f"{stem}.csv"), "w", encoding="utf-8", newline="")
            self._files[stem] = f
            self._writers[stem] = csv.writer(f, lineterminator="\n")
            self._writers[stem].writerow(columns)
        return self

    def write(self, stem: str, rows: list[list]) -> None:
        self._writers[stem].writerows(rows)

    def __exit__(self, exc_type, exc, tb) -> None:
        for f in self._files.values():
            f.close()
        for stem in self._files:
            tmp, final = _temp_path(self._out / f"{stem}.csv"), self._out / f"{stem}.csv"
            if exc_type is None:
                os.replace(tmp, final)
            else:
                tmp.unlink(missing_ok=True)
