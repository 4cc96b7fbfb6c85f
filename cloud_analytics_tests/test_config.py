from pathlib import Path

import pytest

from cloud_analytics.config import load_settings, read_dotenv


def test_defaults_are_local(tmp_path):
    s = load_settings(environ={}, dotenv=tmp_path / "none")
    assert s.lake == (Path.cwd() / "datalake").resolve()
    assert s.landing == s.lake / "landing"
    assert s.spark_master == "local[*]"
    assert s.cassandra_hosts == ("127.0.0.1",)
    assert s.cassandra_port == 9042
    assert s.cassandra_keyspace == "cloud_analytics"


def test_environment_overrides_and_landing_follows_lake(tmp_path):
    s = load_settings(
        environ={
            "CLOUD_ANALYTICS_LAKE": str(tmp_path / "lake2"),
            "CLOUD_ANALYTICS_CASSANDRA_HOSTS": "10.0.0.1, 10.0.0.2",
            "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": "other",
            "CLOUD_ANALYTICS_SPARK_MASTER": "spark://m:7077",
            "CLOUD_ANALYTICS_SPARK_SHUFFLE_PARTITIONS": "16",
            "CLOUD_ANALYTICS_SPARK_CONF": "spark.a=1; spark.b=x=y",
        },
        dotenv=tmp_path / "none",
    )
    assert s.landing == tmp_path / "lake2" / "landing"
    assert s.cassandra_hosts == ("10.0.0.1", "10.0.0.2")
    assert s.cassandra_keyspace == "other"
    assert s.spark_master == "spark://m:7077"
    assert s.spark_shuffle_partitions == 16
    assert s.spark_extra_conf == (("spark.a", "1"), ("spark.b", "x=y"))


def test_dotenv_is_read_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nexport CLOUD_ANALYTICS_CASSANDRA_KEYSPACE='from_file'\n"
        'CLOUD_ANALYTICS_CASSANDRA_PORT="9999"\n\n'
    )
    assert read_dotenv(dotenv)["CLOUD_ANALYTICS_CASSANDRA_KEYSPACE"] == "from_file"
    s = load_settings(environ={"CLOUD_ANALYTICS_CASSANDRA_PORT": "9043"}, dotenv=dotenv)
    assert s.cassandra_keyspace == "from_file"
    assert s.cassandra_port == 9043


def test_bad_integer_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="CLOUD_ANALYTICS_CASSANDRA_PORT"):
        load_settings(environ={"CLOUD_ANALYTICS_CASSANDRA_PORT": "abc"}, dotenv=tmp_path / "none")


def test_secrets_stay_out_of_repr(tmp_path):
    s = load_settings(
        environ={"CLOUD_ANALYTICS_CASSANDRA_PASSWORD": "hunter2", "CLOUD_ANALYTICS_ASTRA_TOKEN": "AstraCS:tok"},
        dotenv=tmp_path / "none",
    )
    assert s.cassandra_password == "hunter2"
    assert "hunter2" not in repr(s) and "AstraCS" not in repr(s)


def test_only_secrets_read_from_the_process_environment_become_env_vars(monkeypatch):
    """An EnvVar resolves from os.environ, so settings built from an explicit mapping (a second
    lake in the same process) must keep their own secret values, never point at the process's."""
    from cloud_analytics.config import load_settings

    monkeypatch.setenv("CLOUD_ANALYTICS_PII_PEPPER", "process-pepper-0123456789")
    assert "PII_PEPPER" in load_settings().secrets_in_environment
    other = load_settings({"CLOUD_ANALYTICS_PII_PEPPER": "other-lake-pepper-0123456789"})
    assert other.secrets_in_environment == frozenset() and other.pii_pepper == "other-lake-pepper-0123456789"


@pytest.mark.fast
def test_spark_service_settings_default_to_auto_on_15002(tmp_path):
    from cloud_analytics.config import REPO_ROOT

    s = load_settings(environ={}, dotenv=tmp_path / "none")
    assert (s.spark_service, s.spark_service_port, s.spark_service_start_timeout_s) == ("auto", 15002, 180)
    assert s.spark_service_home == REPO_ROOT / ".spark_service"
    s = load_settings(environ={"CLOUD_ANALYTICS_SPARK_SERVICE": " Require ", "CLOUD_ANALYTICS_SPARK_SERVICE_PORT": "15003",
                               "CLOUD_ANALYTICS_SPARK_SERVICE_HOME": str(tmp_path / "svc"),
                               "CLOUD_ANALYTICS_SPARK_SERVICE_START_TIMEOUT": "60"}, dotenv=tmp_path / "none")
    assert (s.spark_service, s.spark_service_port, s.spark_service_start_timeout_s) == ("require", 15003, 60)
    assert s.spark_service_home == tmp_path / "svc"


@pytest.mark.fast
def test_unknown_spark_service_mode_names_the_variable_and_the_modes(tmp_path):
    with pytest.raises(ValueError, match=r"CLOUD_ANALYTICS_SPARK_SERVICE must be one of auto, off, require, got 'on'"):
        load_settings(environ={"CLOUD_ANALYTICS_SPARK_SERVICE": "on"}, dotenv=tmp_path / "none")


def test_the_ev05_policy_comes_from_settings_through_the_quality_resource(tmp_path):
    from cloud_analytics.definitions import build_resources
    from cloud_analytics.quality.model import Policy

    default = load_settings(environ={}, dotenv=tmp_path / "none")
    assert Policy.of(default) == Policy(min_cost_increment=-0.01, negative_costs="quarantine")
    chosen = load_settings(environ={"CLOUD_ANALYTICS_MIN_COST_INCREMENT": "-5",
                                    "CLOUD_ANALYTICS_NEGATIVE_COSTS": "FLAG"}, dotenv=tmp_path / "none")
    assert Policy.of(build_resources(chosen)["quality"]) == Policy(min_cost_increment=-5.0, negative_costs="flag")
    with pytest.raises(ValueError, match="CLOUD_ANALYTICS_MIN_COST_INCREMENT must be a number, got 'abc'"):
        load_settings(environ={"CLOUD_ANALYTICS_MIN_COST_INCREMENT": "abc"}, dotenv=tmp_path / "none")
    with pytest.raises(ValueError, match="CLOUD_ANALYTICS_NEGATIVE_COSTS must be one of quarantine, flag"):
        load_settings(environ={"CLOUD_ANALYTICS_NEGATIVE_COSTS": "drop"}, dotenv=tmp_path / "none")
