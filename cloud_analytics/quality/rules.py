"""The rule catalog: every data-quality rule of the silver layer, as data.

``RULES`` is the single ordered list (per table, order = evaluation order); ``rules_for``
selects a table's rules and ``catalog_rows`` renders the catalog for docs, metadata and a
Delta table. Adding a rule is appending a ``Rule`` to a table's list; the engine needs no
change.
"""

from __future__ import annotations

from cloud_analytics.bronze.specs import CSV_SOURCES, USAGE_EVENTS
from cloud_analytics.quality import rules_events, rules_tables
from cloud_analytics.quality.common import LOOKUPS
from cloud_analytics.quality.model import DEFAULT_POLICY, Lookup, Policy, Rule


def all_rules(policy: Policy = DEFAULT_POLICY) -> list[Rule]:
    """Every rule under ``policy`` (only EV-05 depends on it)."""
    return rules_tables.RULES + rules_events.rules(policy)


# The catalog under the default policy: what the docs and the rules table show.
RULES: list[Rule] = all_rules()

# The column whose value is a row's partition (day, snapshot day or invoice month).
PARTITION_COLUMNS: dict[str, str] = {
    spec.name: spec.partition_column for spec in (*(source.spec for source in CSV_SOURCES), USAGE_EVENTS)
}
TABLES: tuple[str, ...] = tuple(PARTITION_COLUMNS)

CATALOG_SCHEMA = (
    "rule_id string, table string, description string, severity string, action string, "
    "rationale string, position int"
)


def rules_for(table: str, policy: Policy = DEFAULT_POLICY) -> list[Rule]:
    """The rules of ``table`` in evaluation order (an unknown table is an error, not [])."""
    if table not in PARTITION_COLUMNS:
        raise KeyError(f"no data-quality rules for table {table!r}; known: {', '.join(TABLES)}")
    return [rule for rule in (RULES if policy == DEFAULT_POLICY else all_rules(policy)) if rule.table == table]


def lookups_for(table: str) -> list[Lookup]:
    """The reference lookups the rules of ``table`` need, in first-needed order."""
    names = dict.fromkeys(name for rule in rules_for(table) for name in rule.needs)
    return [LOOKUPS[name] for name in names]


def refs_for(table: str) -> list[str]:
    """The ``refs`` keys ``evaluate`` needs for ``table`` (e.g. ["orgs", "resources"])."""
    return list(dict.fromkeys(lookup.ref for lookup in lookups_for(table)))


def catalog_rows() -> list[tuple]:
    """One tuple per (rule, table), matching ``CATALOG_SCHEMA``."""
    rows = []
    for table in TABLES:
        for position, rule in enumerate(rules_for(table)):
            rows.append((rule.id, rule.table, rule.description, rule.severity, rule.action,
                         rule.rationale, position))
    return rows


def _check_unique() -> None:
    seen = set()
    for rule in RULES:
        if (rule.table, rule.id) in seen:
            raise ValueError(f"rule {rule.id} defined twice for {rule.table}")
        seen.add((rule.table, rule.id))


_check_unique()
