"""Shared pieces below every layer: table specs, time windows, Delta I/O, generic checks,
the lake reader, the micro-batch runner and error handling. Nothing here imports a layer."""
