"""What a data-quality rule is: data (id, table, severity, action, rationale) plus a Column.

A rule's ``condition`` builds a boolean Column that is true on a failing row; the engine
evaluates every rule of a table in one projection and never branches on a rule id. Rules
that compare against other tables declare the lookups they need (``needs``); the engine joins
those once per evaluation and exposes them as ``_ref_*`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import Column

QUARANTINE = "quarantine"
FLAG = "flag"
FIX_AND_FLAG = "fix_and_flag"
ACTIONS = (QUARANTINE, FLAG, FIX_AND_FLAG)
SEVERITIES = ("error", "warning", "info")

ColumnFn = Callable[[], Column]


@dataclass(frozen=True)
class Rule:
    """One data-quality rule applied to one table.

    ``reason`` (optional) builds the quarantine reason text for a failing row, naming the
    offending values; without it the description is the reason. ``fixes`` are
    (column, expression) pairs applied to the failing kept rows of a fix_and_flag rule,
    computed from the row as it was read (before any other fix).
    """

    id: str
    table: str
    description: str
    severity: str
    action: str
    rationale: str
    condition: ColumnFn = field(repr=False, compare=False)
    reason: ColumnFn | None = field(default=None, repr=False, compare=False)
    fixes: tuple[tuple[str, ColumnFn], ...] = field(default=(), repr=False, compare=False)
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"rule {self.id}: unknown action {self.action!r} (one of {ACTIONS})")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: unknown severity {self.severity!r} (one of {SEVERITIES})")
        if (self.action == FIX_AND_FLAG) != bool(self.fixes):
            raise ValueError(f"rule {self.id}: fixes are required for, and only for, {FIX_AND_FLAG}")


@dataclass(frozen=True)
class Policy:
    """The rule choices a deployment makes, from settings (via the quality resource).

    ``min_cost_increment``: the lowest ``cost_usd_increment`` a usage event may carry (EV-05;
    the specification's business rule is ``>= -0.01``, rounding noise above it). Events below
    it are quarantined, unless ``negative_costs`` is ``flag``: teams that book such rows as
    credits keep them, flagged, in every mart.
    """

    min_cost_increment: float = -0.01
    negative_costs: str = QUARANTINE

    def __post_init__(self) -> None:
        if self.negative_costs not in (QUARANTINE, FLAG):
            raise ValueError(f"negative_costs must be {QUARANTINE!r} or {FLAG!r}, got {self.negative_costs!r}")

    @classmethod
    def of(cls, settings) -> "Policy":
        """The policy of anything carrying the two settings (Settings, the quality resource)."""
        return cls(min_cost_increment=settings.min_cost_increment, negative_costs=settings.negative_costs)

    @property
    def quarantines_negative_costs(self) -> bool:
        return self.negative_costs == QUARANTINE


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Lookup:
    """A reference frame joined to the evaluated rows by key (left join, one row per key).

    ``columns`` maps the exposed column name to the reference column; ``found`` is a column
    that is true when the key matched and null when it did not.
    """

    name: str
    ref: str  # key of the ``refs`` mapping given to ``evaluate``
    keys: tuple[str, ...]
    columns: dict[str, str]
    found: str
