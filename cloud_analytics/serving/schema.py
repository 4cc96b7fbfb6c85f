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


class SchemaPermissionError(RuntimeError):
    """The role may not create or alter a serving table; the message names the keyspace and the
    grants that fix it."""


# What the platform's role needs on the serving keyspace: all of it while the schema is behind
# the code (tables to create, columns to add), the last two once it is current.
GRANTS, CURRENT_GRANTS = "CREATE, ALTER, SELECT and MODIFY", "SELECT and MODIFY"

# Columns added after a table was first released: (table, column, CQL type). A keyspace
# created by an older version gets them by ALTER TABLE; new keyspaces have them already.
ADDED_COLUMNS = [("serving_state", "speed_max_date", "date"), ("customer_health_by_org", "active_resources", "int")]


def create_schema(session) -> list[str]:
    """Create the serving tables missing from the session's keyspace (IF NOT EXISTS), add columns
    newer than the keyspace; returns the table names.

    What exists is read from ``system_schema`` (any role may), and only what is missing is
    created or altered: Cassandra checks the CREATE permission even for a table that exists, so
    a role needs CREATE and ALTER on the keyspace only while the schema is behind the code
    (SELECT and MODIFY otherwise), and a current schema costs one read, not one DDL per table.
    A statement the role may not run raises SchemaPermissionError naming the grants it needs."""
    from cassandra import Unauthorized

    existing = {row[0] for row in session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (session.keyspace,))}
    tables = []
    try:
        for statement in statements("schema"):
            table = statement.split("EXISTS", 1)[1].split("(", 1)[0].strip()
            if table not in existing:
                session.execute(statement)
            tables.append(table)
        for table, column, cql_type in ADDED_COLUMNS:
            present = session.execute(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s "
                "AND column_name = %s", (session.keyspace, table, column)).one()
            if present is None:
                session.execute(f"ALTER TABLE {table} ADD {column} {cql_type}")
    except Unauthorized as exc:
        raise SchemaPermissionError(
            f"The Cassandra role may not create or alter the serving tables in keyspace {session.keyspace} ({exc}). "
            "Grant it " + GRANTS + f" on the keyspace (GRANT <permission> ON KEYSPACE {session.keyspace} TO <role>, "
            "one statement per permission), or have an administrator create the tables (cloud_analytics/serving/"
            "cql/schema.cql): with the schema current, " + CURRENT_GRANTS + " suffice.") from None
    return tables
