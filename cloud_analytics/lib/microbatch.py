"""One Structured Streaming run over everything new, one micro-batch at a time, exactly once.

The bronze event stream and the speed layer share this skeleton; each brings only its source
and what one micro-batch does. Why a run is safe to repeat at any time:

- the query's checkpoint remembers what was read, so a run reads only new input
  (``trigger(availableNow=True)``: everything new, in bounded micro-batches, then stop);
- a batch that ran but whose checkpoint commit did not (a crash in between) runs again with
  the same batch id; every write of a batch must therefore be idempotent. ``append_once``
  does it for Delta appends: ``txnAppId`` = the checkpoint's id, ``txnVersion`` = batch id,
  so Delta skips the replayed append;
- the id is stored in the checkpoint folder, so a reset checkpoint (new batch ids from 0)
  gets a new id and Delta never confuses two checkpoints' batches.

A failing batch fails the run with its exception (the query stops; the batch's writes that
committed are replayed idempotently by the next run).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib.lake_files import LakeFiles

MARKER = "_cloud_analytics_id"


def checkpoint_id(checkpoint: str, files: LakeFiles | None = None) -> str:
    """A stable id per checkpoint folder, created on first use (``files``: the lake's files,
    needed when the checkpoint is on an object store)."""
    files = files or LakeFiles(checkpoint)
    marker = f"{checkpoint.rstrip('/')}/{MARKER}"
    if not files.is_file(marker):
        files.write_text(marker, uuid.uuid4().hex)
    return files.read_text(marker).strip()


def append_once(df: DataFrame, path: str, app_id: str, batch_id: int, tag: str | None = None,
                merge_schema: bool = False) -> None:
    """Append ``df`` to the Delta table at ``path`` unless this batch of ``app_id`` already did;
    ``tag`` becomes the commit's ``userMetadata`` (for finding the commit in the history);
    ``merge_schema`` adds columns a table created by an older release lacks."""
    writer = df.write.format("delta").mode("append").option("txnAppId", app_id).option("txnVersion", batch_id)
    writer = writer.option("mergeSchema", "true") if merge_schema else writer
    (writer.option("userMetadata", tag) if tag else writer).save(path)


def batch_rows(spark, path: str, app_id: str, batch_ids: list[int]) -> list:
    """The rows a run's batches recorded in the table at ``path`` (one per batch, keyed by
    ``checkpoint_id`` and ``batch_id``), in batch order: how a caller learns what its batches
    did when they ran in the Spark service's Python worker, whose memory it cannot read."""
    if not batch_ids:
        return []
    table = spark.read.format("delta").load(path)
    return (table.filter((F.col("checkpoint_id") == app_id) & F.col("batch_id").isin(batch_ids))
            .orderBy("batch_id").collect())


@dataclass
class RunReport:
    """What the run did, from the query's progress: the micro-batches that ran (ids in order),
    their durations and the rows the source delivered."""

    app_id: str
    batch_ids: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    input_rows: int = 0

    @property
    def batches(self) -> int:
        return len(self.batch_ids)


def run_available_now(source: DataFrame, checkpoint: str, query_name: str,
                      process: Callable[[DataFrame, int], None], app_id: str | None = None,
                      what: str = "stream") -> RunReport:
    """Run ``process(batch, batch_id)`` over every micro-batch of ``source`` not yet committed in
    ``checkpoint``, then stop. ``app_id`` defaults to the checkpoint's id (give it when the
    caller needed it before the run, e.g. to bind it into ``process``).

    Through Spark Connect, ``process`` is pickled and runs in a Python worker of the Spark
    service, not in this process: it must not hold this process's session, loggers or
    connections, and what it learns must be written somewhere (a table), not kept in memory.
    So the report comes from the query's progress, which both modes return to the caller.
    """
    report = RunReport(app_id=app_id or checkpoint_id(checkpoint))
    query = (source.writeStream.foreachBatch(process)
             .option("checkpointLocation", checkpoint)
             .trigger(availableNow=True)
             .queryName(query_name.replace("-", "_"))
             .start())
    try:
        query.awaitTermination()
    finally:
        if query.isActive:  # interrupted while waiting: do not leave the query running
            query.stop()
    if query.exception() is not None:
        raise RuntimeError(f"{what} failed: {query.exception()}")
    for progress in query.recentProgress:
        durations = progress.durationMs or {}
        if "addBatch" not in durations:  # a trigger that found nothing new ran no batch
            continue
        report.batch_ids.append(int(progress.batchId))
        report.seconds.append(durations.get("triggerExecution", 0) / 1000)
        report.input_rows += int(progress.numInputRows or 0)
    return report
