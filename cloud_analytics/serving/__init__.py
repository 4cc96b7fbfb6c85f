"""The serving layer: the local Cassandra node, CQL schema, loads and queries."""
