"""The micro-batch runner on a tiny text-file stream: only new input, bounded batches, a
replayed batch keeps its id and its idempotent append is skipped, a failing batch fails the run."""

import shutil

import pytest

from cloud_analytics.lib.microbatch import append_once, checkpoint_id, run_available_now


@pytest.fixture
def folders(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    return landing, str(tmp_path / "checkpoint"), str(tmp_path / "table")


def _source(spark, landing):
    return spark.readStream.format("text").option("maxFilesPerTrigger", 1).load(str(landing))


def _run(spark, landing, checkpoint, table, seen):
    app_id = checkpoint_id(checkpoint)

    def process(batch, batch_id):
        seen.append((batch_id, sorted(r.value for r in batch.collect())))
        append_once(batch, table, app_id, batch_id)

    return run_available_now(_source(spark, landing), checkpoint, "test-microbatch", process, app_id=app_id)


def test_each_batch_once_then_only_new_input(spark, folders):
    landing, checkpoint, table = folders
    (landing / "a.txt").write_text("a1\na2\n")
    (landing / "b.txt").write_text("b1\n")
    seen = []
    first = _run(spark, landing, checkpoint, table, seen)
    assert first.batch_ids == [0, 1] and first.batches == 2 and len(first.seconds) == 2
    assert first.app_id == checkpoint_id(checkpoint)  # stable for the checkpoint folder
    assert sorted(v for _, values in seen for v in values) == ["a1", "a2", "b1"]
    assert spark.read.format("delta").load(table).count() == 3

    idle = _run(spark, landing, checkpoint, table, seen)
    assert idle.batches == 0

    (landing / "c.txt").write_text("c1\n")
    again = _run(spark, landing, checkpoint, table, seen)
    assert again.batch_ids == [2] and seen[-1] == (2, ["c1"])
    assert spark.read.format("delta").load(table).count() == 4


def test_a_replayed_batch_keeps_its_id_and_its_append_is_skipped(spark, folders, tmp_path):
    landing, checkpoint, table = folders
    (landing / "a.txt").write_text("a1\na2\n")
    seen = []
    _run(spark, landing, checkpoint, table, seen)
    # A crash between the batch's writes and the checkpoint commit: the commit marker is missing.
    shutil.rmtree(tmp_path / "checkpoint" / "commits")
    replay = _run(spark, landing, checkpoint, table, seen)
    assert replay.batch_ids == [0] and seen == [(0, ["a1", "a2"]), (0, ["a1", "a2"])]
    assert spark.read.format("delta").load(table).count() == 2


def test_a_failing_batch_fails_the_run_and_is_retried_next_time(spark, folders):
    landing, checkpoint, table = folders
    (landing / "a.txt").write_text("a1\n")

    def broken(batch, batch_id):
        raise ValueError("boom in batch")

    with pytest.raises(Exception, match="boom in batch"):
        run_available_now(_source(spark, landing), checkpoint, "test_microbatch_broken", broken)
    seen = []
    retry = _run(spark, landing, checkpoint, table, seen)
    assert retry.batch_ids == [0] and seen == [(0, ["a1"])]
