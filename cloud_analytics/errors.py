"""The platform's expected failures: the CLI prints them as one line, without a traceback."""

from cloud_analytics.landing.zip_import import LandingImportError
from cloud_analytics.resources.cassandra import CassandraUnavailableError
from cloud_analytics.resources.spark import SparkSetupError
from cloud_analytics.serving.local_node import CassandraNodeError


class PipelineError(RuntimeError):
    """A pipeline step failed; the message names the step, file or rule."""


KNOWN_ERRORS = (
    CassandraNodeError,
    CassandraUnavailableError,
    LandingImportError,
    PipelineError,
    SparkSetupError,
    ValueError,
    FileNotFoundError,
)
