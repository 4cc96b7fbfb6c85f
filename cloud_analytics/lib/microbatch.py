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

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame

MARKER = "_cloud_analytics_id"


def checkpoint_id(checkpoint: str) -> str:
    """A stable id per checkpoint folder, created on first use."""
    marker = Path(checkpoint.removeprefix("file:")) / MARKER
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(uuid.uuid4().hex)
    return marker.read_text().strip()


def append_once(df: DataFrame, path: str, app_id: str, batch_id: int, tag: str | None = None) -> None:
    """Append ``df`` to the Delta table at ``path`` unless this batch of ``app_id`` already did;
    ``tag`` becomes the commit's ``userMetadata`` (for finding the commit in the history)."""
    writer = df.write.format("delta").mode("append").option("txnAppId", app_id).option("txnVersion", batch_id)
    (writer.option("userMetadata", tag) if tag else writer).save(path)


@dataclass
class RunReport:
    """What the runner saw: the micro-batches that ran (ids in order) and their durations."""

    app_id: str
    batch_ids: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    input_rows: int = 0  # rows the source delivered, from the query's progress

    @property
    def batches(self) -> int:
        return len(self.batch_ids)


def run_available_now(source: DataFrame, checkpoint: str, query_name: str,
                      process: Callable[[DataFrame, int], None], app_id: str | None = None,
                      what: str = "stream") -> RunReport:
    """Run ``process(batch, batch_id)`` over every micro-batch of ``source`` not yet committed in
    ``checkpoint``, then stop. ``app_id`` defaults to the checkpoint's id (give it when the
    caller needed it before the run, e.g. to bind it into ``process``)."""
    report = RunReport(app_id=app_id or checkpoint_id(checkpoint))

    def each(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        process(batch, batch_id)
        report.batch_ids.append(batch_id)
        report.seconds.append(time.monotonic() - started)

    query = (source.writeStream.foreachBatch(each)
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
    report.input_rows = sum(int(p.get("numInputRows", 0) or 0) for p in query.recentProgress)
    return report
