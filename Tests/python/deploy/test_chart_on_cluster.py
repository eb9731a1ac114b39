"""The rendered chart applied with kubectl, and the agent run against the objects it created.

`helm template`'s output goes into a `kube-emulator` with `kubectl apply -f`, as a user without
Helm would deploy it. The agent then runs as a local process with the arguments of the rendered
agent container, authenticated as the chart's ServiceAccount: the chart's Role and RoleBinding,
applied and enforced by the emulator, decide what it may do. The emulator's request accounting
(verb × resource × name × user × status code) shows what the agent did, which is checked against
what the Role grants, in both directions.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, agent_container, base_env, bin_path,
    calls, contains, content_hash, deployment_hash, eventually, free_port, pod_names, refused,
    requests_by, secret_data, set_key,
)
from helmchart import SIDECAR, render, rule_set
from chartfixtures import emulator  # noqa: F401 (pytest fixtures)

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
AGENT_USER = f"system:serviceaccount:{NAMESPACE}:beluga-ai-agent"


def render_for_local_agent(values: dict | None = None):
    """The chart's defaults, except the agent's health port: the agent runs on this machine, where
    8081 may be taken, so the test picks a free one (`--set agent.healthPort=…`). Without the
    `helm test` hooks, as `helm template --skip-tests` prints it."""
    values = json.loads(json.dumps(values or {}))
    values.setdefault("agent", {})["healthPort"] = free_port()
    return render(values, name=RELEASE, namespace=NAMESPACE).without_tests()


def apply_chart(emulator: Emulator, rendered) -> None:
    emulator.kubectl("create", "namespace", NAMESPACE)
    live = emulator.apply(rendered, NAMESPACE)
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in live["items"]}
    assert sorted(f"{k}/{n}" for k, n in by_name) == rendered.names()
    for declared in rendered.objects:
        found = by_name[(declared["kind"], declared["metadata"]["name"])]
        assert found["metadata"]["namespace"] == NAMESPACE
        assert contains(found, declared) == [], f"{declared['kind']}/{declared['metadata']['name']}"


def audit_verifies(emulator: Emulator, folder: Path) -> str:
    """`beluga-secrets audit --from-cluster --verify`, as an operator checks the agent's records."""
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    result = subprocess.run(
        [bin_path("beluga-secrets"), "audit", "--from-cluster", "-n", NAMESPACE, "--verify"],
        capture_output=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    return result.stdout.decode()


def covers(grant: tuple, call: tuple) -> bool:
    """Whether a Role grant (apiGroup, resource, verb, resourceName or None) allows a call."""
    return grant[:3] == call[:3] and grant[3] in (None, call[3])


def beluga(emulator: Emulator, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """A beluga-secrets command run by the operator (the admin kubeconfig)."""
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    return subprocess.run([bin_path("beluga-secrets"), *args], capture_output=True, env=env, timeout=90,
                          check=False)


def hand_edit(emulator: Emulator, key: str, value: str) -> None:
    """What `kubectl edit secret` does to one key: the agent sets it back."""
    patch = json.dumps({"data": {key: base64.b64encode(value.encode()).decode()}})
    emulator.kubectl("patch", "secret", "beluga-ai-secrets", "-n", NAMESPACE, "--type", "merge", "-p", patch)


def start_agent_as_service_account(emulator: Emulator, rendered, deployment: str, pod_selector: str,
                                   folder: Path) -> AgentProcess:
    """The agent as the pod would run it: the container's arguments, the ServiceAccount's token,
    POD_NAME from the downward API (the first pod of `deployment`), its stdout as the pod's log."""
    pod = pod_names(emulator, NAMESPACE, pod_selector)[0]
    kubeconfig = emulator.service_account_kubeconfig(NAMESPACE, "beluga-ai-agent")
    whoami = emulator.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}",
                              kubeconfig=kubeconfig)
    assert whoami.stdout.decode() == AGENT_USER
    agent = AgentProcess.start(agent_container(rendered, deployment), kubeconfig, pod, folder)
    emulator.attach_pod_log(NAMESPACE, pod, AGENT_CONTAINER, agent.audit_log)
    return agent


def test_kubectl_apply_then_the_agent_works_within_the_charts_role(emulator, tmp_path):
    rendered = render_for_local_agent()
    apply_chart(emulator, rendered)
    installed = emulator.get("deployment", RELEASE, NAMESPACE)
    rollouts_installed = emulator.rollouts(NAMESPACE, RELEASE)
    agent = start_agent_as_service_account(emulator, rendered, "beluga-ai-agent", AGENT_COMPONENT, tmp_path)
    value = f"sk-chart-{secrets.token_hex(16)}"
    try:
        eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE), "the agent records the content hash")
        # The agent's first start restarts nothing: the hash is a label, the pod template and the
        # generation are as Helm made them.
        started = emulator.get("deployment", RELEASE, NAMESPACE)
        assert started["metadata"]["generation"] == installed["metadata"]["generation"], (started, installed)
        assert started["spec"]["template"] == installed["spec"]["template"], (started, installed)
        assert len(started["metadata"]["labels"]["beluga-ai.io/content-hash"]) == 63, started["metadata"]
        rollouts_before = emulator.rollouts(NAMESPACE, RELEASE)
        assert rollouts_before == rollouts_installed, (rollouts_installed, rollouts_before, started)

        # An operator sets a key: sealed by the CLI, applied by the agent, one rollout.
        stored = set_key(emulator, NAMESPACE, "openai-api-key", value, tmp_path)
        assert stored.returncode == 0, stored.stderr.decode()
        assert value not in (stored.stdout + stored.stderr).decode()
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": value.encode()}
        expected_hash = content_hash(emulator, NAMESPACE, "beluga-ai-secrets", "beluga-ai-config")
        eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE) == expected_hash,
                   "the Deployment carries the new content hash")
        assert emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before + 1

        # Someone edits the Secret by hand, twice: the agent sets the key back each time (an
        # update of the Secret) and counts the repeated Event (a patch), as client-go does.
        for attempt in (1, 2):
            hand_edit(emulator, "openai-api-key", f"hand-edited-{attempt}")
            eventually(lambda: secret_data(emulator, NAMESPACE, "beluga-ai-secrets")["openai-api-key"]
                       == value.encode(), "the agent sets the hand-edited key back")
        def reverted_twice():
            listed = json.loads(emulator.kubectl("get", "events", "-n", NAMESPACE, "-o", "json").stdout)
            counts = [e.get("count") for e in listed["items"] if e["reason"] == "HandEditReverted"]
            return counts == [2]
        eventually(reverted_twice, "one HandEditReverted Event counts both reverts")

        # The operator rotates the sealing key: the agent writes its keys and re-seals the store.
        old_kid = emulator.get("configmap", "beluga-ai-public-key", NAMESPACE)["data"]["current"]
        rotated = beluga(emulator, tmp_path, "keys", "rotate", "-n", NAMESPACE, "--timeout", "60s")
        assert rotated.returncode == 0, rotated.stderr.decode()
        new_kid = emulator.get("configmap", "beluga-ai-public-key", NAMESPACE)["data"]["current"]
        assert new_kid != old_kid
        eventually(lambda: emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)["data"]
                   ["openai-api-key"].startswith(f"bs1.{new_kid}."), "the agent re-seals the stored envelope")

        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": value.encode()}
        # Neither the reverts nor the re-sealing changed what the pods see: no further rollout.
        assert deployment_hash(emulator, NAMESPACE, RELEASE) == expected_hash
        assert emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before + 1

        # Someone deletes the Lease: the leader creates it again (docs/agent.md) and keeps leading.
        emulator.kubectl("delete", "lease", "beluga-ai-agent", "-n", NAMESPACE)
        eventually(lambda: (emulator.get("lease", "beluga-ai-agent", NAMESPACE) or {}).get("spec", {})
                   .get("holderIdentity") == agent.identity, "the agent creates the deleted Lease again")
        assert (agent.ready() or "").startswith("leading")
        assert 'beluga_secrets_api_requests_total{code="403"}' not in agent.metrics()
    finally:
        agent.stop()

    assert value not in agent.audit_log.read_text() + agent.log.read_text()
    events = [r["event"] for r in agent.records()]
    assert events.count("secret.created") == 1 and "sealing-key.rotated" in events, events
    timeline = audit_verifies(emulator, tmp_path)
    assert "openai-api-key" in timeline

    # The Role cross-check: every call the agent made was allowed, and every grant was used.
    rows = requests_by(emulator, AGENT_USER)
    assert rows, "the agent's requests are counted under its ServiceAccount"
    assert refused(rows) == []
    used = set(calls(rows, NAMESPACE))
    granted = rule_set(rendered.get("Role", "beluga-ai-agent"))
    assert {c for c in used if not any(covers(g, c) for g in granted)} == set(), "calls outside the Role"
    # The agent reads the objects it watches from its watch cache; a `get` of one of them by name
    # is the read a conflict forces (docs/agent.md), needed although this run had no conflict.
    watched = {(g[0], g[1], g[3]) for g in granted if g[2] == "watch"}

    def read_on_conflict(grant: tuple) -> bool:
        return grant[2] == "get" and ((grant[0], grant[1], grant[3]) in watched or
                                      (grant[0], grant[1], None) in watched)

    unused = {g for g in granted if not any(covers(g, c) for c in used) and not read_on_conflict(g)}
    assert unused == set(), "grants never needed"


def test_sidecar_mode_the_agent_in_the_server_pods_works_within_the_same_role(emulator, tmp_path):
    rendered = render_for_local_agent(SIDECAR)
    assert not rendered.has("Deployment", "beluga-ai-agent")
    apply_chart(emulator, rendered)
    server_pods = "app.kubernetes.io/name=beluga-ai,app.kubernetes.io/instance=beluga-ai"
    agent = start_agent_as_service_account(emulator, rendered, RELEASE, server_pods, tmp_path)
    value = f"sk-sidecar-{secrets.token_hex(16)}"
    try:
        eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE), "the agent records the content hash")
        rollouts_before = emulator.rollouts(NAMESPACE, RELEASE)
        stored = set_key(emulator, NAMESPACE, "openai-api-key", value, tmp_path)
        assert stored.returncode == 0, stored.stderr.decode()
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": value.encode()}
        expected_hash = content_hash(emulator, NAMESPACE, "beluga-ai-secrets", "beluga-ai-config")
        eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE) == expected_hash,
                   "the server Deployment carries the new content hash")
        assert emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before + 1
    finally:
        agent.stop()

    assert value not in agent.audit_log.read_text() + agent.log.read_text()
    # The rollout replaced the pod whose agent container the log belonged to; the agent containers
    # of the new pods carry the chain on (here: the same log, attached to a pod that exists now).
    current = pod_names(emulator, NAMESPACE, server_pods)[0]
    emulator.attach_pod_log(NAMESPACE, current, AGENT_CONTAINER, agent.audit_log)
    env = dict(base_env(tmp_path), KUBECONFIG=str(emulator.kubeconfig))
    audit = subprocess.run([bin_path("beluga-secrets"), "audit", "--from-cluster", "-n", NAMESPACE, "--verify",
                            "--selector", server_pods], capture_output=True, env=env, timeout=60, check=False)
    assert audit.returncode == 0, audit.stdout.decode() + audit.stderr.decode()
    assert b"chain unbroken from record 1 up to the audit head" in audit.stdout, audit.stdout.decode()
    assert b"secret.created" in audit.stdout and b"rollout.triggered" in audit.stdout
    rows = requests_by(emulator, AGENT_USER)
    assert rows and refused(rows) == []
    granted = rule_set(rendered.get("Role", "beluga-ai-agent"))
    assert {c for c in calls(rows, NAMESPACE) if not any(covers(g, c) for g in granted)} == set()
