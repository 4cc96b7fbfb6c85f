"""Cluster mode on one machine: the same pipeline on real servers that scale out.

``cloud-analytics cluster start`` brings up, on loopback addresses only, each as its own process
with a pid file, logs and data under the cluster's home (``.cluster/``, git-ignored):

- a Spark standalone master and two workers, and the Spark service (the Spark Connect server)
  attached to the master as the cluster's only driver;
- SeaweedFS (``weed mini``) as the S3-compatible object store of the lake, telemetry off;
- three Cassandra 5.0 nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3, keyspace with RF=3;
- PostgreSQL for Dagster's instance storage, and the Dagster daemon with the queued run
  coordinator.

``cloud-analytics cluster env`` prints the variables that point every command at it
(``layout.ClusterLayout.environment``), so ``eval "$(cloud-analytics cluster env)" && make run``
runs the whole pipeline there. docs/deployment.md maps each part to its production counterpart.
"""
