"""Dagster-free checks several tables declare in their specs (``TableSpec.checks``), each one
aggregation over the rows the check is given (``CheckInput.written``), optionally narrowed to
the run's own rows (``params["stream_run"]``)."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from cloud_analytics.lib.spec import Check, CheckInput, Outcome


def blank(col: Column | str) -> Column:
    """True when the value is null or only whitespace (an empty CSV/JSON field)."""
    c = F.col(col) if isinstance(col, str) else col
    return c.isNull() | (F.trim(c.cast("string")) == "")


def reason_present(*columns: str) -> Check:
    """Every row says what it is and why it is here: ``columns`` never null or blank."""
    def evaluate(given: CheckInput) -> Outcome:
        row = given.written.agg(F.count(F.lit(1)).alias("rows"), *[
            F.count_if(blank(c)).alias(c) for c in columns]).first()
        missing = {c: int(row[c] or 0) for c in columns}
        return Outcome(sum(missing.values()) == 0, {"rows": int(row["rows"]), **{f"rows_without_{c}": n
                                                                                 for c, n in missing.items()}})

    return Check("reason_present", f"every row has its {', '.join(columns)} (never null or blank)", evaluate,
                 blocking=True)


def key_unique(*key: str, severity: str = "ERROR") -> Check:
    """No two rows share ``key`` (over the whole table)."""
    def evaluate(given: CheckInput) -> Outcome:
        row = given.written.agg(F.count(F.lit(1)).alias("rows"),
                                F.count_distinct(F.struct(*key)).alias("keys")).first()
        rows, keys = int(row["rows"]), int(row["keys"])
        return Outcome(rows == keys, {"rows": rows, "distinct_keys": keys, "extra_rows": rows - keys})

    return Check("key_unique", f"({', '.join(key)}) unique across the table", evaluate, severity=severity)
