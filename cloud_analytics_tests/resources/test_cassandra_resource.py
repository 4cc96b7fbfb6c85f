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


# -- creating the keyspace (issue 17) ---------------------------------------------------------

def _settings(tmp_path, **env):
    from cloud_analytics.config import load_settings

    return load_settings({f"CLOUD_ANALYTICS_{k}": v for k, v in env.items()}, dotenv=tmp_path / "none")


@pytest.mark.parametrize("raw, expected", [("", None), ("true", True), ("1", True), ("YES", True), ("false", False),
                                           ("0", False), ("no", False)])
def test_create_keyspace_setting_is_parsed(tmp_path, raw, expected):
    assert _settings(tmp_path, CASSANDRA_CREATE_KEYSPACE=raw).cassandra_create_keyspace is expected


def test_a_bad_create_keyspace_value_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match=r"CLOUD_ANALYTICS_CASSANDRA_CREATE_KEYSPACE must be true or false .*'maybe'"):
        _settings(tmp_path, CASSANDRA_CREATE_KEYSPACE="maybe")


def test_keyspace_creation_defaults_to_yes_except_with_an_astra_bundle(tmp_path):
    local = CassandraResource.from_settings(_settings(tmp_path))
    astra = CassandraResource.from_settings(_settings(tmp_path, ASTRA_SECURE_BUNDLE="/s/scb.zip", ASTRA_TOKEN="t"))
    forced = CassandraResource.from_settings(_settings(tmp_path, ASTRA_SECURE_BUNDLE="/s/scb.zip",
                                                       CASSANDRA_CREATE_KEYSPACE="true"))
    assert (local.creates_keyspace, astra.creates_keyspace, forced.creates_keyspace) == (True, False, True)
    assert CassandraResource(create_keyspace=False).creates_keyspace is False
    assert CassandraResource(astra_secure_bundle="/s/scb.zip").creates_keyspace is False


class _Session:
    """Records statements; ``system_schema.keyspaces`` holds ``keyspaces``."""

    def __init__(self, keyspaces=()):
        self.keyspaces, self.statements = set(keyspaces), []

    def execute(self, statement, params=None):
        self.statements.append(statement)
        found = "system_schema.keyspaces" in statement and params[0] in self.keyspaces
        return type("Result", (), {"one": lambda _self: ("found",) if found else None})()


@pytest.mark.parametrize("create", [None, True, False])
def test_an_existing_keyspace_is_never_created(create):
    session = _Session(keyspaces={"serving"})
    CassandraResource(keyspace="serving", create_keyspace=create).ensure_keyspace(session)
    assert not [s for s in session.statements if "CREATE" in s]


def test_a_missing_keyspace_is_created_only_when_allowed():
    from cloud_analytics.resources.cassandra import CassandraSetupError

    session = _Session()
    CassandraResource(keyspace="serving").ensure_keyspace(session)
    assert session.statements[-1].startswith("CREATE KEYSPACE IF NOT EXISTS serving WITH replication")
    for resource in (CassandraResource(keyspace="serving", create_keyspace=False),
                     CassandraResource(keyspace="serving", astra_secure_bundle="/s/scb.zip", astra_token="t")):
        session = _Session()
        with pytest.raises(CassandraSetupError, match="Keyspace serving does not exist .*"
                                                      "CLOUD_ANALYTICS_CASSANDRA_CREATE_KEYSPACE is false"):
            resource.ensure_keyspace(session)
        assert not [s for s in session.statements if "CREATE" in s]
    assert isinstance(CassandraSetupError("x"), CassandraUnavailableError)  # the CLI prints it as one line


# -- TLS to a self-managed cluster (issue 17) ---------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a node certificate for 127.0.0.1, one for another name, a client certificate, an
    encrypted key (openssl, EC keys: a few milliseconds each)."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    for name, san in (("node", "IP:127.0.0.1"), ("other", "DNS:elsewhere.example"), ("client", "DNS:analytics")):
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    run("pkey", "-in", "client.key", "-out", "client_encrypted.key", "-aes256", "-passout", "pass:secret")
    return d


def _tls(pki, **fields):
    return CassandraResource(hosts=["10.1.0.1"], ssl_ca=str(pki / "ca.pem"), **fields)


def test_no_tls_without_a_ca():
    assert CassandraResource().ssl_context() is None
    assert "ssl_context" not in CassandraResource().cluster_kwargs()


def test_a_ca_turns_on_verified_tls(pki):
    import ssl

    res = _tls(pki)
    context = res.cluster_kwargs()["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [dict(x[0] for x in ca["subject"])["commonName"] for ca in context.get_ca_certs()] == ["test-ca"]
    assert res.target == "10.1.0.1:9042 over TLS"
    unchecked = _tls(pki, ssl_check_hostname=False).ssl_context()
    assert unchecked.verify_mode == ssl.CERT_REQUIRED and not unchecked.check_hostname


def test_tls_settings_reach_the_resource(pki, tmp_path):
    settings = _settings(tmp_path, CASSANDRA_SSL_CA=str(pki / "ca.pem"), CASSANDRA_SSL_CERT=str(pki / "client.pem"),
                         CASSANDRA_SSL_KEY=str(pki / "client.key"), CASSANDRA_SSL_CHECK_HOSTNAME="no")
    res = CassandraResource.from_settings(settings)
    assert (res.ssl_ca, res.ssl_cert, res.ssl_key, res.ssl_check_hostname) == (
        str(pki / "ca.pem"), str(pki / "client.pem"), str(pki / "client.key"), False)
    assert res.ssl_context() is not None
    assert _settings(tmp_path).cassandra_ssl_check_hostname is True


@pytest.mark.parametrize("fields, message", [
    ({"ssl_ca": "/no/such/ca.pem"}, "CLOUD_ANALYTICS_CASSANDRA_SSL_CA: no such file /no/such/ca.pem"),
    ({"ssl_ca": "{pki}/node.ext"}, r"CLOUD_ANALYTICS_CASSANDRA_SSL_CA: .*node.ext: not a usable PEM file"),
    ({"ssl_ca": "{pki}/ca.pem", "ssl_cert": "{pki}/client.pem", "ssl_key": "{pki}/node.key"},
     "CLOUD_ANALYTICS_CASSANDRA_SSL_CERT/_KEY: .*the key does not match the certificate"),
    ({"ssl_ca": "{pki}/ca.pem", "ssl_cert": "{pki}/client.pem", "ssl_key": "{pki}/client_encrypted.key"},
     "the private key is encrypted"),
    ({"ssl_cert": "{pki}/client.pem", "ssl_key": "{pki}/client.key"}, "need CLOUD_ANALYTICS_CASSANDRA_SSL_CA"),
    ({"ssl_ca": "{pki}/ca.pem", "ssl_key": "{pki}/client.key"}, "SSL_KEY needs CLOUD_ANALYTICS_CASSANDRA_SSL_CERT"),
    ({"ssl_ca": "{pki}/ca.pem", "astra_secure_bundle": "/s/scb.zip", "astra_token": "t"}, "Astra"),
])
def test_bad_tls_settings_name_the_variable(pki, fields, message):
    res = CassandraResource(**{k: v.format(pki=pki) for k, v in fields.items()})
    with pytest.raises(ValueError, match=message):
        res.cluster_kwargs()


def _handshake(client, pki, server_cert: str) -> dict:
    """One TLS handshake on loopback with ``client`` against a server presenting ``server_cert``
    and asking for a client certificate signed by the CA; what the server saw."""
    import socket
    import ssl
    import threading

    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki / f"{server_cert}.pem", pki / f"{server_cert}.key")
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(pki / "ca.pem")
    seen: dict = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve():
            conn, _ = listener.accept()
            try:
                with server.wrap_socket(conn, server_side=True) as tls:
                    seen["client"] = dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError) as exc:
                seen["error"] = exc

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=10) as raw:
                # As the driver wraps its sockets: server_hostname is the node's address.
                with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    seen["reply"] = tls.recv(2)
        finally:
            thread.join(10)
    return seen


def test_mutual_tls_handshake_verifies_the_node_and_presents_the_client(pki):
    import ssl

    mutual = _tls(pki, ssl_cert=str(pki / "client.pem"), ssl_key=str(pki / "client.key"))
    assert _handshake(mutual.ssl_context(), pki, "node") == {"client": "client", "reply": b"ok"}
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        _handshake(mutual.ssl_context(), pki, "other")
    unchecked = _tls(pki, ssl_cert=str(pki / "client.pem"), ssl_key=str(pki / "client.key"), ssl_check_hostname=False)
    assert _handshake(unchecked.ssl_context(), pki, "other")["reply"] == b"ok"
