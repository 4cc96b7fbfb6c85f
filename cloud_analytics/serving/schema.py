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


def create_schema(session) -> list[str]:
    """Create every serving table (IF NOT EXISTS) in the session's keyspace; returns their names."""
    created = []
    for statement in statements("schema"):
        session.execute(statement)
        created.append(statement.split("EXISTS", 1)[1].split("(", 1)[0].strip())
    return created
