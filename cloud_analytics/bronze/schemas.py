"""The landing schema of usage events: a registry keyed by ``schema_version``.

Adding version 3 is one entry in ``EVENT_SCHEMA_VERSIONS``. These are the fields of the
landed JSON lines; the stored bronze columns are the ``usage_events`` spec (``specs.py``).
"""

from __future__ import annotations

# Every field of each known schema version, in landing order. All are read as text and
# cast afterwards, so a number written as a string is parsed, not nulled.
EVENT_SCHEMA_VERSIONS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (
        ("event_id", "string"), ("timestamp", "timestamp"), ("org_id", "string"),
        ("resource_id", "string"), ("service", "string"), ("region", "string"),
        ("metric", "string"), ("value", "double"), ("unit", "string"),
        ("cost_usd_increment", "double"), ("schema_version", "int"),
    ),
}
EVENT_SCHEMA_VERSIONS[2] = EVENT_SCHEMA_VERSIONS[1] + (("carbon_kg", "double"), ("genai_tokens", "bigint"))


def event_fields() -> list[tuple[str, str]]:
    """The union of the fields of every known version, first-seen order."""
    seen: dict[str, str] = {}
    for version in sorted(EVENT_SCHEMA_VERSIONS):
        for name, dtype in EVENT_SCHEMA_VERSIONS[version]:
            seen.setdefault(name, dtype)
    return list(seen.items())
