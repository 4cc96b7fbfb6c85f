"""Servers the platform runs as local processes of their own (the Cassandra node, the Spark
service): found again through a pid file, ready when their log says so and their port answers,
stopped with SIGTERM, and the JDK 17 they run on.

``LocalServer`` holds what starting, waiting for and stopping one has in common; a server class
says what it is (its class attributes) and how it is launched (``launch``).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import ClassVar, Iterable


class LocalProcessError(RuntimeError):
    """A local server cannot start or stop; the message says why and where to look."""


def running_pid(pid_file: Path, marker: bytes) -> int | None:
    """The pid in ``pid_file`` if that process is alive and its command line holds ``marker``,
    else None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie (empty command line) or a recycled pid is not our server.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if marker in cmdline else None


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def log_tail(paths: Iterable[Path], lines: int = 15) -> str:
    """The last lines of each existing log, each under a header naming its file."""
    paths = list(dict.fromkeys(paths))
    parts = []
    for path in paths:
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- last lines of {path} ---\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no log in {paths[0].parent})"


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap our own child so it does not linger as a zombie
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def stop_pid(pid: int, timeout_s: float = 60.0, kill: bool = False) -> None:
    """Stop a process (SIGTERM, or SIGKILL with kill=True) and wait until it is gone; SIGKILL
    when it outlives ``timeout_s``."""
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.3)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    for token in out.split('"')[1:2]:
        head = token.split(".")[0]
        return int(head) if head.isdigit() else None
    return None


def find_java17(java_home: str = "", *, needed_by: str, hint: str, majors: tuple[int, ...] = (17,),
                error: type[Exception] = LocalProcessError) -> str:
    """The java binary of a JDK whose major version is in ``majors`` (the given home first, then
    the machine's JDKs, then ``java`` on the PATH), else ``error`` saying what ``needed_by``
    needs and how to provide it (``hint``)."""
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    for major in majors:
        candidates += sorted(glob.glob(f"/usr/lib/jvm/*{major}*/bin/java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    for java in candidates:
        if os.path.exists(java) and _java_major(java) in majors:
            return java
    wanted = f"{majors[0]}" + "".join(f" (or {m})" for m in majors[1:])
    raise error(f"No JDK {wanted} found for {needed_by}: install openjdk-17-jdk-headless "
                f"(`make setup` does) or {hint}.")


class LocalServer:
    """One server process of the platform's, started in a session of its own so it outlives
    the command that started it.

    Subclasses are frozen dataclasses with ``home``, ``address`` and ``port`` fields.
    """

    label: ClassVar[str]  # how messages name it: "Cassandra"
    description: ClassVar[str]  # what start-up announces: "Cassandra 5.0"
    protocol: ClassVar[str]  # what it serves once ready: "CQL"
    cmdline_marker: ClassVar[bytes]  # in the command line of its process, whatever the stage
    ready_marker: ClassVar[str]
    failure_markers: ClassVar[tuple[str, ...]] = ()
    port_setting: ClassVar[str]
    timeout_setting: ClassVar[str]
    error: ClassVar[type[LocalProcessError]] = LocalProcessError
    # Inside ``home``: the pid file, the log the markers are looked for in, and where the
    # process's stdout and stderr go (appended).
    pid_name: ClassVar[str]
    log_name: ClassVar[str]
    output_name: ClassVar[str]

    home: Path
    address: str
    port: int

    @property
    def pid_file(self) -> Path:
        return self.home / self.pid_name

    @property
    def log_file(self) -> Path:
        return self.home / self.log_name

    @property
    def output_file(self) -> Path:
        return self.home / self.output_name

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    def launch(self) -> tuple[list[str], dict[str, str]]:
        """The command that starts the server and the variables it needs on top of this
        process's environment; raises ``error`` when something it needs is missing."""
        raise NotImplementedError

    def run_as(self) -> str | None:
        """The user the process runs as (None: the current one); a server that refuses to run
        as root (PostgreSQL) names its own."""
        return None

    # -- state -----------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of our server's process if it is alive, else None."""
        return running_pid(self.pid_file, self.cmdline_marker)

    def port_open(self) -> bool:
        return port_open(self.address, self.port)

    def is_running(self) -> bool:
        return self.pid() is not None and self.port_open()

    def status(self) -> str:
        pid = self.pid()
        if pid and self.port_open():
            return f"running (pid {pid}) on {self.endpoint}, home {self.home}"
        if pid:
            return f"starting (pid {pid}), not yet serving {self.protocol} on {self.endpoint}"
        if self.port_open():
            return f"not running here, but {self.endpoint} is served by another process"
        return f"stopped ({self.endpoint} free)"

    # -- start -----------------------------------------------------------------

    def start(self, timeout_s: float = 180.0, log=print) -> bool:
        """Start the server and wait until it serves. Returns False if it already ran."""
        if self.is_running():
            log(f"{self.label} already running on {self.endpoint} (pid {self.pid()}): nothing to do.")
            return False
        if self.pid() is None and self.port_open():
            raise self.error(
                f"Port {self.endpoint} is already taken by another process; stop it or set "
                f"{self.port_setting} to a free port."
            )
        cmd, env_vars = self.launch()
        self.log_file.unlink(missing_ok=True)
        self.output_file.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.output_file, "ab")
        started = time.monotonic()
        user = self.run_as()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.home, env={**os.environ, **env_vars},
                                user=user, group=user, extra_groups=[] if user else None)
        out.close()
        self.pid_file.write_text(str(proc.pid))
        log(f"Starting {self.description} on {self.endpoint} (pid {proc.pid}, logs in {self.log_file.parent})")
        self._wait_ready(proc, started, timeout_s)
        log(f"{self.label} ready on {self.endpoint} after {time.monotonic() - started:.1f} s")
        return True

    def _wait_ready(self, proc: subprocess.Popen, started: float, timeout_s: float) -> None:
        while time.monotonic() - started < timeout_s:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise self.error(
                    f"{self.label} on {self.endpoint} exited with code {proc.returncode} during "
                    f"start-up.\n{self._log_tail()}"
                )
            text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            for marker in self.failure_markers:
                if marker in text:
                    self.stop(log=lambda _msg: None)
                    raise self.error(
                        f"{self.label} on {self.endpoint} failed to start ({marker}).\n{self._log_tail()}"
                    )
            if self.ready_marker in text and self.port_open():
                return
            time.sleep(0.5)
        self.stop(log=lambda _msg: None)
        raise self.error(
            f"{self.label} on {self.endpoint} did not serve {self.protocol} within {timeout_s:.0f} s "
            f"({self.timeout_setting}).\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        return log_tail((self.log_file, self.output_file), lines)

    # -- stop ------------------------------------------------------------------

    def stop(self, timeout_s: float = 60.0, kill: bool = False, log=print) -> bool:
        """Stop the server (SIGTERM, or SIGKILL with kill=True). Returns False if not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            log(f"{self.label} on {self.endpoint} is not running: nothing to stop.")
            return False
        stop_pid(pid, timeout_s, kill)
        self.pid_file.unlink(missing_ok=True)
        log(f"{self.label} on {self.endpoint} stopped (pid {pid}).")
        return True
