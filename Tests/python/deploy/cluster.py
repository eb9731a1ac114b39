"""A `kube-emulator` process with the chart in it, and the agent run as the chart's ServiceAccount.

The tests in this folder that need a cluster use these pieces: the emulator (HTTPS, so that
bearer tokens are sent and checked as on a real cluster), the installed kubectl as the operator's
client, a kubeconfig for the chart's ServiceAccount with a token the emulator issued
(`kubectl create token`), so that the chart's Role and RoleBinding, applied into the emulator and
enforced there, decide what the agent may do, and `beluga-secrets agent` started with exactly the
arguments of the rendered agent container.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from belugaprocess import AgentProcess as BaseAgentProcess
from belugaprocess import base_env, bin_path, eventually, free_port, start_emulator, stop_process  # noqa: F401
from helmchart import Rendered, containers

AGENT_CONTAINER = "beluga-secrets-agent"
AGENT_COMPONENT = "app.kubernetes.io/component=secrets-agent"


class Emulator:
    """`kube-emulator --tls` in a private folder; kubectl runs against it as the admin."""

    def __init__(self, folder: Path, *extra: str):
        """`extra`: more flags, e.g. `--time-scale 60` for kubelet back-offs and progress deadlines
        60 times faster than real time."""
        self.folder = folder
        self.kubeconfig = folder / "admin.kubeconfig"
        self.env = base_env(folder)
        self.process, self.url = start_emulator(
            bin_path("kube-emulator"),
            ["--tls", "--kubeconfig-out", str(self.kubeconfig), "--rollout-delay", "50ms", *extra], self.env)
        assert self.url.startswith("https://"), self.url
        eventually(self.kubeconfig.exists, "the emulator writes its kubeconfig")

    def stop(self) -> None:
        assert stop_process(self.process, timeout=20) == 0

    def kubectl(self, *args: str, stdin: bytes | None = None, kubeconfig: Path | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
        env = dict(self.env, KUBECONFIG=str(kubeconfig or self.kubeconfig))
        result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, env=env, timeout=60,
                                check=False)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr.decode()}"
        return result

    def get(self, kind: str, name: str, namespace: str, managed_fields: bool = False) -> dict[str, Any] | None:
        extra = ["--show-managed-fields"] if managed_fields else []
        result = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", *extra, check=False)
        if result.returncode != 0:
            assert b"NotFound" in result.stderr, result.stderr.decode()
            return None
        return json.loads(result.stdout)

    def apply(self, rendered: Rendered, namespace: str) -> dict[str, Any]:
        """`kubectl apply -f` of every rendered object, as a user applies `helm template` output;
        returns the live objects (`kubectl get -f`, one List)."""
        manifest = self.folder / f"rendered-{namespace}.yaml"
        manifest.write_text(yaml.safe_dump_all(rendered.objects, sort_keys=False))
        self.kubectl("apply", "-f", str(manifest))
        return json.loads(self.kubectl("get", "-f", str(manifest), "-o", "json").stdout)

    def requests(self) -> list[dict[str, Any]]:
        """The emulator's request accounting: verb, resource, name, user and status codes."""
        return json.loads(self.kubectl("get", "--raw", "/_emulator/requests").stdout)

    def rollouts(self, namespace: str, deployment: str) -> int:
        path = f"/_emulator/rollouts?namespace={namespace}&name={deployment}"
        return json.loads(self.kubectl("get", "--raw", path).stdout)["rollouts"]

    def attach_pod_log(self, namespace: str, pod: str, container: str, path: Path) -> None:
        """Serve `kubectl logs` of that pod's container from a file (the emulator runs no pods)."""
        body = json.dumps({"namespace": namespace, "pod": pod, "container": container, "path": str(path)})
        self.kubectl("create", "--raw", "/_emulator/podlogs", "-f", "-", stdin=body.encode())

    def service_account_kubeconfig(self, namespace: str, account: str) -> Path:
        """A kubeconfig with a token issued for the ServiceAccount (`kubectl create token`), the
        credentials the agent's pod would get."""
        token = self.kubectl("create", "token", account, "-n", namespace).stdout.decode().strip()
        config = yaml.safe_load(self.kubeconfig.read_text())
        config["users"] = [{"name": account, "user": {"token": token}}]
        config["contexts"] = [{"name": account, "context": {
            "cluster": config["clusters"][0]["name"], "user": account, "namespace": namespace}}]
        config["current-context"] = account
        path = self.folder / f"{namespace}-{account}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path


class AgentProcess(BaseAgentProcess):
    """`beluga-secrets agent` started with the arguments of a rendered container."""

    args: list[str]
    identity: str

    @classmethod
    def start(cls, container: dict[str, Any], kubeconfig: Path, identity: str, folder: Path) -> AgentProcess:
        args = list(container["args"])
        health = next(a for a in args if a.startswith("--health-addr="))
        port = int(health.rsplit(":", 1)[1])
        env = base_env(folder)
        # What the pod would have: the ServiceAccount's credentials and POD_NAME from the downward API.
        env.update({"KUBECONFIG": str(kubeconfig), "POD_NAME": identity})
        assert [e["name"] for e in container["env"]] == ["POD_NAME"]
        agent = cls.launch([bin_path("beluga-secrets"), *args], env, folder / f"{identity}.audit.log",
                           folder / f"{identity}.stderr.log", port)
        agent.args, agent.identity = args, identity
        # Ready first as a standby, then (the only replica) as the leader once its first sync is
        # done; in between it is not ready.
        agent.wait_leading(timeout=30)
        return agent

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as Kubernetes ends a pod: the agent releases its Lease and exits 0."""
        status = super().stop(timeout)
        assert status == 0, self.log.read_text()
        return status


def agent_container(rendered: Rendered, deployment: str) -> dict[str, Any]:
    return containers(rendered.get("Deployment", deployment))[AGENT_CONTAINER]


def pod_names(emulator: Emulator, namespace: str, selector: str) -> list[str]:
    out = emulator.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "name").stdout.decode()
    return sorted(line.split("/", 1)[1] for line in out.split())


def contains(live: Any, rendered: Any, path: str = "") -> list[str]:
    """Where `live` lacks what `rendered` declares (the server may add defaults, never drop or
    change a declared field)."""
    if isinstance(rendered, dict):
        if not isinstance(live, dict):
            return [f"{path}: expected an object, found {live!r}"]
        problems = []
        for key, value in rendered.items():
            if key not in live:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += contains(live[key], value, f"{path}.{key}")
        return problems
    if isinstance(rendered, list):
        if not isinstance(live, list) or len(live) != len(rendered):
            return [f"{path}: expected {len(rendered)} items, found {live!r}"]
        return [p for i, (a, b) in enumerate(zip(live, rendered)) for p in contains(a, b, f"{path}[{i}]")]
    return [] if live == rendered else [f"{path}: expected {rendered!r}, found {live!r}"]


def secret_data(emulator: Emulator, namespace: str, name: str) -> dict[str, bytes]:
    secret = emulator.get("secret", name, namespace) or {}
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}


def content_hash(emulator: Emulator, namespace: str, secret: str, config_map: str) -> str:
    """The content hash of docs/formats.md, computed here from what kubectl reads."""
    def lp(data: str | bytes) -> bytes:
        data = data.encode() if isinstance(data, str) else data
        return struct.pack(">Q", len(data)) + data

    config = emulator.get("configmap", config_map, namespace)
    objects = [
        ("ConfigMap", config_map, None if config is None else
         {k: v.encode() for k, v in (config.get("data") or {}).items()}),
        ("Secret", secret, secret_data(emulator, namespace, secret) if emulator.get("secret", secret, namespace)
         else None),
    ]
    digest = hashlib.sha256()
    for kind, name, content in objects:
        if content is None:
            digest.update(lp(kind) + lp(name) + lp("absent"))
            continue
        digest.update(lp(kind) + lp(name) + lp(str(len(content))))
        for key in sorted(content, key=lambda k: k.encode()):
            digest.update(lp(key) + lp(content[key]))
    return digest.hexdigest()


def deployment_hash(emulator: Emulator, namespace: str, name: str) -> str | None:
    """The content hash the Deployment carries: its pod template's, else the label (63 hex digits)
    the agent records without a rollout when it first sees the Deployment."""
    deployment = emulator.get("deployment", name, namespace) or {}
    annotations = deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations") or {}
    labels = deployment.get("metadata", {}).get("labels") or {}
    return annotations.get("beluga-ai.io/content-hash") or labels.get("beluga-ai.io/content-hash")


def requests_by(emulator: Emulator, user: str) -> list[dict[str, Any]]:
    return [row for row in emulator.requests() if row["user"] == user]


def refused(rows: list[dict[str, Any]]) -> list[str]:
    """Requests answered 401 or 403, as `verb resource name: code×count`."""
    return [f"{r['verb']} {r['resource']} {r['name']}: {code}×{n}" for r in rows
            for code, n in r["codes"].items() if code in ("401", "403")]


def calls(rows: list[dict[str, Any]], namespace: str) -> Counter:
    """(apiGroup, resource, verb, name or None) → count, for the resource requests in `namespace`.

    The name is what RBAC matches `resourceNames` against: the object's for get/update/patch, the
    `metadata.name` field selector's for list/watch, none for create."""
    used: Counter = Counter()
    for row in rows:
        if row["namespace"] != namespace or row["resource"].startswith("/"):
            continue
        used[(row["group"], row["resource"], row["verb"], row["name"] or None)] += row["count"]
    return used


def pods_of(emulator: Emulator, namespace: str, selector: str) -> list[dict[str, Any]]:
    """`kubectl get pods -l SELECTOR -o json`: the pods, with the status the kubelet reports."""
    listed = emulator.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout
    return json.loads(listed)["items"]


def waiting_reasons(pods: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(container, reason, message) of every container waiting to start."""
    return {(status["name"], waiting.get("reason", ""), waiting.get("message", ""))
            for pod in pods for status in pod["status"].get("containerStatuses", [])
            if (waiting := status.get("state", {}).get("waiting"))}


def set_key(emulator: Emulator, namespace: str, key: str, value: str, folder: Path, *extra: str,
            release: str = "beluga-ai") -> subprocess.CompletedProcess:
    """`beluga-secrets set KEY -n NS --wait`, the value on standard input, as the admin."""
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    return subprocess.run(
        [bin_path("beluga-secrets"), "set", key, "-n", namespace, "--release", release, "--wait",
         "--timeout", "60s", "--sealed-by", "chart-tests", *extra],
        input=value.encode(), capture_output=True, env=env, timeout=90, check=False)


def set_direct(emulator: Emulator, namespace: str, key: str, value: str,
               folder: Path, release: str = "beluga-ai") -> subprocess.CompletedProcess:
    """`beluga-secrets set KEY -n NS --direct`, the value on standard input, as the admin: how the
    chart's README sets the required keys before a first install that waits."""
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    return subprocess.run([bin_path("beluga-secrets"), "set", key, "-n", namespace, "--release", release,
                           "--direct"],
                          input=value.encode(), capture_output=True, env=env, timeout=90, check=False)


def prepare_first_install(emulator: Emulator, namespace: str, folder: Path, release: str = "beluga-ai",
                          create_namespace: bool = True) -> bytes:
    """The chart's README, "First install": the namespace, and the required key set directly, so
    that `helm install --wait` finds the server ready. Returns the value set."""
    if create_namespace:
        emulator.kubectl("create", "namespace", namespace)
    value = f"sk-first-install-{secrets.token_hex(12)}"
    result = set_direct(emulator, namespace, "openai-api-key", value, folder, release)
    assert result.returncode == 0, result.stderr.decode()
    assert value not in (result.stdout + result.stderr).decode()
    return value.encode()
