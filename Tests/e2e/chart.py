"""The beluga-ai chart, installed into the throwaway namespace as `helm template --skip-tests |
kubectl apply` would, except for the agent's own Deployment: its container runs here, as a local process, with
the container's arguments and the credentials of the chart's ServiceAccount, so that the chart's
Role decides what it may do, on the cluster's own RBAC.

The chart is rendered with Helm's library (Tests/python/deploy/helmchart.py, PyPI
helm-python-sdk), with one replica of the server.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from targets import Target

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "deploy"))
from helmchart import containers, render  # noqa: E402  (the chart tests' renderer)

RELEASE = "beluga-ai"
AGENT_DEPLOYMENT = f"{RELEASE}-agent"
AGENT_CONTAINER = "beluga-secrets-agent"
VALUES = {"replicaCount": 1}


@dataclass
class Installed:
    """What was applied, and how the agent's pod would run."""

    objects: list[dict[str, Any]]
    agent_args: list[str]
    service_account: str

    def names(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)


def install(target: Target, namespace: str, folder: Path) -> Installed:
    rendered = render(VALUES, name=RELEASE, namespace=namespace).without_tests()
    agent = rendered.get("Deployment", AGENT_DEPLOYMENT)
    objects = [o for o in rendered.objects if o is not agent]
    manifest = folder / "chart.yaml"
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    target.kubectl("apply", "-n", namespace, "-f", str(manifest))
    container = containers(agent)[AGENT_CONTAINER]
    account = agent["spec"]["template"]["spec"]["serviceAccountName"]
    return Installed(objects, list(container["args"]), account)


def service_account_kubeconfig(target: Target, namespace: str, account: str, folder: Path) -> Path:
    """A kubeconfig with a token for the ServiceAccount (`kubectl create token`, one hour): the
    credentials the agent's pod would have. The private kubeconfig's cluster, CA included."""
    token = target.kubectl("create", "token", account, "-n", namespace, "--duration=1h").stdout.decode().strip()
    config = json.loads(target.kubectl("config", "view", "--flatten", "--minify", "-o", "json").stdout)
    config["users"] = [{"name": account, "user": {"token": token}}]
    config["contexts"] = [{"name": account, "context": {
        "cluster": config["clusters"][0]["name"], "user": account, "namespace": namespace}}]
    config["current-context"] = account
    path = folder / "agent.kubeconfig"
    path.touch(mode=0o600)
    path.write_text(json.dumps(config))
    return path
