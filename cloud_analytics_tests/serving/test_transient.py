"""Which failed loads are retried: Cassandra unreachable or failing requests, never a setup
error or a row no retry can write."""

import pytest
from cassandra import OperationTimedOut, WriteTimeout
from cassandra.cluster import NoHostAvailable

from cloud_analytics.resources.cassandra import CassandraSetupError, CassandraUnavailableError
from cloud_analytics.serving.assets import transient
from cloud_analytics.serving.loader import ServingLoadError

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("exc, retried", [
    (CassandraUnavailableError("Cannot reach Cassandra at 127.0.0.1:9042"), True),
    (NoHostAvailable("down", {}), True),
    (OperationTimedOut("timed out"), True),
    (WriteTimeout("write timed out", write_type=0), True),
    (ServingLoadError("3 of 9 requests failed", transient=True), True),
    (CassandraSetupError("Keyspace x does not exist and CREATE_KEYSPACE is false"), False),
    (ServingLoadError("row 12 cannot be written"), False),
    (ValueError("a bug"), False),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_only_failures_a_later_attempt_can_fix_are_retried(exc, retried):
    assert transient(exc) is retried
