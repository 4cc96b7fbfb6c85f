"""What a failed step tells the user when its failure stopped the Spark driver: the follow-on
error Spark reports names neither memory nor the setting to change, so the runner adds both."""

import pytest

from cloud_analytics.orchestration.runner import stopped_driver_hint

pytestmark = pytest.mark.fast


class _Driver:
    """The two answers the runner asks a SparkContext for (is it stopped, its driver memory)."""

    def __init__(self, stopped: bool, memory: str = "2g"):
        self._stopped, self._memory = stopped, memory
        self._jsc = self

    def sc(self):
        return self

    def isStopped(self):  # noqa: N802 (the JVM method's name)
        return self._stopped

    def getConf(self):  # noqa: N802
        return {"spark.driver.memory": self._memory}


def test_a_stopped_driver_names_memory_and_the_setting():
    hint = stopped_driver_hint(_Driver(stopped=True, memory="3g"))
    assert "ran out of memory" in hint and "CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY (now 3g)" in hint


def test_a_running_driver_adds_nothing():
    assert stopped_driver_hint(_Driver(stopped=False)) == ""
