"""Day two with Helm's own library against `kube-emulator`: `helm rollback`, uninstall and
reinstall, an upgrade from a release of the deployment guide's own chart, and `helm test`.

As in test_chart_helm_release.py, Helm 4's Go SDK (helm_python.Config) installs and upgrades (a
first install after the README's `--direct` step, so that its wait finds the server ready), the
agent runs as the chart's ServiceAccount with the arguments of its container in the release
manifest, and `beluga-secrets set` stores keys through it. The emulator runs no containers: for
`helm test`, this module plays the kubelet, running the test Pod's command on this machine with
a token of the Pod's ServiceAccount and reporting its exit status as the Pod's phase.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import helm_python
import pytest

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, base_env, content_hash, deployment_hash,
    eventually, free_port, pod_names, prepare_first_install, refused, requests_by, secret_data, set_key,
)
from helmchart import CHART_DIR, containers, with_agent_image
from test_chart_helm_release import release_manifest, release_secrets
from chartfixtures import emulator, helm  # noqa: F401 (pytest fixtures)

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
AGENT_USER = f"system:serviceaccount:{NAMESPACE}:beluga-ai-agent"
GUIDE_CHART = Path(__file__).resolve().parent / "guide-chart"


def chart_values() -> dict:
    """The agent image, and a free health port: the agent runs on this machine."""
    return with_agent_image({"agent": {"healthPort": free_port()}})


def start_agent(emulator: Emulator, release: dict, folder: Path) -> AgentProcess:
    """The agent as the release's pod would run it (its first pod's name as identity)."""
    folder.mkdir(parents=True, exist_ok=True)
    container = containers(release_manifest(release).get("Deployment", "beluga-ai-agent"))[AGENT_CONTAINER]
    pod = pod_names(emulator, NAMESPACE, AGENT_COMPONENT)[0]
    kubeconfig = emulator.service_account_kubeconfig(NAMESPACE, "beluga-ai-agent")
    return AgentProcess.start(container, kubeconfig, pod, folder)


def set_keys(emulator: Emulator, folder: Path, values: dict[str, str]) -> None:
    for key, value in values.items():
        result = set_key(emulator, NAMESPACE, key, value, folder)
        assert result.returncode == 0, result.stderr.decode()
        assert value not in (result.stdout + result.stderr).decode()


def kept(emulator: Emulator) -> dict:
    """What holds the keys: the Secret, the envelopes, the sealing keys."""
    sealed = emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)
    sealing = emulator.get("secret", "beluga-ai-sealing-key", NAMESPACE)
    return {
        "secret": secret_data(emulator, NAMESPACE, "beluga-ai-secrets"),
        "envelopes": sealed.get("data"),
        "versions": sealed["metadata"]["annotations"].get("beluga-ai.io/sealed-versions"),
        "sealing keys": sealing["data"],
    }


def hash_is_current(emulator: Emulator) -> bool:
    return deployment_hash(emulator, NAMESPACE, RELEASE) == content_hash(
        emulator, NAMESPACE, "beluga-ai-secrets", "beluga-ai-config")


def test_rollback_and_uninstall_then_reinstall_keep_every_key(emulator, helm, tmp_path):
    values = chart_values()
    prepare_first_install(emulator, NAMESPACE, tmp_path)
    first = helm.install(str(CHART_DIR), RELEASE, values, create_namespace=True, wait="watcher", timeout=60)
    agent = start_agent(emulator, first, tmp_path / "first")
    keys = {key: f"sk-life-{key}-{secrets.token_hex(12)}" for key in ("openai-api-key", "anthropic-api-key")}
    try:
        set_keys(emulator, tmp_path, keys)
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {k: v.encode() for k, v in keys.items()}
        before = kept(emulator)

        # Revision 2 changes a setting; `helm rollback beluga-ai 1` (revision 3) brings it back.
        helm.upgrade(str(CHART_DIR), RELEASE, helm_python.parse_set_string("config.llmProvider=anthropic"),
                     reuse_values=True, wait="watcher", timeout=60)
        eventually(lambda: hash_is_current(emulator), "the agent rolls the pods for the new setting")
        helm.rollback(RELEASE, version=1, wait="watcher", timeout=60)
        assert [(r["revision"], r["status"]) for r in helm.history(RELEASE)] == [
            (1, "superseded"), (2, "superseded"), (3, "deployed")]
        settings = emulator.get("configmap", "beluga-ai-config", NAMESPACE)["data"]
        assert settings == {"llmProvider": "openai", "embeddingProvider": "openai"}
        eventually(lambda: hash_is_current(emulator), "the agent rolls the pods back to the old setting")
        assert kept(emulator) == before
    finally:
        agent.stop()
    assert refused(requests_by(emulator, AGENT_USER)) == []

    # `helm uninstall`: the keys, the envelopes and the sealing keys stay.
    helm.uninstall(RELEASE, wait="watcher", timeout=60)
    assert release_secrets(emulator) == {}
    assert emulator.get("deployment", RELEASE, NAMESPACE) is None
    assert kept(emulator) == before

    # `helm install` again, same name: the kept ConfigMaps are adopted, and the new agent finds its
    # sealing keys and every envelope; a key set now joins the others.
    second = helm.install(str(CHART_DIR), RELEASE, values, wait="watcher", timeout=60)
    assert (second["revision"], second["status"]) == (1, "deployed")
    agent = start_agent(emulator, second, tmp_path / "second")
    try:
        assert kept(emulator) == before
        third = {"mistral-api-key": f"sk-life-mistral-{secrets.token_hex(12)}"}
        set_keys(emulator, tmp_path, third)
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {
            k: v.encode() for k, v in {**keys, **third}.items()}
        assert kept(emulator)["sealing keys"] == before["sealing keys"]
    finally:
        agent.stop()
    events = [r["event"] for r in agent.records()]
    assert "secret.deleted" not in events and "sealing-key.created" not in events, events
    log = "".join(p.read_text() for p in tmp_path.rglob("*.log"))
    assert all(value not in log for value in {**keys, **third}.values())


def test_upgrading_a_release_of_the_guides_chart_keeps_its_secret(emulator, helm, tmp_path):
    # A release made with the guide's chart, whose templates/secret.yaml rendered the key.
    old_key = f"sk-guide-{secrets.token_hex(16)}"
    installed = helm.install(str(GUIDE_CHART), RELEASE, {"secrets": {"openaiApiKey": old_key}},
                             create_namespace=True, wait="watcher", timeout=60)
    assert "templates/secret.yaml" in installed["manifest"]
    guide_secret = {"openai-api-key": old_key.encode()}
    assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == guide_secret

    # Upgraded as is, Helm would delete that Secret: the chart stops first and says what to do.
    values = chart_values()
    with pytest.raises(helm_python.HelmReleaseError) as refused_upgrade:
        helm.upgrade(str(CHART_DIR), RELEASE, values, wait="watcher", timeout=60)
    message = str(refused_upgrade.value)
    assert "the upgrade would delete it with its keys" in message
    assert f"kubectl annotate secret beluga-ai-secrets -n {NAMESPACE} helm.sh/resource-policy=keep" in message
    assert old_key not in message
    assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == guide_secret
    assert [r["status"] for r in helm.history(RELEASE)] == ["deployed"]

    # The README's step, then the upgrade.
    emulator.kubectl("annotate", "secret", "beluga-ai-secrets", "-n", NAMESPACE, "helm.sh/resource-policy=keep")
    upgraded = helm.upgrade(str(CHART_DIR), RELEASE, values, wait="watcher", timeout=60)
    assert (upgraded["revision"], upgraded["status"]) == (2, "deployed")
    assert "kind: Secret" not in upgraded["manifest"]
    assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == guide_secret

    # The agent leaves the key it never held; one set now joins it.
    agent = start_agent(emulator, upgraded, tmp_path)
    new_key = f"sk-after-guide-{secrets.token_hex(12)}"
    try:
        set_keys(emulator, tmp_path, {"anthropic-api-key": new_key})
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {
            **guide_secret, "anthropic-api-key": new_key.encode()}
    finally:
        agent.stop()
    assert refused(requests_by(emulator, AGENT_USER)) == []
    log = agent.audit_log.read_text() + agent.log.read_text()
    assert old_key not in log and new_key not in log
    # A later upgrade goes through: the kept Secret no longer belongs to the release's objects.
    helm.upgrade(str(CHART_DIR), RELEASE, helm_python.parse_set_string("replicaCount=3"), reuse_values=True,
                 wait="watcher", timeout=60)
    assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets")["openai-api-key"] == old_key.encode()


# --- helm test --------------------------------------------------------------------------------


class Kubelet:
    """Runs the release's test Pod the way a kubelet would, for an emulator that runs none: its
    command on this machine, with its ServiceAccount's token, `beluga-secrets` on PATH; the output
    is the Pod's log and the exit status its phase."""

    def __init__(self, emulator: Emulator, folder: Path):
        self.emulator = emulator
        self.folder = folder
        self.runs = 0

    def run_test_pod(self, name: str) -> subprocess.CompletedProcess:
        created = eventually(lambda: self.emulator.get("pod", name, NAMESPACE), f"Helm creates the Pod {name}",
                             timeout=60)
        spec = created["spec"]
        [container] = spec["containers"]
        kubeconfig = self.emulator.service_account_kubeconfig(NAMESPACE, spec["serviceAccountName"])
        self.runs += 1
        home = self.folder / f"test-pod-{self.runs}"
        home.mkdir()
        env = dict(base_env(home), KUBECONFIG=str(kubeconfig),
                   PATH=os.pathsep.join([os.environ["BELUGA_BIN_DIR"], os.environ.get("PATH", "")]))
        env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e and e["name"] != "HOME"})
        result = subprocess.run(container["command"] + container["args"], capture_output=True, env=env, timeout=90,
                                check=False)
        log = home / "pod.log"
        log.write_bytes(result.stdout + result.stderr)
        self.emulator.attach_pod_log(NAMESPACE, name, container["name"], log)
        phase = "Succeeded" if result.returncode == 0 else "Failed"
        self.emulator.kubectl("patch", "pod", name, "-n", NAMESPACE, "--subresource=status", "--type=merge",
                              "-p", json.dumps({"status": {"phase": phase}}))
        return result


def test_helm_test_checks_that_the_agent_runs(emulator, helm, tmp_path):
    prepare_first_install(emulator, NAMESPACE, tmp_path)
    installed = helm.install(str(CHART_DIR), RELEASE, chart_values(), create_namespace=True, wait="watcher",
                             timeout=60)
    kubelet = Kubelet(emulator, tmp_path)
    test_user = f"system:serviceaccount:{NAMESPACE}:beluga-ai-test"
    agent = start_agent(emulator, installed, tmp_path)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(helm.test, RELEASE, timeout=60, logs=True)
            ran = kubelet.run_test_pod("beluga-ai-test")
            tested = running.result(timeout=90)
        assert ran.returncode == 0, ran.stdout.decode() + ran.stderr.decode()
        # `doctor` found every check ok (exit 0).
        assert b"All 12 checks passed." in ran.stdout, ran.stdout.decode()
        assert tested["release"]["status"] == "deployed"
        # Passed: Helm deleted the hooks.
        eventually(lambda: emulator.get("pod", "beluga-ai-test", NAMESPACE) is None, "Helm deletes the test Pod")
        assert emulator.get("role", "beluga-ai-test", NAMESPACE) is None
        # The check read what its Role names and was refused only the Secret, which doctor then
        # leaves to the pods' check (are the keys there?) instead of failing.
        rows = requests_by(emulator, test_user)
        assert refused(rows) == ["get secrets beluga-ai-secrets: 403×1"]
    finally:
        agent.stop()

    # The agent stopped (and released its Lease): the same test fails, and says where to look.
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(helm.test, RELEASE, timeout=60)
        ran = kubelet.run_test_pod("beluga-ai-test")
        with pytest.raises(helm_python.HelmReleaseError):
            running.result(timeout=90)
    assert ran.returncode == 6, ran.stdout.decode() + ran.stderr.decode()
    assert b"agent (failure): no agent holds the Lease beluga-ai-agent" in ran.stdout
    assert f"kubectl logs -n {NAMESPACE} deploy/beluga-ai-agent".encode() in ran.stdout
    # Failed: the Pod stays for `kubectl logs`.
    assert emulator.get("pod", "beluga-ai-test", NAMESPACE)["status"]["phase"] == "Failed"
    assert "agent (failure): no agent holds the Lease" in emulator.kubectl(
        "logs", "beluga-ai-test", "-n", NAMESPACE).stdout.decode()
