"""The serving schema as code: CQL files shipped in the package, applied idempotently."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def cql(name: str) -> str:
    """The text of ``cql/<name>.cql`` without comment lines."""
    text = resources.files("cloud_analytics.serving").joinpath("cql", f"{name}.cql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def statements(name: str) -> list[str]:
    return [s.strip() for s in cql(name).split(";") if s.strip()]


# Columns added after a table was first released: (table, column, CQL type). A keyspace
# created by an older version gets them by ALTER TABLE; new keyspaces have them already.
ADDED_COLUMNS = [("serving_state", "speed_max_date", "date")]


def create_schema(session) -> list[str]:
    """Create every serving table (IF NOT EXISTS) in the session's keyspace, add columns
    newer than the keyspace; returns the table names."""
    created = []
    for statement in statements("schema"):
        session.execute(statement)
        created.append(statement.split("EXISTS", 1)[1].split("(", 1)[0].strip())
    for table, column, cql_type in ADDED_COLUMNS:
        present = session.execute(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s "
            "AND column_name = %s", (session.keyspace, table, column)).one()
        if present is None:
            session.execute(f"ALTER TABLE {table} ADD {column} {cql_type}")
    return created
