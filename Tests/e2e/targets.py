"""The cluster the scenarios run against, and the throwaway namespace they run in.

`Target.open` picks the cluster: the one `KUBECONFIG` names (its current context, or
`E2E_CONTEXT`), else an in-repo `kube-emulator` started here. Either way the scenarios get a
private kubeconfig (one context, credentials inlined, mode 0600) whose default namespace is a
namespace that never exists: every command passes `-n`, and one that forgot would fail instead of
touching the user's default namespace. `Namespace` creates `beluga-e2e-<random>`, labelled
`app.kubernetes.io/managed-by=beluga-secrets-e2e`, and deletes it at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from belugaprocess import bin_path, start_emulator
from belugaprocess import eventually as poll

MANAGED_BY = "app.kubernetes.io/managed-by=beluga-secrets-e2e"
OPERATOR = "e2e-operator"
OPERATOR_POLICY = Path(__file__).with_name("operator-policy.yaml")


def eventually(condition: Callable[[], Any], what: str, timeout: float = 30.0, every: float = 0.25) -> Any:
    """The shared poll, at a pace that suits kubectl against a real cluster."""
    return poll(condition, what, timeout=timeout, every=every)


def child_env(folder: Path, real_cluster: bool) -> dict[str, str]:
    """The environment of every child process: a private configuration folder (the CLI pins
    agent identities there, so the user's own pins are neither read nor changed) and no
    KUBECONFIG (every command gets `--kubeconfig`). Against the emulator the environment is
    otherwise minimal; against a real cluster it is the user's, since exec credential plugins
    (aws, gcloud, kubelogin) read their own configuration from HOME and the environment."""
    if real_cluster:
        env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
    else:
        env = {key: os.environ[key] for key in ("PATH", "LANG", "TMPDIR") if key in os.environ}
        env["HOME"] = str(folder)
    env["XDG_CONFIG_HOME"] = str(folder / "config")
    return env


@dataclass
class Target:
    """A cluster: kubectl and beluga-secrets reach it through `kubeconfig`."""

    kubeconfig: Path
    env: dict[str, str]
    description: str
    emulator: subprocess.Popen | None = None
    # Who reads the emulator's accounting (its admin); the scenarios' own user may not.
    accounting_kubeconfig: Path | None = None
    # Cluster requests counted before the run, when the target is a kube-emulator (its
    # /_emulator/requests endpoint answers); None on a real cluster.
    baseline: Counter | None = None

    @classmethod
    def open(cls, folder: Path) -> Target:
        user_config = os.environ.get("KUBECONFIG", "")
        env = child_env(folder, real_cluster=bool(user_config))
        emulator, operator = None, None
        if user_config:
            source, description = user_config, "the cluster of KUBECONFIG"
        else:
            source = str(folder / "emulator.kubeconfig")
            operator = {"name": OPERATOR, "user": {"token": secrets.token_hex(24)}}
            policy = yaml.safe_load(OPERATOR_POLICY.read_text())
            policy["users"][0]["token"] = operator["user"]["token"]
            policy_file = folder / "policy.yaml"
            policy_file.touch(mode=0o600)
            policy_file.write_text(yaml.safe_dump(policy))
            # --tls: tokens are sent and checked as on a real cluster; --policy: the scenarios
            # run as an operator with the permissions docs/e2e.md lists, not as the admin.
            emulator, url = start_emulator(
                bin_path("kube-emulator"),
                ["--tls", "--kubeconfig-out", source, "--policy", str(policy_file), "--rollout-delay", "100ms"],
                env)
            eventually(lambda: Path(source).exists(), "the emulator writes its kubeconfig")
            description = f"kube-emulator at {url}, as user {OPERATOR}"
        kubeconfig = folder / "e2e.kubeconfig"
        target = cls(kubeconfig, env, description, emulator,
                     accounting_kubeconfig=Path(source) if emulator else None)
        try:
            target._write_private_kubeconfig(source, operator)
            target.baseline = target._request_counts()
            # The emulator started here always reports its requests: the check must not be skipped.
            assert emulator is None or target.baseline is not None, "the emulator's accounting does not answer"
        except BaseException:
            target.close()
            raise
        return target

    def _write_private_kubeconfig(self, source: str, user: dict[str, Any] | None) -> None:
        view = ["config", "view", "--flatten", "--minify", "-o", "json"]
        context = os.environ.get("E2E_CONTEXT")
        if context:
            view += ["--context", context]
        result = subprocess.run(["kubectl", *view], capture_output=True, env=dict(self.env, KUBECONFIG=source),
                                timeout=30, check=False)
        if result.returncode != 0:
            raise AssertionError(f"cannot read the kubeconfig {source}: {result.stderr.decode().strip()}")
        config = json.loads(result.stdout)
        if not config.get("contexts"):
            raise AssertionError(f"the kubeconfig {source} has no current context (set one, or E2E_CONTEXT)")
        if user is not None:
            config["users"] = [user]
            config["contexts"][0]["context"]["user"] = user["name"]
        self.kubeconfig.touch(mode=0o600)
        self.kubeconfig.write_text(json.dumps(config))
        self.context = config["contexts"][0]["name"]
        self.server = config["clusters"][0]["cluster"]["server"]

    def kubectl(self, *args: str, stdin: bytes | None = None, check: bool = True, timeout: float = 60,
                kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
        config = kubeconfig or self.kubeconfig
        result = subprocess.run(["kubectl", "--kubeconfig", str(config), *args], input=stdin,
                                capture_output=True, env=self.env, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr.decode().strip()}")
        return result

    def point_default_namespace_at(self, namespace: str) -> None:
        """The namespace a command without `-n` would use: one that does not exist."""
        self.kubectl("config", "set-context", self.context, f"--namespace={namespace}")

    def _request_counts(self) -> Counter | None:
        result = self.kubectl("get", "--raw", "/_emulator/requests", check=False,
                              kubeconfig=self.accounting_kubeconfig)
        if result.returncode != 0:
            return None
        counts: Counter = Counter()
        for row in json.loads(result.stdout):
            counts[(row["verb"], row["group"], row["resource"], row["namespace"], row["name"], row["user"])] += \
                row["count"]
        return counts

    def requests(self, user: str) -> list[dict[str, Any]] | None:
        """The emulator's accounting rows of `user` (verb, resource, name, codes); None on a real
        cluster."""
        if self.baseline is None:
            return None
        rows = json.loads(self.kubectl("get", "--raw", "/_emulator/requests",
                                       kubeconfig=self.accounting_kubeconfig).stdout)
        return [row for row in rows if row["user"] == user]

    def requests_since_start(self) -> Counter | None:
        """(verb, group, resource, namespace, name, user) → requests made since `open`, on a
        kube-emulator; None on a real cluster, which keeps no such accounting."""
        if self.baseline is None:
            return None
        now = self._request_counts() or Counter()
        return now - self.baseline

    def close(self) -> None:
        if self.emulator is not None and self.emulator.poll() is None:
            self.emulator.send_signal(signal.SIGTERM)
            try:
                self.emulator.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.emulator.kill()


@dataclass
class Namespace:
    """The throwaway namespace: created with a random suffix, deleted by `delete`."""

    target: Target
    name: str = field(default_factory=lambda: f"beluga-e2e-{secrets.token_hex(4)}")

    def create(self) -> None:
        key, value = MANAGED_BY.split("=")
        manifest = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": self.name, "labels": {key: value}}}
        self.target.kubectl("create", "-f", "-", stdin=json.dumps(manifest).encode())

    def delete(self, timeout: float) -> str | None:
        """Deletes the namespace and waits up to `timeout` for it to be gone; returns a warning
        when it is still terminating (a real cluster finishes on its own)."""
        result = self.target.kubectl("delete", "namespace", self.name, "--wait=false", "--ignore-not-found",
                                     check=False)
        if result.returncode != 0:
            return f"could not delete namespace {self.name}: {result.stderr.decode().strip()}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            gone = self.target.kubectl("get", "namespace", self.name, "--ignore-not-found", "-o", "name",
                                       check=False)
            if gone.returncode == 0 and not gone.stdout.strip():
                return None
            time.sleep(0.5)
        return f"namespace {self.name} is still terminating after {timeout:.0f}s; the cluster will finish deleting it"


def outside_requests(counts: Counter, namespace: str, unset_namespace: str) -> list[str]:
    """Requests that touched anything but `namespace`: cluster-scoped calls other than discovery
    and the namespace's own create, get and delete, and every namespaced call elsewhere (the
    never-existing default namespace of the private kubeconfig included)."""
    problems = []
    for (verb, group, resource, where_ns, name, user), count in sorted(counts.items()):
        if where_ns == namespace or resource.startswith("/"):
            continue  # inside, or discovery/OpenAPI/version (no objects)
        if resource == "namespaces" and where_ns == "" and (
                (verb == "create" and name == "") or (verb in ("get", "delete") and name == namespace)):
            continue
        where = where_ns or "(cluster scope)"
        if where_ns == unset_namespace:
            where += ", the default namespace of the kubeconfig: a command without -n"
        what = f"{group}/{resource}" if group else resource
        problems.append(f"{verb} {what}{' ' + name if name else ''} in {where} by {user}: {count}")
    return problems
