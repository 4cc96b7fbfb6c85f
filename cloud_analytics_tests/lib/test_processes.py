"""Pid files, ports and the JDK lookup of the local servers, on a plain child process."""

import socket
import subprocess
import sys

import pytest

from cloud_analytics.lib.processes import LocalProcessError, find_java17, port_open, running_pid, stop_pid

pytestmark = pytest.mark.fast


def test_a_pid_file_names_our_process_only_while_it_lives(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)",
                              "marker-of-the-child"], stdout=subprocess.PIPE, text=True)
    # Until the child has exec'd, its command line is still ours: wait for it to speak.
    assert child.stdout.readline().strip() == "up"
    pid_file = tmp_path / "child.pid"
    pid_file.write_text(str(child.pid))
    try:
        assert running_pid(pid_file, b"marker-of-the-child") == child.pid
        assert running_pid(pid_file, b"CassandraDaemon") is None  # a recycled pid is not ours
    finally:
        stop_pid(child.pid, timeout_s=10)
        child.stdout.close()
    assert running_pid(pid_file, b"marker-of-the-child") is None  # gone, and reaped: no zombie
    assert running_pid(tmp_path / "missing.pid", b"x") is None


def test_port_open_sees_a_listening_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_open("127.0.0.1", port)
    assert not port_open("127.0.0.1", port)


def test_no_suitable_jdk_names_who_needs_it_and_how_to_fix_it(tmp_path):
    class NodeError(LocalProcessError):
        pass

    with pytest.raises(NodeError, match=r"No JDK 8 \(or 9\) found for the thing: .* or set THING_JAVA_HOME\."):
        find_java17(str(tmp_path), needed_by="the thing", hint="set THING_JAVA_HOME", majors=(8, 9), error=NodeError)
