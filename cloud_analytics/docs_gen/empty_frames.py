"""The schemas the silver and gold builders really produce, derived by running them on EMPTY
frames of the bronze specs' schemas (analysis only: nothing is read, written or executed).

The tests compare them with the declared column types of the specs, so the data dictionary
cannot document a type the code does not produce."""

from __future__ import annotations

from datetime import date

DAY = date(2025, 7, 1)  # a one-day window: builders that work per day build one
PEPPER = "0" * 32  # any key types alike


class _EmptyLake:
    """Duck-types ``lib.lake.LakeReader`` over frames built so far (a gold builder reads silver and
    gold through ``Inputs``); a gold table is built on first read, from its spec."""

    def __init__(self, frames: dict[str, object], gold_specs: dict):
        self.frames, self.gold_specs = frames, gold_specs

    def load(self, layer: str, name: str):
        path = f"{layer}/{name}"
        if path not in self.frames and layer == "gold":
            from cloud_analytics.gold.inputs import Inputs

            self.frames[path] = self.gold_specs[name].build(Inputs(self, DAY, DAY))
        return self.frames[path]

    def read(self, layer: str, name: str):
        """None for a table not built yet (the silver events' stored baseline, on a first run)."""
        return self.load(layer, name) if layer == "gold" else self.frames.get(f"{layer}/{name}")

    read_pinned = read  # frames in hand have no versions to pin


def _schema(df) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def empty_frame_schemas(spark) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(layer, table) → [(column, type)] of every silver and gold table built on empty frames."""
    from cloud_analytics.bronze.specs import BRONZE_SPECS, ddl
    from cloud_analytics.gold.specs import GOLD_SPECS
    from cloud_analytics.quality import evaluate
    from cloud_analytics.silver.inputs import SilverInputs
    from cloud_analytics.silver.refs import load_refs
    from cloud_analytics.silver.specs import SILVER_SPECS

    frames: dict[str, object] = {spec.path: spark.createDataFrame([], ddl(spec)) for spec in BRONZE_SPECS}
    lake = _EmptyLake(frames, {spec.name: spec for spec in GOLD_SPECS})
    for spec in SILVER_SPECS:  # in build order
        # A table conformed from bronze gets the rows its quality rules keep; a history its silver source.
        source = spec.deps[0].table
        rows = frames[source]
        if source.startswith("bronze/"):
            rows = evaluate(rows, spec.name, load_refs(lake, spec.name)).kept
        frames[spec.path] = spec.build(SilverInputs(rows, lake, DAY, DAY, pepper=PEPPER))
    for spec in GOLD_SPECS:
        lake.load("gold", spec.name)
    return {tuple(path.split("/", 1)): _schema(df) for path, df in frames.items() if not path.startswith("bronze/")}

