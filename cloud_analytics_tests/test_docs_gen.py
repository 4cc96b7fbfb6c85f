"""The data dictionary: every table of every layer is documented from its spec (grain, key,
partitioning, every column with its type and a one-line meaning), and the declared silver and
gold types are exactly what the code produces (on empty frames and in the built tables)."""

from __future__ import annotations

import pytest

from cloud_analytics.lib.lake import table_path
from cloud_analytics.bronze.specs import BRONZE_SPECS
from cloud_analytics.docs_gen import empty_frame_schemas, render_data_dictionary
from cloud_analytics.gold.specs import GOLD_SPECS
from cloud_analytics.serving.specs import SERVING_SPECS
from cloud_analytics.silver.specs import SILVER_SPECS
from cloud_analytics.speed.specs import SPEED_SPECS, STREAM_STATE

EVERY_SPEC = (*BRONZE_SPECS, *SILVER_SPECS, *GOLD_SPECS, *SPEED_SPECS, STREAM_STATE, *SERVING_SPECS)


def declared() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(layer, table) → [(column, declared type)] of silver and gold, in stored column order."""
    return {(spec.layer, spec.name): [(c.name, c.type) for c in spec.columns] for spec in (*SILVER_SPECS, *GOLD_SPECS)}


def _diff(expected: list[tuple[str, str]], actual: list[tuple[str, str]]) -> str:
    lines = [f"  {c}: declared {dict(expected).get(c)!r}, actual {dict(actual).get(c)!r}"
             for c in dict.fromkeys([c for c, _ in expected] + [c for c, _ in actual])
             if dict(expected).get(c) != dict(actual).get(c)]
    order = [c for c, _ in expected] != [c for c, _ in actual]
    return "\n".join(lines + (["  column order differs"] if order else []))


def test_every_column_has_a_type_and_a_one_line_meaning():
    missing = [f"{spec.path}.{c.name}" for spec in EVERY_SPEC for c in spec.columns
               if not (c.type.strip() and c.meaning.strip()) or "\n" in c.meaning]
    assert missing == []
    assert all(spec.description.strip() and spec.grain.strip() for spec in EVERY_SPEC)
    paths = [spec.path for spec in EVERY_SPEC]
    assert len(paths) == len(set(paths))


def test_dictionary_documents_every_table_and_column_with_its_type():
    text = render_data_dictionary()
    for spec in EVERY_SPEC:
        assert text.count(f"\n### {spec.path}\n") == 1, spec.path
        section = text.split(f"\n### {spec.path}\n", 1)[1].split("\n### ", 1)[0]
        assert "- Grain: " in section and "- Key: " in section and "- Partitioning: " in section, spec.path
        for column in spec.columns:
            assert f"| `{column.name}` | {column.type} | " in section, f"{spec.path}.{column.name}"
    # Hand-checked: a per-snapshot summary is keyed within its snapshot, a history is unpartitioned,
    # a serving table names its Cassandra partition key and its mart.
    user_activity = text.split("\n### gold/user_activity\n", 1)[1].split("\n### ", 1)[0]
    assert "- Key: `org_id` within a `snapshot_date`." in user_activity
    assert "Dagster `snapshot_daily` (daily, UTC, from 2025-05-01)" in user_activity
    history = text.split("\n### silver/customers_orgs_history\n", 1)[1].split("\n### ", 1)[0]
    assert "- Partitioning: Delta unpartitioned" in history
    served = text.split("\n### serving/tickets_by_day\n", 1)[1].split("\n### ", 1)[0]
    assert "Cassandra partition key `month`" in served and "`gold/tickets_by_org_date`" in served


def test_rendering_is_deterministic():
    assert render_data_dictionary() == render_data_dictionary()


def test_declared_types_are_what_the_transforms_produce(spark):
    """Every silver and gold builder run on EMPTY frames of the bronze schemas (analysis only)."""
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
        schema = spark.read.format("delta").load(table_path(str(settings.lake), layer, table)).schema
        actual = [(f.name, f.dataType.simpleString()) for f in schema.fields]
        # Delta stores partition columns like any other; the stored order is the written order.
        if actual != expected:
            drift[table] = _diff(expected, actual)
    assert not drift, f"{layer} tables differ from the declared types:\n" + "\n".join(
        f"{name}:\n{text}" for name, text in drift.items())
