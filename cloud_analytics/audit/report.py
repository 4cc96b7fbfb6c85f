"""The audit's report: the laws (in the order they were checked), the count table, the serving
comparison, and its two renderings (plain text for people, JSON for tools)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

STAGES = ("landing", "bronze", "rejects", "duplicates", "quarantine", "silver", "gold", "cassandra")
NOTHING_TO_AUDIT = "nothing to audit: run the pipeline first"


@dataclass
class Law:
    name: str
    ok: bool
    detail: str


def missing(name: str, table: str) -> Law:
    """The law ``name`` cannot be evaluated: ``table`` was never built (tests match this text)."""
    return Law(name, False, f"{table} does not exist: run the pipeline")


@dataclass
class ServingFigures:
    """One serving table: gold's side and Cassandra's (batch rows; speed rows apart)."""

    table: str
    mart: str
    total_column: str | None
    gold_rows: int | None = None
    gold_total: Any = None
    cassandra_rows: int | None = None
    cassandra_total: Any = None
    speed_rows: int = 0
    speed_total: Any = None
    extras: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # column -> (gold, cassandra)
    missing: str | None = None  # why one side could not be read


@dataclass
class AuditReport:
    laws: list[Law]
    counts: dict[str, dict[str, int | None]] = field(default_factory=dict)
    windows: dict[str, str] = field(default_factory=dict)
    quarantine_rules: dict[str, dict[str, int]] = field(default_factory=dict)
    gold: list[dict[str, Any]] = field(default_factory=list)
    serving: list[ServingFigures] = field(default_factory=list)
    speed_delta: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    lake: str = ""
    keyspace: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(law.ok for law in self.laws)

    @property
    def failures(self) -> list[Law]:
        return [law for law in self.laws if not law.ok]

    @property
    def first_failure(self) -> Law | None:
        return next((law for law in self.laws if not law.ok), None)

    def to_json(self) -> dict:
        return plain({
            "ok": self.ok,
            "lake": self.lake,
            "keyspace": self.keyspace,
            "seconds": round(self.seconds, 1),
            "first_failure": self.first_failure.name if self.first_failure else None,
            "counts": self.counts,
            "windows": self.windows,
            "quarantine_by_rule": self.quarantine_rules,
            "gold": self.gold,
            "serving": [
                {"table": s.table, "mart": s.mart, "total_column": s.total_column, "gold_rows": s.gold_rows,
                 "cassandra_rows": s.cassandra_rows, "gold_total": s.gold_total,
                 "cassandra_total": s.cassandra_total,
                 "speed_provisional": {"rows": s.speed_rows, "total": s.speed_total},
                 "extras": {k: {"gold": g, "cassandra": c} for k, (g, c) in s.extras.items()},
                 "missing": s.missing}
                for s in self.serving
            ],
            "speed_delta_tables": self.speed_delta,
            "laws": [{"name": law.name, "ok": law.ok, "detail": law.detail} for law in self.laws],
            "notes": self.notes,
        })

    def render(self) -> str:
        out: list[str] = []
        where = self.lake + (f", keyspace {self.keyspace}" if self.keyspace else ", serving skipped")
        out.append(f"audit of {where} ({self.seconds:.1f} s)")
        if not self.counts:
            out += [law.detail for law in self.failures]
            return "\n".join(out)
        out.append("")
        head = ["source", "window", *STAGES]
        rows = [[source, self.windows.get(source, ""), *[fmt(self.counts[source].get(s)) for s in STAGES]]
                for source in self.counts]
        out += _table(head, rows, {0, 1})
        fired = {t: r for t, r in self.quarantine_rules.items() if r}
        if fired:
            out.append("quarantine by rule: " + "; ".join(
                f"{t} " + ", ".join(f"{rule} {n:,}" for rule, n in sorted(r.items())) for t, r in fired.items()))
        if self.serving:
            out.append("")
            out.append("serving: Cassandra (source = batch) against gold; speed rows are provisional, not compared")
            head = ["table", "gold rows", "cassandra rows", "total of", "gold total", "cassandra total",
                    "speed (provisional)"]
            rows = [[s.table, fmt(s.gold_rows), fmt(s.cassandra_rows), s.total_column or "-", fmt(s.gold_total),
                     fmt(s.cassandra_total), f"{s.speed_rows:,} rows" + (f", {fmt(s.speed_total)}"
                                                                        if s.speed_rows else "")]
                    for s in self.serving]
            out += _table(head, rows, {0, 3})
        if self.speed_delta:
            out.append("speed (provisional) Delta tables: " + ", ".join(
                f"{t} {n:,} rows" for t, n in sorted(self.speed_delta.items())))
        out.append("")
        out.append("laws")
        for law in self.laws:
            out.append(f"  {'ok  ' if law.ok else 'FAIL'}  {law.name}: {law.detail}")
        for note in self.notes:
            out.append(f"note: {note}")
        out.append("")
        if self.ok:
            out.append(f"audit: all {len(self.laws)} laws hold")
        else:
            first = self.first_failure
            out.append(f"audit FAILED: {len(self.failures)} of {len(self.laws)} laws broken; "
                       f"first: {first.name}: {first.detail}")
        return "\n".join(out)


def plain(value):
    """JSON-ready: Decimals as exact strings, dates as ISO text, keys as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def fmt(value) -> str:
    """A figure for people: thousands separators, money to the cent when it is whole cents."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value == value.quantize(Decimal("0.01")) else f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}"
    return str(value)


def _table(head: list[str], rows: list[list[str]], left: set[int]) -> list[str]:
    """Plain-text columns: ``left`` ones left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return [line(head), line(["-" * w for w in widths]), *[line(r) for r in rows]]
