"""The Cassandra resource: driver sessions configured from the environment.

Three targets with one code path: the local node (default, 127.0.0.1:9042), a cluster (contact
points, optional PasswordAuthenticator credentials, optional TLS with a CA bundle and mutual TLS
with a client certificate), or AstraDB (secure connect bundle plus token; contact points and TLS
then come from the bundle). Credentials never reach a log: they live in fields that Dagster
treats as secrets when given as ``EnvVar`` and are left out of every message this module writes.

The serving keyspace is created only when it is missing and ``create_keyspace`` allows it (by
default, except with an Astra bundle): a managed cluster's role (Astra's always) has rights on
the tables of a keyspace created for it, not the right to create keyspaces.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from cloud_analytics.config import PREFIX, Settings

if TYPE_CHECKING:
    import ssl


class CassandraUnavailableError(RuntimeError):
    """Cassandra cannot be reached; the message names the hosts and port."""


class CassandraSetupError(CassandraUnavailableError):
    """Cassandra answers but the serving keyspace is missing and may not (setting) or cannot
    (role) be created; the message names the keyspace and the setting or grant that fixes it. A
    CassandraUnavailableError, so the CLI and every caller that already handles an unusable
    Cassandra print it as one line."""


def node_loss_retry_policy(attempts: int = 4):
    """A retry policy that rides out the loss of a node.

    When a node dies, the others mark it down only after several seconds of missed gossip;
    meanwhile a coordinator still counts on it, so a read or write at LOCAL_QUORUM (two of three
    replicas) times out with one answer, or is refused as unavailable. The driver's default policy
    rethrows those; this one sends the request to the next host, up to ``attempts`` times (each
    timeout lasts the server's request timeout, 2-5 s: together long enough for the dead node to
    be marked down). Writes are retried only when the statement is idempotent: every load's is
    (fixed write timestamps), so a replay changes nothing."""
    from cassandra.policies import RetryPolicy

    class NodeLossRetryPolicy(RetryPolicy):
        def _again(self, retry_num: int, consistency):
            return (self.RETRY_NEXT_HOST, consistency) if retry_num < attempts else (self.RETHROW, None)

        def on_read_timeout(self, query, consistency, required_responses, received_responses, data_retrieved,
                            retry_num):
            return self._again(retry_num, consistency)

        def on_write_timeout(self, query, consistency, write_type, required_responses, received_responses,
                             retry_num):
            if not getattr(query, "is_idempotent", False):
                return self.RETHROW, None
            return self._again(retry_num, consistency)

        def on_unavailable(self, query, consistency, required_replicas, alive_replicas, retry_num):
            return self._again(retry_num, consistency)

        def on_request_error(self, query, consistency, error, retry_num):
            return self._again(retry_num, consistency)

    return NodeLossRetryPolicy()


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
    create_keyspace: Optional[bool] = Field(
        default=None, description="CREATE KEYSPACE when it is missing (None: yes, except with an Astra bundle).")
    ssl_ca: str = Field(default="", description="CA bundle (PEM): TLS with certificate and hostname verification.")
    ssl_cert: str = Field(default="", description="Client certificate (PEM) for mutual TLS.")
    ssl_key: str = Field(default="", description="Client private key (PEM, unencrypted) for mutual TLS.")
    ssl_check_hostname: bool = Field(default=True, description="Check the node certificates name the address.")
    connect_timeout_s: float = 10.0
    retries: int = Field(default=3, description="Times a serving load retries when Cassandra is unreachable or a "
                                                "node fails mid-load (0: fail at once).")
    retry_wait_s: float = Field(default=15.0, description="Seconds between those retries (a node restarting).")

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
            create_keyspace=settings.cassandra_create_keyspace,
            ssl_ca=settings.cassandra_ssl_ca,
            ssl_cert=settings.cassandra_ssl_cert,
            ssl_key=settings.cassandra_ssl_key,
            ssl_check_hostname=settings.cassandra_ssl_check_hostname,
            retries=settings.cassandra_retries,
            retry_wait_s=settings.cassandra_retry_wait_s,
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
        return ", ".join(f"{h}:{self.port}" for h in self.hosts) + (" over TLS" if self.ssl_ca else "")

    @property
    def creates_keyspace(self) -> bool:
        """Whether a missing keyspace is created: the setting, else yes except with an Astra bundle."""
        return not self.astra_secure_bundle if self.create_keyspace is None else self.create_keyspace

    def ssl_context(self) -> "ssl.SSLContext | None":
        """The driver's TLS context for a self-managed cluster (None: plain connections).

        ``ssl_ca`` turns TLS on: TLS 1.2 or newer, the nodes' certificates verified against that
        CA bundle, and their names checked against the address connected to (the driver connects
        to the nodes' IP addresses, so their certificates need those as IP subject alternative
        names, unless ``ssl_check_hostname`` is off). ``ssl_cert`` (with ``ssl_key`` unless the key
        is in the same PEM) is the client certificate a node asks for under mutual TLS
        (``require_client_auth``). Bad settings raise ValueError naming the variable."""
        import ssl

        if not (self.ssl_ca or self.ssl_cert or self.ssl_key):
            return None
        if self.astra_secure_bundle:
            raise ValueError(f"{PREFIX}CASSANDRA_SSL_* are for a self-managed cluster: with an Astra secure connect "
                             "bundle, TLS and its certificates come from the bundle. Unset them.")
        if not self.ssl_ca:
            raise ValueError(f"{PREFIX}CASSANDRA_SSL_CERT/_KEY (mutual TLS) need {PREFIX}CASSANDRA_SSL_CA, the CA "
                             "bundle (PEM) the nodes' certificates are verified with")
        if self.ssl_key and not self.ssl_cert:
            raise ValueError(f"{PREFIX}CASSANDRA_SSL_KEY needs {PREFIX}CASSANDRA_SSL_CERT, the client certificate "
                             "it belongs to")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = self.ssl_check_hostname
        _load_pem("CASSANDRA_SSL_CA", self.ssl_ca, lambda: context.load_verify_locations(cafile=self.ssl_ca))
        if self.ssl_cert:
            _load_pem("CASSANDRA_SSL_CERT" + ("/_KEY" if self.ssl_key else ""), self.ssl_cert,
                      lambda: context.load_cert_chain(self.ssl_cert, self.ssl_key or None, password=_no_passphrase))
        return context

    def cluster_kwargs(self) -> dict[str, Any]:
        """Arguments for ``cassandra.cluster.Cluster``: Astra, cluster or local node."""
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import ExecutionProfile, EXEC_PROFILE_DEFAULT
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra import ConsistencyLevel

        context = self.ssl_context()  # None, or ValueError for bad settings (and any with Astra)
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
            retry_policy=node_loss_retry_policy(),
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
        if context is not None:
            kwargs["ssl_context"] = context
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
                tls_failed = self.ssl_ca and "SSL" in _short(exc)
                tls = f" Check {PREFIX}CASSANDRA_SSL_CA (and _CERT/_KEY)." if tls_failed else ""
                raise CassandraUnavailableError(
                    f"Cannot reach Cassandra at {self.target}: {_short(exc)}.{tls} Is the node running? "
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
        """Make sure the serving keyspace exists. CREATE KEYSPACE is issued only when
        ``system_schema`` (readable by any role) lacks it and ``creates_keyspace`` allows it: with
        the keyspace in place, the role needs no right to create keyspaces, whatever the setting.
        A missing keyspace that may not or cannot be created raises CassandraSetupError saying
        what to do."""
        from cassandra import Unauthorized

        # Keyspace names cannot be bound parameters; validate it instead.
        if not self.keyspace.replace("_", "").isalnum():
            raise ValueError(f"invalid keyspace name {self.keyspace!r}")
        if keyspace_exists(session, self.keyspace):
            return
        grants = "grant the role CREATE, ALTER, SELECT and MODIFY on it"
        if not self.creates_keyspace:
            why = " (the default with an Astra secure bundle)" if self.create_keyspace is None else ""
            raise CassandraSetupError(
                f"Keyspace {self.keyspace} does not exist on Cassandra at {self.target} and "
                f"{PREFIX}CASSANDRA_CREATE_KEYSPACE is false{why}, so the platform does not create it: create it "
                "first (AstraDB: in the Astra console; a self-managed cluster: CREATE KEYSPACE as an "
                f"administrator) and {grants}, or set {PREFIX}CASSANDRA_KEYSPACE to the keyspace you have.")
        try:
            session.execute(
                f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} WITH replication = {self.replication_cql()}"
            )
        except Unauthorized:
            raise CassandraSetupError(
                f"Keyspace {self.keyspace} does not exist on Cassandra at {self.target} and role "
                f"{self.username or '(none)'} may not create keyspaces: create it as an administrator, {grants}, "
                f"and set {PREFIX}CASSANDRA_CREATE_KEYSPACE=false.") from None


def keyspace_exists(session: Any, keyspace: str) -> bool:
    """Whether ``keyspace`` exists (unquoted names are lower case in Cassandra)."""
    return session.execute("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s",
                           (keyspace.lower(),)).one() is not None


def _no_passphrase() -> bytes:
    # Called by OpenSSL only for an encrypted key: never let it prompt on a terminal.
    raise ValueError("the private key is encrypted; give an unencrypted PEM key (from a secret store)")


def _load_pem(variable: str, path: str, load: Any) -> None:
    """Run ``load`` (an SSLContext loader of ``path``), turning its errors into one line naming the variable."""
    import ssl

    try:
        load()
    except FileNotFoundError:
        raise ValueError(f"{PREFIX}{variable}: no such file {path}") from None
    except ssl.SSLError as exc:
        reason = "the key does not match the certificate" if exc.reason == "KEY_VALUES_MISMATCH" else \
            f"not a usable PEM file ({exc.reason or exc})"
        raise ValueError(f"{PREFIX}{variable}: {path}: {reason}") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{PREFIX}{variable}: {path}: {exc}") from None


def _resource_from_fields(fields: dict[str, Any]) -> CassandraResource:
    return CassandraResource(**fields)


def _short(exc: Exception) -> str:
    """NoHostAvailable carries a dict of per-host errors: keep it to one readable line."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{host}: {err}" for host, err in errors.items())
    return str(exc)
