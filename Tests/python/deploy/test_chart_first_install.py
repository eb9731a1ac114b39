"""The first install that `helm install --wait` accepts, with Helm's own library against
`kube-emulator`, whose simulated kubelet keeps pods in `CreateContainerConfigError` while the
Secret lacks a required key (as a real one does).

The documented way (the chart's README, "First install"): set the required keys with
`beluga-secrets set --direct` before `helm install --wait`. Then the server's pods start at once
and Helm's status watcher (the same kstatus rules Argo CD and Flux apply to a Deployment) sees the
release ready; the agent later takes a key over when a sealed value for it arrives. Without the
keys, the same install fails its wait, the pods say which Secret is missing, and setting the key
(which restarts the Deployment) lets its pods start.
"""

from __future__ import annotations

import json
import secrets

import helm_python
import pytest

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, eventually, free_port, pod_names, pods_of,
    secret_data, set_direct, set_key, waiting_reasons,
)
from helmchart import CHART_DIR, containers, with_agent_image
from test_chart_helm_release import release_manifest

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
SERVER_PODS = "app.kubernetes.io/name=beluga-ai,app.kubernetes.io/instance=beluga-ai"


def test_keys_set_before_the_first_install_let_helm_install_wait_succeed(tmp_path):
    emulator = Emulator(tmp_path)
    helm = helm_python.Config(kubeconfig_path=str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        # The README's steps: the namespace, the required key set directly, then install and wait.
        emulator.kubectl("create", "namespace", NAMESPACE)
        first = f"sk-first-{secrets.token_hex(12)}"
        direct = set_direct(emulator, NAMESPACE, "openai-api-key", first, tmp_path)
        assert direct.returncode == 0, direct.stderr.decode()
        assert first not in (direct.stdout + direct.stderr).decode()
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": first.encode()}

        values = with_agent_image({"agent": {"healthPort": free_port()}})
        installed = helm.install(str(CHART_DIR), RELEASE, values, create_namespace=True, wait="watcher",
                                 timeout=60)
        assert (installed["revision"], installed["status"]) == (1, "deployed")
        # NOTES.txt looked at the Secret: nothing left to set, no waiting pods announced.
        assert "The required keys (openai-api-key) are set" in installed["notes"]
        assert "CreateContainerConfigError" not in installed["notes"]
        server = emulator.get("deployment", RELEASE, NAMESPACE)
        assert server["status"]["readyReplicas"] == server["status"]["availableReplicas"] == 2
        progressing = next(c for c in server["status"]["conditions"] if c["type"] == "Progressing")
        assert progressing["reason"] == "NewReplicaSetAvailable"
        pods = pods_of(emulator, NAMESPACE, SERVER_PODS)
        assert [p["status"]["phase"] for p in pods] == ["Running", "Running"]
        assert waiting_reasons(pods) == set()

        # The agent starts; a sealed value of the same key then goes through it, and --wait
        # follows the rollout to its end.
        container = containers(release_manifest(installed).get("Deployment", "beluga-ai-agent"))[AGENT_CONTAINER]
        pod = pod_names(emulator, NAMESPACE, AGENT_COMPONENT)[0]
        kubeconfig = emulator.service_account_kubeconfig(NAMESPACE, "beluga-ai-agent")
        agent = AgentProcess.start(container, kubeconfig, pod, tmp_path)
        try:
            assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": first.encode()}
            sealed = f"sk-sealed-{secrets.token_hex(12)}"
            result = set_key(emulator, NAMESPACE, "openai-api-key", sealed, tmp_path)
            assert result.returncode == 0, result.stderr.decode()
            assert b"successfully rolled out" in result.stdout
            assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == {"openai-api-key": sealed.encode()}
        finally:
            agent.stop()
        log = agent.audit_log.read_text() + agent.log.read_text()
        assert first not in log and sealed not in log
        # The next upgrade waits as well: the release stays healthy.
        upgraded = helm.upgrade(str(CHART_DIR), RELEASE, helm_python.parse_set_string("replicaCount=3"),
                                reuse_values=True, wait="watcher", timeout=60)
        assert upgraded["status"] == "deployed"
        assert emulator.get("deployment", RELEASE, NAMESPACE)["status"]["availableReplicas"] == 3
    finally:
        helm.close()
        emulator.stop()


def test_without_the_keys_helm_install_wait_fails_until_a_key_is_set(tmp_path):
    # 600 s of progress deadline pass in 5 s; the kubelet retries every 10 s / 120.
    emulator = Emulator(tmp_path, "--time-scale", "120")
    helm = helm_python.Config(kubeconfig_path=str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        values = with_agent_image({"agent": {"healthPort": free_port()}})
        with pytest.raises(helm_python.HelmReleaseError) as failed:
            helm.install(str(CHART_DIR), RELEASE, values, create_namespace=True, wait="watcher", timeout=15)
        assert "beluga-ai" in str(failed.value)
        # The pods say what is missing, as on a real cluster; the agent's pods run.
        missing = {("beluga-ai", "CreateContainerConfigError", 'secret "beluga-ai-secrets" not found')}
        eventually(lambda: waiting_reasons(pods_of(emulator, NAMESPACE, SERVER_PODS)) == missing,
                   "the server's pods wait for the Secret")
        pods = pods_of(emulator, NAMESPACE, SERVER_PODS)
        assert pods and all(p["status"]["phase"] == "Pending" for p in pods)
        eventually(lambda: (agents := pods_of(emulator, NAMESPACE, AGENT_COMPONENT))
                   and all(p["status"]["phase"] == "Running" for p in agents), "the agent's pods run")
        eventually(lambda: any(c["reason"] == "ProgressDeadlineExceeded" for c in
                               emulator.get("deployment", RELEASE, NAMESPACE)["status"]["conditions"]),
                   "the rollout passes its progress deadline")
        status = emulator.kubectl("rollout", "status", f"deployment/{RELEASE}", "-n", NAMESPACE, "--timeout=30s",
                                  check=False)
        assert status.returncode != 0
        assert f'deployment "{RELEASE}" exceeded its progress deadline' in status.stderr.decode()

        # The documented step, late: the key written, the Deployment restarted, its new pods start
        # and the rollout completes after all.
        direct = set_direct(emulator, NAMESPACE, "openai-api-key", f"sk-late-{secrets.token_hex(8)}", tmp_path)
        assert direct.returncode == 0, direct.stderr.decode()
        assert b'deployment "beluga-ai": restarting' in direct.stdout
        eventually(lambda: next(c for c in emulator.get("deployment", RELEASE, NAMESPACE)["status"]["conditions"]
                                if c["type"] == "Progressing")["reason"] == "NewReplicaSetAvailable",
                   "the rollout completes", timeout=60)
        ready = emulator.kubectl("rollout", "status", f"deployment/{RELEASE}", "-n", NAMESPACE, "--timeout=60s",
                                 check=False)
        assert ready.returncode == 0, ready.stderr.decode()
        running = pods_of(emulator, NAMESPACE, SERVER_PODS)
        assert [p["status"]["phase"] for p in running] == ["Running", "Running"]
        assert waiting_reasons(running) == set()
        server = emulator.get("deployment", RELEASE, NAMESPACE)
        progressing = next(c for c in server["status"]["conditions"] if c["type"] == "Progressing")
        assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
        events = json.loads(emulator.kubectl("get", "events", "-n", NAMESPACE, "-o", "json").stdout)["items"]
        assert any(e["reason"] == "Failed" and e["message"] == 'Error: secret "beluga-ai-secrets" not found'
                   for e in events)
    finally:
        helm.close()
        emulator.stop()
