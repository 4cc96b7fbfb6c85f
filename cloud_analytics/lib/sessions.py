"""What kind of SparkSession code was handed: where Spark Connect differs from a session with
its JVM in this process (no SparkContext, no py4j, foreachBatch functions run on the server),
code branches on ``is_connect``."""

from __future__ import annotations

import sys


def is_connect(spark) -> bool:
    """Whether ``spark`` is a Spark Connect client session."""
    # Looked up, not imported: a Connect session has loaded its module already, and importing
    # it (grpc, pyarrow) would cost an in-process session 0.7 s for nothing.
    module = sys.modules.get("pyspark.sql.connect.session")
    return module is not None and isinstance(spark, module.SparkSession)
