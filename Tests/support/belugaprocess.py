"""Starting the in-repo `kube-emulator` and `beluga-secrets agent` as processes: the one copy that
the end-to-end scenarios (Tests/e2e), the chart-on-cluster tests (Tests/python/deploy) and
`make bench` (bench/) share. Each adds this folder to `sys.path` and builds its own fixtures on
these pieces.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Callable


def bin_path(name: str) -> str:
    """A binary built by `swift build` (BELUGA_BIN_DIR is `swift build --show-bin-path`)."""
    return os.path.join(os.environ["BELUGA_BIN_DIR"], name)


def eventually(condition: Callable[[], Any], what: str, timeout: float = 30.0, every: float = 0.05,
               error: type[Exception] = AssertionError) -> Any:
    """Polls `condition` until it returns something true (and returns that); raises `error` naming
    `what` after `timeout` seconds. The one polling loop of the Python tests and the bench."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise error(f"timed out after {timeout:.0f}s waiting until {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment: no KUBECONFIG or configuration of the user's leaks into a child."""
    env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")})
    return env


def private_file(path: Path, text: str) -> Path:
    """Writes `text` to a new file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(text)
    return path


def start_emulator(binary: str, args: list[str], env: dict[str, str],
                   stderr: int | IO[bytes] = subprocess.PIPE) -> tuple[subprocess.Popen, str]:
    """Starts `kube-emulator --port 0 ARGS`; returns the process and the URL it listens on (its
    first line of output), or raises with what it printed."""
    process = subprocess.Popen([binary, "--port", "0", *args], stdout=subprocess.PIPE, stderr=stderr, env=env)
    first = process.stdout.readline().decode()
    if not first.startswith("listening on "):
        process.kill()
        printed = process.stderr.read().decode() if stderr == subprocess.PIPE else ""
        raise RuntimeError(f"kube-emulator did not start: {first}{printed}")
    return process, first.split()[-1]


def stop_process(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM, as Kubernetes ends a pod; SIGKILL after `timeout` seconds (then raises). Returns
    the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"the process did not exit within {timeout:.0f}s of SIGTERM")
    return process.returncode


class AgentProcess:
    """One run of `beluga-secrets agent`: audit records on standard output go to `audit_log` (as a
    container runtime keeps them), the operational log to `log`, health on `health_url`."""

    def __init__(self, process: subprocess.Popen, audit_log: Path, log: Path, health_url: str):
        self.process = process
        self.audit_log = audit_log
        self.log = log
        self.health_url = health_url

    @classmethod
    def launch(cls, argv: list[str], env: dict[str, str], audit_log: Path, log: Path, health_port: int,
               append: bool = False) -> "AgentProcess":
        """Starts `argv` (the agent's command line, its health server on `health_port`); with
        `append`, its output is added to the files (one file across restarts)."""
        mode = "ab" if append else "wb"
        with open(audit_log, mode) as stdout, open(log, mode) as stderr:
            process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env)
        return cls(process, audit_log, log, f"http://127.0.0.1:{health_port}")

    def exited(self) -> bool:
        """Raises when the agent has exited (it should not, by itself)."""
        if self.process.poll() is not None:
            raise AssertionError(f"the agent exited with {self.process.returncode}:\n{self.log.read_text()}")
        return False

    def ready(self) -> str | None:
        """The body of /readyz when it answers 200 (`leading; synced` for a leader), else None."""
        try:
            with urllib.request.urlopen(self.health_url + "/readyz", timeout=2) as answer:
                return answer.read().decode() if answer.status == 200 else None
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    def wait_leading(self, timeout: float = 60, every: float = 0.05) -> None:
        """Waits until /readyz says `leading; synced` (it leads and its first pass is done)."""
        eventually(lambda: self.exited() or (self.ready() or "").startswith("leading; synced"),
                   "the agent leads and has synced", timeout=timeout, every=every)

    def metrics(self) -> str:
        with urllib.request.urlopen(self.health_url + "/metrics", timeout=5) as answer:
            return answer.read().decode()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_log.read_text().splitlines() if line.strip()]

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM: the agent releases its Lease and exits; returns the exit status."""
        return stop_process(self.process, timeout)

    def kill(self) -> None:
        """SIGKILL: a crash, or cleaning up after a failed scenario."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
