"""Fixtures of the end-to-end scenarios (docs/e2e.md): one cluster, one throwaway namespace and
one agent for the whole run, which the scenarios in test_e2e.py use in order, as an operator
would, step by step.

The namespace is deleted at the end whatever happens: after a failure, on Ctrl-C, and on SIGTERM
or SIGHUP (turned into KeyboardInterrupt so that pytest runs the teardown).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

# The process fixtures shared with Tests/python and bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

from agent_process import Agent  # noqa: E402
from chart import Installed, install, service_account_kubeconfig
from leaks import Markers
from targets import Namespace, Target, bin_path, eventually, outside_requests

RELEASE = "beluga-ai"
SECRET = f"{RELEASE}-secrets"
CONFIG_MAP = f"{RELEASE}-config"
DEPLOYMENT = RELEASE
# How long to watch for a second, unwanted rollout after the one a change caused: several
# debounce windows, so that a duplicate patch would have landed.
SETTLE_SECONDS = 0.75


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass
class Deployment:
    """What kubectl shows of the Deployment: what the agent patched and what the controller did."""

    generation: int
    observed_generation: int
    revision: int
    content_hash: str | None
    # The label (63 hex digits) the agent records when it first sees no hash: no rollout.
    recorded_hash: str | None

    @classmethod
    def parse(cls, obj: dict[str, Any]) -> Deployment:
        metadata = obj["metadata"]
        template = obj["spec"]["template"]["metadata"].get("annotations") or {}
        return cls(metadata.get("generation", 0), obj.get("status", {}).get("observedGeneration", 0),
                   int((metadata.get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")),
                   template.get("beluga-ai.io/content-hash"),
                   (metadata.get("labels") or {}).get("beluga-ai.io/content-hash"))


@dataclass
class Story:
    """The state the scenarios share: the cluster, the namespace, the agent, the markers, and
    what the audit trail must show by the end."""

    target: Target
    namespace: Namespace
    folder: Path
    markers: Markers
    identity: str
    chart: Installed | None = None
    agent_kubeconfig: Path | None = None
    agent: Agent | None = None
    agent_runs: int = 0
    # (event, key, version) of every record but rollouts, in order.
    expected_changes: list[tuple[str, str, int]] = field(default_factory=list)
    expected_rollouts: int = 0
    # The value each key should have in the Secret (markers; never printed).
    values: dict[str, str] = field(default_factory=dict)

    @property
    def ns(self) -> str:
        return self.namespace.name

    # kubectl, the independent client

    def kubectl(self, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = self.target.kubectl(*args, "-n", self.ns, stdin=stdin, check=check)
        self.markers.capture(f"kubectl {' '.join(args)}", result.stdout + result.stderr)
        return result

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        result = self.kubectl("get", kind, name, "-o", "json", "--ignore-not-found")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def secret_data(self) -> dict[str, bytes] | None:
        """The Secret's data (None when there is no Secret), decoded here; not captured, since
        the Secret is where values belong."""
        result = self.target.kubectl("get", "secret", SECRET, "-n", self.ns, "-o", "json", "--ignore-not-found")
        if not result.stdout.strip():
            return None
        return {key: base64.b64decode(value) for key, value in (json.loads(result.stdout).get("data") or {}).items()}

    def deployment(self) -> Deployment:
        obj = self.get("deployment", DEPLOYMENT)
        assert obj is not None, f"deployment {DEPLOYMENT} is gone"
        return Deployment.parse(obj)

    # the CLI

    def cli(self, *args: str, stdin: bytes = b"", expect: int = 0, cluster: bool = True) -> str:
        """`beluga-secrets ARGS --kubeconfig … -n NS` (without those two for a command that does
        not talk to the cluster); returns standard output."""
        argv = [bin_path("beluga-secrets"), *args]
        if cluster:
            argv += ["--kubeconfig", str(self.target.kubeconfig), "-n", self.ns]
        assert not [m for m in self.markers.values if any(m in a for a in argv)], "a value in argv"
        result = subprocess.run(argv, input=stdin, capture_output=True, env=self.target.env, timeout=120,
                                check=False)
        self.markers.capture(f"beluga-secrets {args[0]} output", result.stdout + result.stderr)
        assert result.returncode == expect, (
            f"beluga-secrets {' '.join(args)} exited {result.returncode} (expected {expect}): "
            f"{result.stderr.decode().strip()}")
        return result.stdout.decode()

    def value_file(self, value: str) -> Path:
        """A 0600 file holding `value`, as `--from-file` reads it."""
        path = self.folder / f"value-{len(self.markers.values)}"
        path.touch(mode=0o600)
        path.write_text(value)
        return path

    # the agent

    def start_agent(self) -> Agent:
        self.agent_runs += 1
        assert self.chart is not None and self.agent_kubeconfig is not None
        self.agent = Agent.start(self.target, self.agent_kubeconfig, self.chart.agent_args, self.identity,
                                 self.folder, self.agent_runs)
        return self.agent

    def stop_agent(self) -> int:
        assert self.agent is not None
        status = self.agent.stop()
        self.markers.capture(f"agent log, run {self.agent_runs}", self.agent.log.read_text())
        self.agent = None
        return status

    def crash_agent(self) -> None:
        """SIGKILL: no pass finished, no Lease released."""
        assert self.agent is not None
        self.agent.kill()
        self.markers.capture(f"agent log, run {self.agent_runs}", self.agent.log.read_text())
        self.agent = None

    # outcomes

    def await_one_rollout(self, before: Deployment, why: str) -> Deployment:
        """Waits for the agent's (or the CLI's) single patch of the content hash after a change,
        checks that no second one follows, and that the Deployment controller took it up: a new
        revision and an observed generation that caught up. Pods becoming ready is not awaited:
        on a cluster that cannot run the image they never do, and that is not this tool's doing."""
        after = eventually(lambda: (d := self.deployment()).content_hash != before.content_hash and d,
                           f"the Deployment's content hash changes after {why}")
        time.sleep(SETTLE_SECONDS)
        after = self.deployment()
        assert after.generation == before.generation + 1, (
            f"after {why}: generation {before.generation} → {after.generation}, expected one rollout")
        controlled = eventually(
            lambda: (d := self.deployment()).observed_generation >= d.generation and d.revision > before.revision
            and d, f"the Deployment controller observes the new pod template after {why}")
        assert controlled.revision == before.revision + 1, f"after {why}: revision {before.revision} → " \
            f"{controlled.revision}"
        self.expected_rollouts += 1
        return controlled

    def assert_no_rollout(self, before: Deployment, why: str) -> None:
        time.sleep(SETTLE_SECONDS)
        after = self.deployment()
        assert (after.generation, after.content_hash) == (before.generation, before.content_hash), \
            f"{why} restarted the Deployment ({before.content_hash} → {after.content_hash})"


@pytest.fixture(scope="session")
def story() -> Iterator[Story]:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    with tempfile.TemporaryDirectory(prefix="beluga-e2e-") as name:
        folder = Path(name)
        folder.chmod(0o700)
        target = Target.open(folder)
        namespace = Namespace(target)
        story = Story(target, namespace, folder, Markers(), identity=f"e2e-agent-{namespace.name[-8:]}")
        print(f"\ne2e: {target.description}, namespace {namespace.name}", file=sys.stderr)
        created = False
        try:
            target.point_default_namespace_at(f"{namespace.name}-unset")
            namespace.create()
            created = True
            story.chart = install(target, namespace.name, folder)
            story.agent_kubeconfig = service_account_kubeconfig(target, namespace.name, story.chart.service_account,
                                                                folder)
            yield story
        finally:
            problems = []
            if story.agent is not None:
                story.agent.kill()
            if created:
                warning = namespace.delete(timeout=float(os.environ.get("E2E_DELETE_TIMEOUT", "60")))
                if warning:
                    print(f"e2e: {warning}", file=sys.stderr)
                counts = target.requests_since_start()
                if counts is not None:
                    problems = outside_requests(counts, namespace.name, f"{namespace.name}-unset")
            target.close()
            assert not problems, "requests outside the namespace:\n" + "\n".join(problems)

