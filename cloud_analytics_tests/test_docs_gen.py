"""The data dictionary: every silver and gold column has a declared type and a meaning, and the
declared types are exactly what the code produces (on empty frames and in the built tables)."""

from __future__ import annotations

import pytest

from cloud_analytics.docs_gen import empty_frame_schemas, render_data_dictionary
from cloud_analytics.gold.assets import declared_columns
from cloud_analytics.gold.schemas import GOLD_COLUMNS, GOLD_GRAIN, GOLD_MEANINGS, GOLD_TABLE_MEANINGS, GOLD_TYPES
from cloud_analytics.silver.schemas import (
    SILVER_COLUMNS,
    SILVER_GRAIN,
    SILVER_MEANINGS,
    SILVER_TABLE_MEANINGS,
    SILVER_TYPES,
)


def declared() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(layer, table) → [(column, declared type)] in stored column order."""
    out = {("silver", t): [(c, SILVER_TYPES[t][c]) for c in cols] for t, cols in SILVER_COLUMNS.items()}
    out.update({("gold", m): [(c, GOLD_TYPES[m][c]) for c in declared_columns(m)] for m in GOLD_COLUMNS})
    return out


def _diff(expected: list[tuple[str, str]], actual: list[tuple[str, str]]) -> str:
    lines = [f"  {c}: declared {dict(expected).get(c)!r}, actual {dict(actual).get(c)!r}"
             for c in dict.fromkeys([c for c, _ in expected] + [c for c, _ in actual])
             if dict(expected).get(c) != dict(actual).get(c)]
    order = [c for c, _ in expected] != [c for c, _ in actual]
    return "\n".join(lines + (["  column order differs"] if order else []))


def test_every_declared_column_has_a_type_and_nothing_else_does():
    for table, columns in SILVER_COLUMNS.items():
        assert list(SILVER_TYPES[table]) == columns, f"silver/{table}"
    for mart in GOLD_COLUMNS:
        assert list(GOLD_TYPES[mart]) == declared_columns(mart), f"gold/{mart}"
    assert set(SILVER_TYPES) == set(SILVER_COLUMNS) == set(SILVER_GRAIN)
    assert set(GOLD_TYPES) == set(GOLD_COLUMNS) == set(GOLD_GRAIN)


def test_every_column_has_a_one_line_meaning():
    missing = []
    for table, columns in SILVER_COLUMNS.items():
        missing += [f"silver/{table}.{c}" for c in columns
                    if not (SILVER_TABLE_MEANINGS.get(table, {}).get(c) or SILVER_MEANINGS.get(c))]
    for mart in GOLD_COLUMNS:
        missing += [f"gold/{mart}.{c}" for c in declared_columns(mart)
                    if not (GOLD_TABLE_MEANINGS.get(mart, {}).get(c) or GOLD_MEANINGS.get(c) or SILVER_MEANINGS.get(c))]
    assert missing == []
    every = [*SILVER_MEANINGS.values(), *GOLD_MEANINGS.values(),
             *[m for t in (*SILVER_TABLE_MEANINGS.values(), *GOLD_TABLE_MEANINGS.values()) for m in t.values()]]
    assert all("\n" not in m and m.strip() for m in every)
    # Overrides only for columns the table has (a typo would silently never render).
    for table, overrides in SILVER_TABLE_MEANINGS.items():
        assert set(overrides) <= set(SILVER_COLUMNS[table]), table
    for mart, overrides in GOLD_TABLE_MEANINGS.items():
        assert set(overrides) <= set(declared_columns(mart)), mart


def test_dictionary_lists_every_silver_and_gold_column_with_its_type():
    text = render_data_dictionary()
    for (layer, table), columns in declared().items():
        section = text.split(f"\n### {layer}/{table}\n", 1)[1].split("\n### ", 1)[0]
        assert "- Grain: " in section and "- Key: " in section and "- Partitioning: " in section, table
        for column, dtype in columns:
            assert f"| `{column}` | {dtype} | " in section, f"{layer}/{table}.{column}"


def test_rendering_is_deterministic():
    assert render_data_dictionary() == render_data_dictionary()


def test_declared_types_are_what_the_transforms_produce(spark):
    """Every silver and gold transform run on EMPTY frames of the bronze schemas (analysis only)."""
    actual = empty_frame_schemas(spark)
    expected = declared()
    assert set(actual) == set(expected)
    drift = {f"{layer}/{table}": _diff(expected[(layer, table)], actual[(layer, table)])
             for layer, table in expected if expected[(layer, table)] != actual[(layer, table)]}
    assert not drift, "declared types differ from the transforms' output:\n" + "\n".join(
        f"{name}:\n{text}" for name, text in drift.items())


@pytest.mark.parametrize("layer", ["silver", "gold"])
def test_materialized_tables_have_the_declared_types(layer, request, spark, settings):
    """The Delta tables the pipeline wrote (generated data, scale 1) read back with the declared types."""
    # The pipeline's stream step also runs the speed layer, which writes to Cassandra.
    request.getfixturevalue("cassandra_node")
    request.getfixturevalue("gold_run" if layer == "gold" else "silver_run")
    drift = {}
    for (table_layer, table), expected in declared().items():
        if table_layer != layer:
            continue
        schema = spark.read.format("delta").load(settings.layer_path(layer, table)).schema
        actual = [(f.name, f.dataType.simpleString()) for f in schema.fields]
        # Delta stores partition columns like any other; the stored order is the written order.
        if actual != expected:
            drift[table] = _diff(expected, actual)
    assert not drift, f"{layer} tables differ from the declared types:\n" + "\n".join(
        f"{name}:\n{text}" for name, text in drift.items())
