"""Pod security, resource bounds, no plaintext key in anything rendered, and upgrade safety."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from envelopes import seal_signed
from helmchart import PROMETHEUS_OPERATOR_API, SIDECAR, pod_spec, render
from chartfixtures import all_on, sealed_markers  # noqa: F401 (fixtures)


def configurations(all_on):
    return {
        "defaults": {},
        "all-on": all_on,
        "sidecar": SIDECAR,
        "sidecar-all-on": {**all_on, "agent": {**all_on["agent"], "mode": "sidecar"}},
        "no-agent": {"agent": {"enabled": False}},
    }


def pod_owners(rendered):
    """Every object that makes pods, the `helm test` Pod included."""
    return [o for o in rendered.objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")]


def test_every_pod_is_locked_down(all_on):
    for label, values in configurations(all_on).items():
        rendered = render(values, api_versions=[PROMETHEUS_OPERATOR_API])
        owners = pod_owners(rendered)
        assert owners, label
        for owner in owners:
            where = f"{label}: {owner['metadata']['name']}"
            pod = pod_spec(owner)
            assert pod["securityContext"]["runAsNonRoot"] is True, where
            assert pod["securityContext"]["runAsUser"] != 0, where
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert "hostNetwork" not in pod and "hostPID" not in pod and "hostIPC" not in pod, where
            for container in pod["containers"] + pod.get("initContainers", []):
                context = container["securityContext"]
                name = f"{where}/{container['name']}"
                assert context["allowPrivilegeEscalation"] is False, name
                assert context["readOnlyRootFilesystem"] is True, name
                assert context["runAsNonRoot"] is True, name
                assert context["capabilities"] == {"drop": ["ALL"]}, name
                assert "privileged" not in context, name
                resources = container["resources"]
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory"} <= resources[bound].keys(), f"{name} {bound}"
                # A read-only root needs a writable /tmp.
                assert "/tmp" in [m["mountPath"] for m in container["volumeMounts"]], name


def test_disruption_budgets(all_on):
    rendered = render()
    assert rendered.get("PodDisruptionBudget", "beluga-ai")["spec"]["maxUnavailable"] == 1
    assert rendered.get("PodDisruptionBudget", "beluga-ai-agent")["spec"]["maxUnavailable"] == 1
    assert render({"podDisruptionBudget": {"maxUnavailable": "50%"}}).get(
        "PodDisruptionBudget", "beluga-ai"
    )["spec"]["maxUnavailable"] == "50%"
    assert not render({"podDisruptionBudget": {"enabled": False}}).has("PodDisruptionBudget", "beluga-ai")


def test_only_the_agent_holds_an_api_token(all_on):
    for label, values in configurations(all_on).items():
        rendered = render(values)
        assert rendered.has("Pod", "beluga-ai-test") is (label != "no-agent"), label
        for owner in pod_owners(rendered):
            pod = pod_spec(owner)
            # The agent, and the `helm test` check, which reads the agent's objects.
            api_client = owner["metadata"]["name"] in ("beluga-ai-agent", "beluga-ai-test")
            assert pod["automountServiceAccountToken"] is api_client, (label, owner["metadata"]["name"])
        for account in rendered.of_kind("ServiceAccount"):
            assert account["automountServiceAccountToken"] is False, label


# --- no plaintext key, ever -------------------------------------------------------------------


def test_no_rendered_object_holds_a_plaintext_key(all_on, sealed_markers):
    for label, values in configurations(all_on).items():
        if values.get("agent", {}).get("enabled", True):
            # Without the agent, sealedSecrets is refused (test_chart_values_errors.py).
            values = {**values, "sealedSecrets": {m.key: m.envelope for m in sealed_markers}}
        rendered = render(values, api_versions=[PROMETHEUS_OPERATOR_API])
        text = rendered.text()
        for marker in sealed_markers:
            for form in marker.forms():
                assert form not in text, f"{label}: the plaintext of {marker.key} was rendered"
        # No Secret at all: its data is written by the agent (or `set --direct`), never by Helm.
        assert rendered.of_kind("Secret") == [], label
        # Environment values are references, never literal keys.
        for owner in pod_owners(rendered):
            for container in pod_spec(owner)["containers"]:
                for variable in container.get("env", []):
                    if variable["name"].endswith("_API_KEY"):
                        assert "value" not in variable and "secretKeyRef" in variable["valueFrom"]


def test_sealed_envelopes_are_rendered_verbatim_into_the_sealed_store(sealed_markers):
    rendered = render({"sealedSecrets": {m.key: m.envelope for m in sealed_markers}})
    sealed = rendered.get("ConfigMap", "beluga-ai-secrets-sealed")
    assert sealed["data"] == {m.key: m.envelope for m in sealed_markers}
    assert sealed["metadata"]["annotations"]["beluga-ai.io/helm-managed-keys"] == "anthropic-api-key,openai-api-key"
    # Envelopes go nowhere else.
    elsewhere = [o for o in rendered.objects if o is not sealed]
    text = str(elsewhere)
    for marker in sealed_markers:
        assert marker.envelope not in text


def test_signed_envelopes_and_the_clis_own_are_accepted(tmp_path):
    public = bytes(PrivateKey.generate().public_key)
    signed = seal_signed(public, SigningKey.generate(), "ai", "beluga-ai-secrets", "openai-api-key", "sk-x")
    rendered = render({"sealedSecrets": {"openai-api-key": signed}})
    assert rendered.get("ConfigMap", "beluga-ai-secrets-sealed")["data"] == {"openai-api-key": signed}

    # An envelope printed by the real `beluga-secrets seal`, when the binary is built.
    binary = Path(os.environ.get("BELUGA_BIN_DIR", "/nonexistent")) / "beluga-secrets"
    if not binary.exists():
        pytest.skip("BELUGA_BIN_DIR has no beluga-secrets (make test sets it)")
    environment = {"PATH": os.environ.get("PATH", ""), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    keygen = subprocess.run([binary, "keygen", "--out", tmp_path / "keys"], capture_output=True, env=environment)
    assert keygen.returncode == 0, keygen.stderr
    environment["CHART_TEST_VALUE"] = "sk-chart-test-value"
    sealed = subprocess.run(
        [binary, "seal", "anthropic-api-key", "--public-key", tmp_path / "keys" / "sealing.pub", "-n", "ai",
         "--from-env", "CHART_TEST_VALUE"],
        capture_output=True,
        env=environment,
    )
    assert sealed.returncode == 0, sealed.stderr
    envelope = sealed.stdout.decode().strip()
    rendered = render({"sealedSecrets": {"anthropic-api-key": envelope}})
    assert rendered.get("ConfigMap", "beluga-ai-secrets-sealed")["data"] == {"anthropic-api-key": envelope}


# --- Helm upgrades keep what the agent and the CLI wrote --------------------------------------


def test_upgrade_never_renders_what_the_agent_writes(all_on):
    """What Helm does not render, neither a 3-way merge nor server-side apply can change.

    - The Secrets (<fullname>-secrets, beluga-ai-sealing-key) are not in the release at all,
      so no upgrade, `--force-replace`, rollback or uninstall touches them.
    - The objects the agent writes into (the Lease, the public-key ConfigMap) carry no field the
      agent writes: Helm's patch or apply never names those fields.
    - The Deployment's pod template never carries the agent's content-hash annotation.
    - The sealed store is kept on uninstall, and lists the keys Helm owns.
    """
    for values in (all_on, SIDECAR, {}):
        for is_upgrade in (False, True):
            rendered = render(values, is_upgrade=is_upgrade)
            assert rendered.of_kind("Secret") == []
            lease = rendered.get("Lease", "beluga-ai-agent")
            assert "spec" not in lease
            public_key = rendered.get("ConfigMap", "beluga-ai-public-key")
            assert "data" not in public_key and "binaryData" not in public_key
            template = rendered.get("Deployment", "beluga-ai")["spec"]["template"]
            assert "beluga-ai.io/content-hash" not in template["metadata"].get("annotations", {})
            sealed = rendered.get("ConfigMap", "beluga-ai-secrets-sealed")
            assert sealed["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_the_configmap_lists_the_keys_helm_owns():
    config = render().get("ConfigMap", "beluga-ai-config")
    assert config["metadata"]["annotations"]["beluga-ai.io/helm-managed-keys"] == "embeddingProvider,llmProvider"


@pytest.mark.parametrize("values", [{}, SIDECAR])
def test_upgrade_with_more_replicas_changes_only_the_replica_count(values):
    """`helm upgrade --set replicaCount=3`: the only difference is spec.replicas of the server."""
    before = render(values)
    after = render({**values, "replicaCount": 3}, is_upgrade=True)
    assert before.names() == after.names()
    for old in before.objects:
        new = after.get(old["kind"], old["metadata"]["name"])
        if old["kind"] == "Deployment" and old["metadata"]["name"] == "beluga-ai":
            assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (2, 3)
            old = {**old, "spec": {**old["spec"], "replicas": 3}}
        assert new == old, old["metadata"]["name"]
