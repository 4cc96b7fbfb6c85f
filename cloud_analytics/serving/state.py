"""``serving_state``: what each serving table holds, and the batch layer's serving watermark.

The batch loads record their newest date and the watermark ``batch_covered_until`` (the last
date the batch layer has loaded); the speed layer reads the watermark to write only later
dates (``speed/serving.py``).
"""

from __future__ import annotations

from datetime import date

from cloud_analytics.serving.queries import as_date


def batch_covered_until(session, table: str) -> date | None:
    """The serving watermark: the last date the batch layer has loaded into ``table``."""
    row = session.execute(session.prepare("SELECT batch_covered_until FROM serving_state WHERE table_name = ?"),
                          (table,)).one()
    return as_date(row.batch_covered_until) if row and row.batch_covered_until is not None else None


def update_state(session, table: str, newest: date | None, covered_until: date) -> None:
    """Record the newest batch date and the serving watermark; a backfill of older days never
    moves the watermark back (the speed layer would then rewrite dates the batch owns)."""
    covered_until = max(d for d in (covered_until, batch_covered_until(session, table)) if d is not None)
    session.execute(session.prepare(
        "UPDATE serving_state SET max_date = ?, batch_covered_until = ?, loaded_at = toTimestamp(now()) "
        "WHERE table_name = ?"), (newest, covered_until, table))
