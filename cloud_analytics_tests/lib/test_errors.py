"""Errors keep their cause: the line a user reads is the innermost exception's, and for a Spark
error the Java exception with its message, not Py4J's "An error occurred while calling"."""

import pytest

pytestmark = pytest.mark.fast

from cloud_analytics.lib.errors import exception_chain, meaningful_line, root_cause

SPARK_MESSAGE = """An error occurred while calling o123.save.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times
\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2898)
Caused by: java.io.FileNotFoundException: /lake/silver/x/part-0001.parquet (No such file or directory)
\tat java.io.FileInputStream.open0(Native Method)
"""


def test_a_spark_error_reads_as_its_innermost_java_exception():
    assert meaningful_line(SPARK_MESSAGE) == \
        "java.io.FileNotFoundException: /lake/silver/x/part-0001.parquet (No such file or directory)"


def test_plain_messages_skip_py4j_boilerplate():
    assert meaningful_line("An error occurred while calling o9.count.\nthe disk is full") == "the disk is full"
    assert meaningful_line("bad value in users.csv line 4") == "bad value in users.csv line 4"
    assert meaningful_line("") == ""


def test_root_cause_walks_the_python_chain():
    def fail():
        try:
            raise OSError("connection refused by 127.0.0.1:9042")
        except OSError as inner:
            raise RuntimeError("load failed") from inner

    with pytest.raises(RuntimeError) as caught:
        fail()
    assert [type(e).__name__ for e in exception_chain(caught.value)] == ["RuntimeError", "OSError"]
    assert root_cause(caught.value) == "OSError: connection refused by 127.0.0.1:9042"


def test_the_cli_prints_one_line_with_the_root_cause(capsys, monkeypatch):
    from cloud_analytics import cli

    def boom(_args):
        try:
            raise ConnectionError("node 127.0.0.1:9042 went away")
        except ConnectionError as exc:
            raise KeyError("serving") from exc

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    args = parser.parse_args(["docs", "--check"])
    monkeypatch.setattr(parser, "parse_args", lambda _argv=None: args)
    monkeypatch.setattr(args, "func", boom)
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: ConnectionError: node 127.0.0.1:9042 went away"]


def test_a_failed_steps_serialized_chain_reads_as_its_root_cause():
    """What the runner puts in PipelineError for a failed step: Dagster's serialized error chain
    (op wrapper -> the asset's exception -> its cause) reduced to the innermost class and line."""
    import sys

    from dagster._utils.error import serializable_error_info_from_exc_info

    from cloud_analytics.lib.errors import serialized_root_cause

    try:
        try:
            raise ConnectionError("Cannot reach Cassandra at 127.0.0.1:9042")
        except ConnectionError as exc:
            raise RuntimeError("Error occurred while executing op serving__org_daily_usage") from exc
    except RuntimeError:
        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert info.cause is not None  # the chain is kept: the event log shows all of it
    assert serialized_root_cause(info) == "ConnectionError: Cannot reach Cassandra at 127.0.0.1:9042"
