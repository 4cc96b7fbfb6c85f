"""The platform's expected failures: the CLI prints them as one line, without a traceback."""

from cloud_analytics.landing.replay import ReplayError
from cloud_analytics.landing.zip_import import LandingImportError
from cloud_analytics.resources.cassandra import CassandraUnavailableError
from cloud_analytics.resources.spark import SparkSetupError
from cloud_analytics.serving.loader import ServingLoadError
from cloud_analytics.serving.local_node import CassandraNodeError
from cloud_analytics.serving.queries import NoServingData


class PipelineError(RuntimeError):
    """A pipeline step failed; the message names the step, file or rule."""


KNOWN_ERRORS = (
    CassandraNodeError,
    CassandraUnavailableError,
    LandingImportError,
    NoServingData,
    ReplayError,
    ServingLoadError,
    PipelineError,
    SparkSetupError,
    ValueError,
    FileNotFoundError,
)
