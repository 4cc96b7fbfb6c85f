"""Cluster mode's configuration without starting anything (first tier): an s3a:// lake in the
settings and in Spark's confs, the lake's files on a local folder, and the variables of
``cloud-analytics cluster env``."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cloud_analytics.cluster.control import Cluster
from cloud_analytics.cluster.layout import ClusterLayout
from cloud_analytics.config import load_settings
from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.resources.spark import SparkOptions, SparkSetupError, spark_conf

pytestmark = pytest.mark.fast

S3_ENV = {
    "CLOUD_ANALYTICS_LAKE": "s3a://bucket/lake/",
    "CLOUD_ANALYTICS_S3_ENDPOINT": "http://127.0.0.1:18333",
    "CLOUD_ANALYTICS_S3_ACCESS_KEY": "AK",
    "CLOUD_ANALYTICS_S3_SECRET_KEY": "SK",
}


def test_an_s3a_lake_stays_a_uri_and_landing_stays_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ=S3_ENV, dotenv=tmp_path / "none")
    assert settings.lake == "s3a://bucket/lake"
    assert settings.landing == tmp_path / "datalake" / "landing"
    store = settings.object_store
    assert (store.endpoint, store.region, store.access_key, store.secret_key) == \
        ("http://127.0.0.1:18333", "us-east-1", "AK", "SK")
    assert "SK" not in repr(settings) and "SK" not in repr(store)
    assert load_settings(environ={}, dotenv=tmp_path / "none").object_store is None


def test_a_lake_uri_of_another_scheme_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="CLOUD_ANALYTICS_LAKE must be a folder or an s3a://"):
        load_settings(environ={"CLOUD_ANALYTICS_LAKE": "gs://bucket/lake"}, dotenv=tmp_path / "none")


def _jars(root: Path, s3: bool) -> Path:
    (root / "delta").mkdir(parents=True)
    (root / "delta" / "delta-spark_4.2_2.13-4.4.0.jar").touch()
    if s3:
        (root / "s3").mkdir()
        for name in ("hadoop-aws-3.5.0.jar", "bundle-2.35.4.jar"):
            (root / "s3" / name).touch()
    return root


def test_spark_gets_the_s3a_connector_and_confs_only_for_a_lake_on_an_object_store(tmp_path):
    store = load_settings(environ=S3_ENV, dotenv=tmp_path / "none").object_store
    jars = _jars(tmp_path / "jars", s3=True)
    conf = spark_conf(SparkOptions(jars_dir=jars, object_store=store))
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:18333"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith("SimpleAWSCredentialsProvider")
    assert conf["spark.delta.logStore.s3a.impl"] == "io.delta.storage.S3SingleDriverLogStore"
    assert conf["spark.executorEnv.AWS_EC2_METADATA_DISABLED"] == "true"
    assert "-Daws.disableEc2Metadata=true" in conf["spark.executor.extraJavaOptions"]
    assert sorted(Path(j).name for j in conf["spark.jars"].split(",")) == \
        ["bundle-2.35.4.jar", "delta-spark_4.2_2.13-4.4.0.jar", "hadoop-aws-3.5.0.jar"]
    local = spark_conf(SparkOptions(jars_dir=jars))
    assert not any(key.startswith("spark.hadoop.fs.s3a") for key in local)
    assert local["spark.jars"].count(",") == 0


def test_a_lake_on_an_object_store_without_the_connector_says_which_step_resolves_it(tmp_path):
    store = load_settings(environ=S3_ENV, dotenv=tmp_path / "none").object_store
    with pytest.raises(SparkSetupError, match=r"scripts/setup.sh cluster"):
        spark_conf(SparkOptions(jars_dir=_jars(tmp_path / "jars", s3=False), object_store=store))


def test_a_driver_on_a_local_standalone_master_binds_to_loopback(tmp_path):
    conf = spark_conf(SparkOptions(master="spark://127.0.0.1:17077", jars_dir=_jars(tmp_path / "jars", s3=False)))
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"


def test_lake_files_on_a_local_folder(tmp_path):
    root = tmp_path / "lake"
    for layer, name in (("silver", "a"), ("silver", "b"), ("gold", "c")):
        (root / layer / name / "_delta_log").mkdir(parents=True)
        (root / layer / name / "part-0.parquet").touch()
    (root / "silver" / "not_a_table").mkdir()
    (root / "silver" / "a" / "_delta_log" / "00.checkpoint.parquet").touch()  # the log's: not data
    files = LakeFiles(str(root))
    assert files.tables("silver") == ["a", "b"]
    assert files.tables("speed") == []
    assert files.data_files(str(root / "silver" / "a")) == 1
    marker = f"{root}/_checkpoints/x/_cloud_analytics_id"
    assert not files.is_file(marker)
    files.write_text(marker, "abc")
    assert files.read_text(marker) == "abc" and files.is_file(marker)


def test_cluster_env_points_every_part_at_the_cluster_with_keys_generated_once(tmp_path):
    base = load_settings(environ={"CLOUD_ANALYTICS_LANDING": str(tmp_path / "landing")}, dotenv=tmp_path / "none")
    layout = ClusterLayout(home=tmp_path / "cluster")
    env = layout.environment(base)
    assert env == ClusterLayout(home=tmp_path / "cluster").environment(base)  # the same keys again
    assert stat.S_IMODE(layout.credentials_file.stat().st_mode) == 0o600
    assert env["CLOUD_ANALYTICS_LAKE"] == "s3a://cloud-analytics/lake"
    assert env["CLOUD_ANALYTICS_SPARK_SERVICE"] == "require"
    assert env["DAGSTER_HOME"] == str(tmp_path / "cluster" / "dagster_home")
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["CLOUD_ANALYTICS_LANDING"] == str(tmp_path / "landing")  # the user's, made absolute
    cluster = Cluster(layout, base)
    settings = cluster.settings
    assert settings.cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    assert settings.cassandra_replication_factor == 3
    assert settings.spark_master == "spark://127.0.0.1:17077"
    assert dict(settings.spark_extra_conf)["spark.cores.max"] == "2"
    assert settings.object_store.access_key == env["CLOUD_ANALYTICS_S3_ACCESS_KEY"]
    assert cluster.spark_service.url == "sc://127.0.0.1:15102"
    assert [node.address for node in cluster.cassandra_nodes] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert len({node.initial_token for node in cluster.cassandra_nodes}) == 3
    # Keys given in the environment are the object store's instead of generated ones.
    given = load_settings(environ={"CLOUD_ANALYTICS_S3_ACCESS_KEY": "mine", "CLOUD_ANALYTICS_S3_SECRET_KEY": "s"},
                          dotenv=tmp_path / "none")
    assert layout.environment(given)["CLOUD_ANALYTICS_S3_ACCESS_KEY"] == "mine"
