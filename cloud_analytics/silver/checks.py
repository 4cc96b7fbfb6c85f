"""The checks of a silver table conformed from bronze (conservation against bronze, the key and
the declared schema, the generic ones from ``lib.checks``) and of its quarantine (a reason on
every row, the quarantine rate).
A history's checks are the SCD2 invariants its spec declares (``specs.py``)."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from cloud_analytics.lib.checks import KEY_NOT_NULL, SCHEMA

CONSERVATION = "conservation"
QUARANTINE_RATE = "quarantine_rate"
REASON_PRESENT = "reason_present"
SCHEMA_DESCRIPTION = "columns equal the declared schema"


def specs(key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(CONSERVATION, asset=key, blocking=True,
                       description="bronze rows = silver rows + quarantined rows, for the window"),
        AssetCheckSpec(KEY_NOT_NULL, asset=key, blocking=True, description="key columns never null"),
        schema_spec(key),
    ]


def quarantine_specs(key: AssetKey) -> list[AssetCheckSpec]:
    """The checks of a quarantine table, written with its silver table."""
    return [
        AssetCheckSpec(REASON_PRESENT, asset=key, description="every quarantined row names its rule, its reason "
                                                               "and carries its raw record"),
        AssetCheckSpec(QUARANTINE_RATE, asset=key,
                       description="quarantined share of the window under CLOUD_ANALYTICS_MAX_QUARANTINE_RATE"),
    ]


def schema_spec(key: AssetKey) -> AssetCheckSpec:
    return AssetCheckSpec(SCHEMA, asset=key, blocking=True, description=SCHEMA_DESCRIPTION)


def conservation(key: AssetKey, bronze_rows: int, silver_rows: int, quarantined: int) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key, check_name=CONSERVATION, passed=bronze_rows == silver_rows + quarantined,
        severity=AssetCheckSeverity.ERROR,
        metadata={"bronze_rows": bronze_rows, "silver_rows": silver_rows, "quarantined": quarantined,
                  "difference": bronze_rows - silver_rows - quarantined},
    )


def quarantine_rate(key: AssetKey, summary: dict, max_rate: float) -> AssetCheckResult:
    evaluated = summary["evaluated"] or 0
    rate = summary["quarantined"] / evaluated if evaluated else 0.0
    return AssetCheckResult(
        asset_key=key, check_name=QUARANTINE_RATE, passed=rate <= max_rate, severity=AssetCheckSeverity.WARN,
        metadata={"rate": MetadataValue.float(round(rate, 6)), "max_rate": MetadataValue.float(max_rate),
                  "quarantined": summary["quarantined"], "evaluated": evaluated},
    )


def reason_present(key: AssetKey, quarantined: int, without_reason: int) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key, check_name=REASON_PRESENT, passed=without_reason == 0, severity=AssetCheckSeverity.ERROR,
        metadata={"quarantined": quarantined, "rows_without_rule_reason_or_record": without_reason},
    )
