"""The catalog is data: ids, actions and metadata as the issue specifies (no Spark needed)."""

from __future__ import annotations

import pytest

from cloud_analytics.quality.model import FIX_AND_FLAG, Rule
from cloud_analytics.quality.rules import RULES, TABLES, catalog_rows, refs_for, rules_for

EXPECTED_ACTIONS = {
    "RI-01": "quarantine", "RI-02": "quarantine", "EV-01": "quarantine", "EV-02": "quarantine",
    "EV-03": "fix_and_flag", "EV-04": "quarantine", "EV-05": "quarantine", "EV-06": "flag", "EV-07": "quarantine",
    "EV-08": "quarantine", "EV-09": "flag", "US-01": "flag",
    "BI-01": "flag", "BI-02": "fix_and_flag", "BI-03": "fix_and_flag", "TK-01": "quarantine", "TK-02": "flag",
    "TK-03": "flag", "DOM-01": "flag", "DOM-02": "quarantine", "TI-01": "flag", "CAST-01": "quarantine",
}


def test_every_specified_rule_exists_with_its_action():
    actions = {}
    for rule in RULES:
        actions.setdefault(rule.id, set()).add(rule.action)
    for rule_id, action in EXPECTED_ACTIONS.items():
        assert actions.get(rule_id) == {action}, rule_id


def test_ri01_applies_to_every_table_with_an_org_id_but_the_orgs_themselves():
    assert sorted(r.table for r in RULES if r.id == "RI-01") == sorted(set(TABLES) - {"customers_orgs"})
    assert {r.table for r in RULES if r.id == "CAST-01"} == set(TABLES)


def test_rules_carry_their_metadata():
    for rule in RULES:
        assert rule.description and rule.rationale and rule.severity in ("error", "warning", "info")
    assert len(catalog_rows()) == len(RULES)


def test_rule_order_is_evaluation_order():
    assert [r.id for r in rules_for("usage_events")][:5] == ["EV-01", "EV-07", "EV-02", "EV-04", "CAST-01"]


def test_refs_needed_per_table():
    assert refs_for("usage_events") == ["orgs", "resources"]
    assert refs_for("customers_orgs") == []
    assert refs_for("billing_monthly") == ["orgs"]


def test_a_fix_rule_must_say_what_it_fixes():
    with pytest.raises(ValueError, match="fixes"):
        Rule("X-01", "users", "d", "info", FIX_AND_FLAG, "r", condition=lambda: None)
    with pytest.raises(ValueError, match="unknown action"):
        Rule("X-02", "users", "d", "info", "drop", "r", condition=lambda: None)
