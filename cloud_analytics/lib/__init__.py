"""Shared pieces below every layer: table specs, time windows, Delta I/O, generic checks,
the lake reader, the micro-batch runner, error handling, the local server processes and
the kind of a SparkSession. Nothing here imports a layer."""
