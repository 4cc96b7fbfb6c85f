"""Partition windows as inclusive UTC days, the predicates that select them, and event-time
helpers the stream layers share."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def day_window(context) -> tuple[date, date]:
    """The run's partition window as inclusive days (a range run covers several partitions)."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def days_in(start: date, end: date) -> list[date]:
    """Every day of the inclusive window, in order."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def date_window_predicate(column: str, start: date, end: date) -> str:
    """A replaceWhere / filter predicate covering the inclusive day window."""
    return f"{column} >= DATE'{start.isoformat()}' AND {column} <= DATE'{end.isoformat()}'"


def dates_predicate(column: str, dates) -> str:
    """A filter predicate selecting exactly the given days (a set that need not be a window)."""
    listed = ", ".join(f"DATE'{d.isoformat()}'" for d in sorted(dates))
    return f"{column} IN ({listed})"


def newest(*times: datetime | None) -> datetime | None:
    """The latest of the given event times, ignoring the unknown ones (None if all are)."""
    return max((t for t in times if t is not None), default=None)
