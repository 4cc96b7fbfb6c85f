"""Settings read from environment variables (prefix ``CLOUD_ANALYTICS_``) with safe defaults.

A ``.env`` file in the working directory is read first when present; variables already
set in the environment win over it. Settings are read here once, at the
edges (the CLI, ``definitions.py``, tests), and passed down: no module inside a layer reads the
environment, so two lakes with two keyspaces can live side by side in one process. ``.env.example`` documents each variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "CLOUD_ANALYTICS_"
# The repository root: the editable install keeps the package inside it, and the
# git-ignored set-up folders (.jars, .cassandra, .spark_service) live beside the package.
REPO_ROOT = Path(__file__).resolve().parents[1]


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments, blank lines and optional quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _env(env: dict[str, str], name: str, default: str) -> str:
    value = env.get(PREFIX + name, "").strip()
    return value if value else default


def _env_number(env: dict[str, str], name: str, default, cast, kind: str):
    raw = _env(env, name, str(default))
    try:
        return cast(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be {kind}, got {raw!r}") from None


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    return _env_number(env, name, default, int, "an integer")


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    return _env_number(env, name, default, float, "a number")


def _parse_pairs(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(";"))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{PREFIX}SPARK_CONF entries must be key=value, got {item!r}")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _env_choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(env, name, default).lower()
    if value not in choices:
        raise ValueError(f"{PREFIX}{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _env_bool(env: dict[str, str], name: str, default: bool | None) -> bool | None:
    raw = _env(env, name, "").lower()
    if not raw:
        return default
    if raw not in _TRUE + _FALSE:
        raise ValueError(f"{PREFIX}{name} must be true or false (or 1/0, yes/no), got {raw!r}")
    return raw in _TRUE


SECRETS = ("CASSANDRA_PASSWORD", "ASTRA_TOKEN", "PII_PEPPER", "ALERT_WEBHOOK", "S3_SECRET_KEY")
# auto: a client of the Spark service when it runs, else an in-process session; off: always
# in-process; require: the service or an error.
SPARK_SERVICE_MODES = ("auto", "off", "require")
NEGATIVE_COST_ACTIONS = ("quarantine", "flag")


def is_uri(root: str | Path) -> bool:
    """Whether a lake root is an object-store URI (``s3a://bucket/prefix``) rather than a folder."""
    return "://" in str(root) and not str(root).startswith("file:")


@dataclass(frozen=True)
class ObjectStore:
    """An S3-compatible object store holding the lake (a root ``s3a://bucket/prefix``): its
    endpoint and static credentials. Static keys and an explicit region keep the AWS SDKs from
    asking the cloud's instance-metadata service for either."""

    endpoint: str = ""  # empty: AWS's own endpoint for the region
    region: str = "us-east-1"
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    """Every setting of the platform. Paths are absolute once loaded; the lake root is a
    folder (a Path) or an object-store URI (a str, see ``is_uri``)."""

    lake: Path | str
    landing: Path
    jars_dir: Path
    spark_master: str = "local[*]"
    spark_driver_memory: str = "2g"
    spark_shuffle_partitions: int = 32
    # Extra Spark confs, "key=value;key=value" (object-store credentials providers etc.).
    spark_extra_conf: tuple[tuple[str, str], ...] = ()
    # The platform's own Spark Connect server (`cloud-analytics spark start`), one of
    # SPARK_SERVICE_MODES: whether sessions connect to it.
    spark_service: str = "auto"
    spark_service_port: int = 15002
    spark_service_home: Path = REPO_ROOT / ".spark_service"
    spark_service_start_timeout_s: int = 180
    cassandra_hosts: tuple[str, ...] = ("127.0.0.1",)
    cassandra_port: int = 9042
    cassandra_storage_port: int = 7000
    cassandra_keyspace: str = "cloud_analytics"
    cassandra_replication_class: str = "SimpleStrategy"
    cassandra_replication_factor: int = 1
    cassandra_datacenter: str = "datacenter1"
    cassandra_local_dc: str = ""
    # Secrets: repr=False keeps them out of any printed Settings.
    cassandra_username: str = field(default="", repr=False)
    cassandra_password: str = field(default="", repr=False)
    astra_secure_bundle: str = ""
    astra_token: str = field(default="", repr=False)
    # Whether the platform may CREATE KEYSPACE when the serving keyspace is missing; None: yes,
    # except with an Astra secure bundle (a managed cluster's role cannot create keyspaces).
    cassandra_create_keyspace: bool | None = None
    # TLS to a self-managed cluster: a CA bundle (PEM) turns it on, with certificate and hostname
    # verification; a client certificate and key (PEM) add mutual TLS.
    cassandra_ssl_ca: str = ""
    cassandra_ssl_cert: str = ""
    cassandra_ssl_key: str = ""
    cassandra_ssl_check_hostname: bool = True
    cassandra_home: Path = REPO_ROOT / ".cassandra"
    cassandra_heap: str = "768m"
    # A JDK 11/17 for the local Cassandra node (CASSANDRA_JAVA_HOME, else JAVA_HOME; empty: search).
    cassandra_java_home: str = ""
    cassandra_start_timeout_s: int = 180
    # A serving load that finds Cassandra unreachable, or loses a node mid-load, retries this
    # many times, this many seconds apart (a node restarting), before its run fails.
    cassandra_retries: int = 3
    cassandra_retry_wait_s: float = 15.0
    # Key of the HMAC that pseudonymizes emails past bronze (see silver/pii.py).
    pii_pepper: str = field(default="", repr=False)
    max_quarantine_rate: float = 0.05
    # EV-05: usage events below this cost increment are quarantined ("quarantine", the
    # specification) or kept as flagged credits ("flag").
    min_cost_increment: float = -0.01
    negative_costs: str = "quarantine"
    # Seconds between evaluations of the file and touched-dates sensors.
    sensor_interval_s: int = 30
    # Whether the sensors start switched on in a new Dagster instance (the UI's switch wins once used).
    sensors_on: bool = True
    # Where new speed-layer alerts are POSTed as JSON (empty: only the run log); its token-bearing
    # URL is a secret. Tries per alert before it is left for the next run.
    alert_webhook: str = field(default="", repr=False)
    alert_webhook_attempts: int = 4
    # Where `cloud-analytics cluster` keeps its servers' pid files, logs and data.
    cluster_home: Path = REPO_ROOT / ".cluster"
    # The object store of an ``s3a://`` lake (ignored for a local lake).
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = field(default="", repr=False)
    s3_secret_key: str = field(default="", repr=False)
    # Variables (without prefix) of secrets that came from the process environment: the
    # resource builder passes those as ``EnvVar`` so Dagster never displays their value.
    secrets_in_environment: frozenset[str] = frozenset()

    @property
    def object_store(self) -> ObjectStore | None:
        """The lake's object store, None for a lake on a local folder."""
        if not is_uri(self.lake):
            return None
        return ObjectStore(self.s3_endpoint, self.s3_region, self.s3_access_key, self.s3_secret_key)


def load_settings(environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Build Settings from ``environ`` (default: os.environ) over an optional ``.env``."""
    env = dict(read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env"))
    process = os.environ if environ is None else environ
    env.update(process)

    raw_lake = _env(env, "LAKE", "./datalake")
    lake: Path | str = raw_lake.rstrip("/") if is_uri(raw_lake) else Path(raw_lake).expanduser().resolve()
    if is_uri(lake) and not lake.startswith("s3a://"):
        raise ValueError(f"{PREFIX}LAKE must be a folder or an s3a://bucket/prefix URI, got {raw_lake!r}")
    # Landing is always a local folder (files land there; the sensors list it): beside a local
    # lake by default, ./datalake/landing for a lake on an object store.
    default_landing = Path("./datalake/landing") if is_uri(lake) else lake / "landing"
    landing = Path(_env(env, "LANDING", str(default_landing))).expanduser().resolve()
    hosts = tuple(h.strip() for h in _env(env, "CASSANDRA_HOSTS", "127.0.0.1").split(",") if h.strip())
    return Settings(
        lake=lake,
        landing=landing,
        jars_dir=Path(_env(env, "JARS_DIR", str(REPO_ROOT / ".jars"))).expanduser().resolve(),
        spark_master=_env(env, "SPARK_MASTER", "local[*]"),
        spark_driver_memory=_env(env, "SPARK_DRIVER_MEMORY", "2g"),
        spark_shuffle_partitions=_env_int(env, "SPARK_SHUFFLE_PARTITIONS", 32),
        spark_extra_conf=_parse_pairs(_env(env, "SPARK_CONF", "")),
        spark_service=_env_choice(env, "SPARK_SERVICE", "auto", SPARK_SERVICE_MODES),
        spark_service_port=_env_int(env, "SPARK_SERVICE_PORT", 15002),
        spark_service_home=Path(_env(env, "SPARK_SERVICE_HOME",
                                     str(REPO_ROOT / ".spark_service"))).expanduser().resolve(),
        spark_service_start_timeout_s=_env_int(env, "SPARK_SERVICE_START_TIMEOUT", 180),
        cassandra_hosts=hosts,
        cassandra_port=_env_int(env, "CASSANDRA_PORT", 9042),
        cassandra_storage_port=_env_int(env, "CASSANDRA_STORAGE_PORT", 7000),
        cassandra_keyspace=_env(env, "CASSANDRA_KEYSPACE", "cloud_analytics"),
        cassandra_replication_class=_env(env, "CASSANDRA_REPLICATION_CLASS", "SimpleStrategy"),
        cassandra_replication_factor=_env_int(env, "CASSANDRA_REPLICATION_FACTOR", 1),
        cassandra_datacenter=_env(env, "CASSANDRA_DATACENTER", "datacenter1"),
        cassandra_local_dc=_env(env, "CASSANDRA_LOCAL_DC", ""),
        cassandra_username=_env(env, "CASSANDRA_USERNAME", ""),
        cassandra_password=_env(env, "CASSANDRA_PASSWORD", ""),
        astra_secure_bundle=_env(env, "ASTRA_SECURE_BUNDLE", ""),
        astra_token=_env(env, "ASTRA_TOKEN", ""),
        cassandra_create_keyspace=_env_bool(env, "CASSANDRA_CREATE_KEYSPACE", None),
        cassandra_ssl_ca=_env(env, "CASSANDRA_SSL_CA", ""),
        cassandra_ssl_cert=_env(env, "CASSANDRA_SSL_CERT", ""),
        cassandra_ssl_key=_env(env, "CASSANDRA_SSL_KEY", ""),
        cassandra_ssl_check_hostname=_env_bool(env, "CASSANDRA_SSL_CHECK_HOSTNAME", True),
        cassandra_home=Path(_env(env, "CASSANDRA_HOME", str(REPO_ROOT / ".cassandra"))).expanduser().resolve(),
        cassandra_heap=_env(env, "CASSANDRA_HEAP", "768m"),
        cassandra_java_home=_env(env, "CASSANDRA_JAVA_HOME", env.get("JAVA_HOME", "").strip()),
        cassandra_start_timeout_s=_env_int(env, "CASSANDRA_START_TIMEOUT", 180),
        cassandra_retries=_env_int(env, "CASSANDRA_RETRIES", 3),
        cassandra_retry_wait_s=_env_float(env, "CASSANDRA_RETRY_WAIT_S", 15.0),
        pii_pepper=_env(env, "PII_PEPPER", _read_local_pepper()),
        max_quarantine_rate=_env_float(env, "MAX_QUARANTINE_RATE", 0.05),
        min_cost_increment=_env_float(env, "MIN_COST_INCREMENT", -0.01),
        negative_costs=_env_choice(env, "NEGATIVE_COSTS", "quarantine", NEGATIVE_COST_ACTIONS),
        sensor_interval_s=_env_int(env, "SENSOR_INTERVAL", 30),
        sensors_on=_env_bool(env, "SENSORS", True),
        alert_webhook=_env(env, "ALERT_WEBHOOK", ""),
        alert_webhook_attempts=_env_int(env, "ALERT_WEBHOOK_ATTEMPTS", 4),
        cluster_home=Path(_env(env, "CLUSTER_HOME", str(REPO_ROOT / ".cluster"))).expanduser().resolve(),
        s3_endpoint=_env(env, "S3_ENDPOINT", ""),
        s3_region=_env(env, "S3_REGION", "us-east-1"),
        s3_access_key=_env(env, "S3_ACCESS_KEY", ""),
        s3_secret_key=_env(env, "S3_SECRET_KEY", ""),
        # Only settings read from the process environment itself may name it for EnvVar: settings
        # built from an explicit mapping carry their secrets as plain values.
        secrets_in_environment=frozenset(
            name for name in SECRETS if environ is None and process.get(PREFIX + name, "").strip()),
    )


def _read_local_pepper() -> str:
    """`make setup` writes a random pepper to .setup/pii_pepper (git-ignored) so a local run
    needs no configuration; production sets CLOUD_ANALYTICS_PII_PEPPER from a secret store."""
    path = REPO_ROOT / ".setup" / "pii_pepper"
    return path.read_text().strip() if path.is_file() else ""
