"""Bronze CSV ingestion as pure Spark functions (DataFrame in, DataFrame out).

Every landed row ends in exactly one place: the bronze table (typed, with its raw text kept
for any value that failed its cast), the CSV reject table (a line Spark cannot split into
the header's columns, undecodable bytes, an empty key, an unusable partition value), or the
count of exact duplicates removed. ``ingest`` returns the three so callers can write and count them.

The file is read by each of the two writes (rows, rejects) rather than cached: a small file
costs less to parse twice than a cache costs Spark jobs. The counts of the read (records,
duplicates) are observed while the rows are written: no pass of their own.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from typing import Any
from datetime import date
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.specs import CSV_REJECTS, CsvSource, ddl
from cloud_analytics.lib.delta_io import observe, observed

CORRUPT = "_corrupt_record"
REJECTS_SCHEMA = ddl(CSV_REJECTS)


class CsvLayoutError(ValueError):
    """The file's header does not match the source's declared columns."""


@dataclass
class CsvIngest:
    """The outcome of reading one CSV for one partition window.

    ``landed`` and ``duplicates_removed`` are counted while ``rows`` is first read (written or
    collected); asking for them earlier reads the rows once for the purpose.
    """

    rows: DataFrame  # typed rows, one per kept record
    rejects: DataFrame  # REJECTS_SCHEMA
    empty_file: bool
    _counts: tuple[Any, ...] = ()  # Observations: records read and kept; kept after dedupe
    _values: dict[str, int] | None = None

    @property
    def landed(self) -> int:
        """Records in the file (header excluded), as Spark read them."""
        return self._count("landed")

    @property
    def duplicates_removed(self) -> int:
        """Exact duplicates among the kept records (the whole file, before any window filter)."""
        return self._count("kept") - self._count("deduped")

    def _count(self, name: str) -> int:
        if not self._counts:
            return 0
        if self._values is None:
            values = [observed(c, wait_s=0) for c in self._counts]
            if any(v is None for v in values):  # rows not read yet: reading them completes the counts
                self.rows.count()
                values = [observed(c) for c in self._counts]
            self._values = {k: int(v or 0) for part in values for k, v in (part or {}).items()}
        return self._values[name]


def read_header(path: Path, source: CsvSource) -> list[str] | None:
    """The header of ``path``, checked against the source; None for an empty file.

    A UTF-8 BOM and CRLF line ends are accepted. A missing or extra column is an error that
    names the file and the columns, since reading on would shift every value.
    """
    if not path.is_file():
        raise FileNotFoundError(f"landing file missing: {path} (source {source.name})")
    with open(path, "rb") as handle:
        first = handle.readline()
    if not first.strip():
        return None
    try:
        text = codecs.decode(first, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvLayoutError(f"{path}: header is not valid UTF-8 ({exc.reason})") from None
    header = [name.strip() for name in next(csv.reader([text.rstrip("\r\n")]))]
    missing = [c for c in source.column_names if c not in header]
    extra = [c for c in header if c not in source.column_names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise CsvLayoutError(
            f"{path}: header does not match source {source.name}: {'; '.join(parts)} "
            f"(expected {', '.join(source.column_names)})"
        )
    if header != source.column_names:
        raise CsvLayoutError(f"{path}: columns out of order for {source.name}: {', '.join(header)}")
    return header


def count_records(path: Path) -> int:
    """Records in a CSV (header excluded), counted independently of Spark by the csv module."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = sum(1 for row in csv.reader(handle) if row)
    return max(rows - 1, 0)


def read_raw(spark: SparkSession, path: str, source: CsvSource) -> DataFrame:
    """All columns as text, plus the corrupt-record column for lines of the wrong width."""
    schema = ", ".join(f"`{c}` string" for c in source.column_names) + f", `{CORRUPT}` string"
    return (
        spark.read.option("header", True)
        .option("escape", '"')  # quotes inside fields are doubled ("[""env:prod""]")
        .option("multiLine", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("enforceSchema", True)
        .schema(schema)
        .csv(path)
    )


def _cast(raw: Column, dtype: str) -> Column:
    return raw if dtype == "string" else F.trim(raw).try_cast(dtype)


def cast_errors(source: CsvSource) -> Column:
    """map<column, raw text> of the values that failed their cast (null when none did)."""
    failed = [
        F.when(
            F.col(name).isNotNull() & (F.trim(F.col(name)) != "") & _cast(F.col(name), dtype).isNull(),
            F.struct(F.lit(name).alias("key"), F.col(name).alias("value")),
        )
        for name, dtype in source.columns
        if dtype != "string"
    ]
    if not failed:
        return F.lit(None).cast("map<string,string>")
    entries = F.filter(F.array(*failed), lambda e: e.isNotNull())
    return F.when(F.size(entries) > 0, F.map_from_entries(entries))


def _raw_line(source: CsvSource) -> Column:
    return F.coalesce(F.col(CORRUPT), F.to_json(F.struct(*[F.col(c) for c in source.column_names])))


def ingest(
    spark: SparkSession,
    path: Path,
    source: CsvSource,
    source_file: str,
    window: tuple[date, date],
    partition_floor: date | None = None,
) -> CsvIngest:
    """Read, type, split and dedupe one CSV for the partition window [start, end] (inclusive days).

    Snapshot sources: the file is the snapshot of every day of the window, and its rejects
    are recorded for each of those days. Month-partitioned sources: the rows whose month
    falls in the window; rows whose month is unusable (unparseable, or before
    ``partition_floor``) cannot belong to any partition and are rejected under the
    partition key "invalid" (replaced on every run, so never counted twice).
    """
    start, end = window
    ingest_ts = F.current_timestamp()
    if read_header(path, source) is None:
        return CsvIngest(typed_empty(spark, source), rejects_empty(spark), empty_file=True)
    raw = read_raw(spark, str(path), source)

    # Lines that cannot become a row: wrong width, or bytes that were not UTF-8 (Spark
    # decodes them to U+FFFD; keeping such text would silently corrupt names and ids).
    undecodable = F.array_contains(
        F.array(*[F.instr(F.coalesce(F.col(c), F.lit("")), "\ufffd") > 0 for c in source.column_names]), True
    )
    missing_key = F.array_contains(
        F.array(*[F.coalesce(F.trim(F.col(k)), F.lit("")) == "" for k in source.key]), True
    )
    reason = (
        F.when(F.col(CORRUPT).isNotNull(), F.lit("malformed_line: field count differs from header"))
        .when(undecodable, F.lit("invalid_utf8: bytes not decodable as UTF-8"))
        .when(missing_key, F.lit(f"missing_key: {', '.join(source.key)} empty"))
    )
    if source.partitioning != "snapshot":
        month = _cast(F.col(source.partitioning), "date")
        reason = reason.when(month.isNull(), F.lit(f"invalid_partition_value: {source.partitioning} is not a date"))
        if partition_floor is not None:
            reason = reason.when(month < F.lit(partition_floor),
                                 F.lit(f"invalid_partition_value: {source.partitioning} before {partition_floor}"))
    # The rows' plan counts what it reads (every record), keeps and keeps after dedupe, once
    # the rows are written; the rejects' plan reads the file again, unobserved.
    counted, counts = observe(raw, {"landed": F.count(F.lit(1)), "kept": F.count_if(reason.isNull())})
    bad = raw.withColumn("_reason", reason).filter(F.col("_reason").isNotNull()).withColumn("_line", _raw_line(source))
    good = counted.filter(reason.isNull()).drop(CORRUPT)

    deduped = good.dropDuplicates(source.column_names)
    deduped, deduped_count = observe(deduped, {"deduped": F.count(F.lit(1))})

    typed = deduped.select(
        *[_cast(F.col(name), dtype).alias(name) for name, dtype in source.columns],
        cast_errors(source).alias("cast_errors"),
        F.to_json(F.struct(*[F.col(c) for c in source.column_names])).alias("_row"),
    )
    typed = _flag_key_conflicts(typed, source).drop("_row")
    days = F.explode(F.sequence(F.lit(start), F.lit(end)))
    if source.partitioning == "snapshot":
        typed = typed.withColumn("snapshot_date", days)
        bad = bad.withColumn("_key", F.explode(F.sequence(F.lit(start), F.lit(end)).cast("array<string>")))
    else:
        month = F.col(source.partitioning)
        typed = typed.filter((month >= F.lit(start)) & (month <= F.lit(end)))
        bad = bad.withColumn("_key", F.lit("invalid"))
    typed = typed.withColumn("ingest_ts", ingest_ts).withColumn("source_file", F.lit(source_file))
    rejects = bad.select(
        F.lit(source.name).alias("source"),
        F.col("_key").alias("partition_key"),
        F.lit(source_file).alias("source_file"),
        F.col("_line").alias("line"),
        F.col("_reason").alias("reason"),
        ingest_ts.alias("ingest_ts"),
    )
    return CsvIngest(typed, rejects, empty_file=False, _counts=(counts, deduped_count))


def _flag_key_conflicts(df: DataFrame, source: CsvSource) -> DataFrame:
    """Rows sharing a key with different content are kept and flagged ``key_conflict``."""
    from pyspark.sql import Window

    by_key = Window.partitionBy(*[F.col(k) for k in source.key])
    distinct_versions = F.size(F.collect_set("_row").over(by_key))
    return df.withColumn("key_conflict", distinct_versions > 1)


def rejects_empty(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], REJECTS_SCHEMA)


def typed_empty(spark: SparkSession, source: CsvSource) -> DataFrame:
    """An empty frame with the bronze schema of ``source`` (for an empty landing file)."""
    return spark.createDataFrame([], ddl(source.spec))
