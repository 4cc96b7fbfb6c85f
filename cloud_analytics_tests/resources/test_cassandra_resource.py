"""How the Cassandra resource builds its connections (no network needed)."""

import pytest
from cassandra.auth import PlainTextAuthProvider

from cloud_analytics.resources.cassandra import CassandraResource, CassandraUnavailableError


def test_local_defaults():
    kwargs = CassandraResource().cluster_kwargs()
    assert kwargs["contact_points"] == ["127.0.0.1"]
    assert kwargs["port"] == 9042
    assert "auth_provider" not in kwargs


def test_cluster_with_password_auth():
    res = CassandraResource(hosts=["10.1.0.1", "10.1.0.2"], port=9142, username="svc", password="s3cret")
    kwargs = res.cluster_kwargs()
    assert kwargs["contact_points"] == ["10.1.0.1", "10.1.0.2"]
    assert isinstance(kwargs["auth_provider"], PlainTextAuthProvider)
    assert kwargs["auth_provider"].username == "svc"
    assert "s3cret" not in res.target


def test_astra_uses_bundle_and_token_without_contact_points():
    res = CassandraResource(astra_secure_bundle="/secrets/scb.zip", astra_token="AstraCS:abc")
    kwargs = res.cluster_kwargs()
    assert kwargs["cloud"] == {"secure_connect_bundle": "/secrets/scb.zip"}
    assert "contact_points" not in kwargs
    assert kwargs["auth_provider"].username == "token"
    assert kwargs["auth_provider"].password == "AstraCS:abc"
    assert "AstraCS" not in res.target


def test_astra_without_token_is_refused():
    with pytest.raises(ValueError, match="ASTRA_TOKEN"):
        CassandraResource(astra_secure_bundle="/secrets/scb.zip").cluster_kwargs()


def test_replication_options():
    assert "SimpleStrategy" in CassandraResource(replication_factor=3).replication_cql()
    ntp = CassandraResource(replication_class="NetworkTopologyStrategy", datacenter="dc1", replication_factor=3)
    assert ntp.replication_cql() == "{'class': 'NetworkTopologyStrategy', 'dc1': 3}"


def test_unreachable_node_names_host_and_port():
    # Nothing listens on this port: a clear error naming where we tried, no raw traceback.
    res = CassandraResource(hosts=["127.0.0.1"], port=1, connect_timeout_s=2)
    with pytest.raises(CassandraUnavailableError, match=r"127\.0\.0\.1:1"):
        with res.session():
            pass


def test_secrets_reach_dagster_as_env_vars(monkeypatch, settings):
    from dagster import EnvVar

    from cloud_analytics.config import load_settings

    monkeypatch.setenv("CLOUD_ANALYTICS_CASSANDRA_PASSWORD", "pw-from-env")
    from_env = load_settings()
    assert "CASSANDRA_PASSWORD" in from_env.secrets_in_environment
    res = CassandraResource.from_settings(from_env, secrets_as_env_vars=True)
    assert res.password == EnvVar("CLOUD_ANALYTICS_CASSANDRA_PASSWORD")
    assert res.astra_token == ""
