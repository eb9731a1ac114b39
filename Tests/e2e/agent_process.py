"""`beluga-secrets agent` as a local process: the chart's agent container, run outside the
cluster with its ServiceAccount's credentials (docs/agent.md)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from targets import Target, bin_path, eventually

DEBOUNCE = "200ms"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Agent:
    """One run of the agent. Its audit records are appended to `audit_log` (one file across
    restarts, as `kubectl logs` of a pod with its previous container would show them); its
    operational log goes to `log`, one file per run."""

    process: subprocess.Popen
    audit_log: Path
    log: Path
    health_url: str

    @classmethod
    def start(cls, target: Target, kubeconfig: Path, container_args: list[str], identity: str, folder: Path,
              run: int, ready_timeout: float = 60) -> Agent:
        """Starts the agent with the arguments of the chart's container, but its health endpoint
        on a free loopback port and a shorter debounce (the scenarios wait for every rollout)."""
        port = free_port()
        args = [a for a in container_args if not a.startswith(("--health-addr=", "--debounce="))]
        assert args[0] == "agent" and len(args) == len(container_args) - 2, container_args
        args = [bin_path("beluga-secrets"), *args, "--kubeconfig", str(kubeconfig), "--identity", identity,
                f"--health-addr=127.0.0.1:{port}", f"--debounce={DEBOUNCE}"]
        audit_log, log = folder / "agent.audit.log", folder / f"agent.{run}.log"
        with open(audit_log, "ab") as stdout, open(log, "wb") as stderr:
            process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=target.env)
        agent = cls(process, audit_log, log, f"http://127.0.0.1:{port}")
        try:
            # /readyz says `leading; synced` once it leads and its first pass is done.
            eventually(lambda: agent.exited() or (agent.ready() or "").startswith("leading; synced"),
                       "the agent leads and has synced", timeout=ready_timeout)
        except BaseException:
            agent.kill()
            raise
        return agent

    def exited(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the agent exited with {self.process.returncode}:\n{self.log.read_text()}")
        return False

    def ready(self) -> str | None:
        """The body of /readyz when it answers 200, else None."""
        try:
            with urllib.request.urlopen(self.health_url + "/readyz", timeout=2) as answer:
                return answer.read().decode() if answer.status == 200 else None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def metrics(self) -> str:
        with urllib.request.urlopen(self.health_url + "/metrics", timeout=5) as answer:
            return answer.read().decode()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_log.read_text().splitlines() if line.strip()]

    def stop(self) -> int:
        """SIGTERM, as Kubernetes ends a pod; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("the agent did not exit within 30s of SIGTERM")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, or cleaning up after a failed scenario."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
