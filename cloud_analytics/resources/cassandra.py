"""The Cassandra resource: driver sessions configured from the environment.

Three targets with one code path: the local node (default, 127.0.0.1:9042), a cluster (contact
points, optional PasswordAuthenticator credentials), or AstraDB (secure connect bundle plus
token; contact points then come from the bundle). Credentials never reach a log: they live
in fields that Dagster treats as secrets when given as ``EnvVar`` and are left out of every
message this module writes.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from cloud_analytics.config import PREFIX, Settings


class CassandraUnavailableError(RuntimeError):
    """Cassandra cannot be reached; the message names the hosts and port."""


class CassandraResource(ConfigurableResource):
    """Sessions on the serving keyspace. Fields default to the local node."""

    hosts: list[str] = Field(default=["127.0.0.1"], description="Contact points.")
    port: int = Field(default=9042, description="Native transport port.")
    keyspace: str = Field(default="cloud_analytics", description="Keyspace of the serving tables.")
    replication_class: str = Field(default="SimpleStrategy", description="SimpleStrategy or NetworkTopologyStrategy.")
    replication_factor: int = 1
    datacenter: str = Field(default="datacenter1", description="DC name used by NetworkTopologyStrategy.")
    local_dc: str = Field(default="", description="Local DC for load balancing (empty: inferred).")
    username: str = Field(default="", description="PasswordAuthenticator user (empty: no auth).")
    password: str = Field(default="", description="Password; pass it as EnvVar, never inline.")
    astra_secure_bundle: str = Field(default="", description="AstraDB secure connect bundle path.")
    astra_token: str = Field(default="", description="AstraDB application token; EnvVar only.")
    connect_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings, secrets_as_env_vars: bool = False) -> "CassandraResource":
        """Build from settings; with ``secrets_as_env_vars`` the secrets that came from the
        process environment are passed as ``EnvVar`` so Dagster never displays their value."""
        secrets = {"password": settings.cassandra_password, "astra_token": settings.astra_token}
        if secrets_as_env_vars:
            for field_name, var in (("password", "CASSANDRA_PASSWORD"), ("astra_token", "ASTRA_TOKEN")):
                if var in settings.secrets_in_environment:
                    secrets[field_name] = EnvVar(PREFIX + var)
        return cls(
            hosts=list(settings.cassandra_hosts),
            port=settings.cassandra_port,
            keyspace=settings.cassandra_keyspace,
            replication_class=settings.cassandra_replication_class,
            replication_factor=settings.cassandra_replication_factor,
            datacenter=settings.cassandra_datacenter,
            local_dc=settings.cassandra_local_dc,
            username=settings.cassandra_username,
            astra_secure_bundle=settings.astra_secure_bundle,
            **secrets,
        )

    def __reduce__(self):
        # A Dagster resource does not unpickle (its config schema's types do not); the speed
        # layer's micro-batch may run in the Spark service's worker, so it travels as its fields.
        return _resource_from_fields, ({name: getattr(self, name) for name in type(self).model_fields},)

    @property
    def target(self) -> str:
        """A printable description of where we connect (never includes secrets)."""
        if self.astra_secure_bundle:
            return f"AstraDB (bundle {self.astra_secure_bundle})"
        return ", ".join(f"{h}:{self.port}" for h in self.hosts)

    def cluster_kwargs(self) -> dict[str, Any]:
        """Arguments for ``cassandra.cluster.Cluster``: Astra, cluster or local node."""
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import ExecutionProfile, EXEC_PROFILE_DEFAULT
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra import ConsistencyLevel

        if self.astra_secure_bundle:
            if not self.astra_token:
                raise ValueError("CLOUD_ANALYTICS_ASTRA_TOKEN is required with an Astra secure connect bundle")
            # Astra: no contact points, TLS comes from the bundle, auth is ('token', <token>).
            return {
                "cloud": {"secure_connect_bundle": self.astra_secure_bundle},
                "auth_provider": PlainTextAuthProvider("token", self.astra_token),
            }
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=self.local_dc or None)),
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            request_timeout=30.0,
        )
        kwargs: dict[str, Any] = {
            "contact_points": list(self.hosts),
            "port": self.port,
            "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
            "connect_timeout": self.connect_timeout_s,
            "protocol_version": 5,
        }
        if self.username:
            kwargs["auth_provider"] = PlainTextAuthProvider(self.username, self.password)
        return kwargs

    def replication_cql(self) -> str:
        if self.replication_class == "NetworkTopologyStrategy":
            # Cannot be a bound parameter either: a datacenter name is letters, digits, - and _.
            if not self.datacenter.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"invalid datacenter name {self.datacenter!r}")
            return f"{{'class': 'NetworkTopologyStrategy', '{self.datacenter}': {int(self.replication_factor)}}}"
        return f"{{'class': 'SimpleStrategy', 'replication_factor': {int(self.replication_factor)}}}"

    @contextmanager
    def session(self, use_keyspace: bool = True) -> Iterator[Any]:
        """A connected driver session; closes its cluster on exit."""
        from cassandra.cluster import Cluster, NoHostAvailable
        from cassandra import AuthenticationFailed, OperationTimedOut

        cluster = Cluster(**self.cluster_kwargs())
        try:
            try:
                session = cluster.connect()
            except (NoHostAvailable, OperationTimedOut, OSError) as exc:
                raise CassandraUnavailableError(
                    f"Cannot reach Cassandra at {self.target}: {_short(exc)}. Is the node running? "
                    "Start the local one with `cloud-analytics cassandra start`, or set "
                    "CLOUD_ANALYTICS_CASSANDRA_HOSTS / _PORT. The run can simply be retried."
                ) from None
            except AuthenticationFailed:
                raise CassandraUnavailableError(
                    f"Cassandra at {self.target} refused the credentials of user "
                    f"{self.username or '(none)'}; check CLOUD_ANALYTICS_CASSANDRA_USERNAME/PASSWORD."
                ) from None
            if use_keyspace:
                self.ensure_keyspace(session)
                session.set_keyspace(self.keyspace)
            yield session
        finally:
            cluster.shutdown()

    def ensure_keyspace(self, session: Any) -> None:
        # Keyspace names cannot be bound parameters; validate it instead.
        if not self.keyspace.replace("_", "").isalnum():
            raise ValueError(f"invalid keyspace name {self.keyspace!r}")
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} WITH replication = {self.replication_cql()}"
        )


def _resource_from_fields(fields: dict[str, Any]) -> CassandraResource:
    return CassandraResource(**fields)


def _short(exc: Exception) -> str:
    """NoHostAvailable carries a dict of per-host errors: keep it to one readable line."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{host}: {err}" for host, err in errors.items())
    return str(exc)
