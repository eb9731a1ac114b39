"""`beluga-secrets agent` as a local process: the chart's agent container, run outside the
cluster with its ServiceAccount's credentials (docs/agent.md)."""

from __future__ import annotations

from pathlib import Path

from belugaprocess import AgentProcess, free_port
from targets import Target, bin_path

DEBOUNCE = "200ms"


class Agent(AgentProcess):
    """One run of the agent. Its audit records are appended to `audit_log` (one file across
    restarts, as `kubectl logs` of a pod with its previous container would show them); its
    operational log goes to `log`, one file per run."""

    @classmethod
    def start(cls, target: Target, kubeconfig: Path, container_args: list[str], identity: str, folder: Path,
              run: int, ready_timeout: float = 60) -> Agent:
        """Starts the agent with the arguments of the chart's container, but its health endpoint
        on a free loopback port and a shorter debounce (the scenarios wait for every rollout)."""
        port = free_port()
        args = [a for a in container_args if not a.startswith(("--health-addr=", "--debounce="))]
        assert args[0] == "agent" and len(args) == len(container_args) - 2, container_args
        argv = [bin_path("beluga-secrets"), *args, "--kubeconfig", str(kubeconfig), "--identity", identity,
                f"--health-addr=127.0.0.1:{port}", f"--debounce={DEBOUNCE}"]
        agent = cls.launch(argv, target.env, folder / "agent.audit.log", folder / f"agent.{run}.log", port,
                           append=True)
        try:
            agent.wait_leading(timeout=ready_timeout, every=0.25)
        except BaseException:
            agent.kill()
            raise
        return agent
