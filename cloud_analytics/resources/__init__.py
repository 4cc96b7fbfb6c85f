"""Dagster resources for the outside systems: Spark (with Delta) and Cassandra."""
