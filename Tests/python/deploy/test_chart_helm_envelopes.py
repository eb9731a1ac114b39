"""Envelopes in Helm values stay Helm's across a sealing-key rotation, with Helm 4's own library
(server-side apply) against `kube-emulator`.

The chart is installed with a key in `sealedSecrets` (sealed with PyNaCl to the key the agent
published) and another key stored with `beluga-secrets set`. `beluga-secrets keys rotate` makes a
new sealing key: the agent re-seals the key `set` wrote, but leaves Helm's envelope and Helm's
ownership of it untouched, keeps the old key for it, and reports it (one Warning Event, the status
ConfigMap, `status`, `list`). `beluga-secrets keys helm-values` prints the values block with the
envelope re-sealed to the current key; `helm upgrade -f values -f sealed-values` applies it
server-side without `--force-conflicts` (the agent owns none of Helm's fields), the Secret's value
stays the same, and only then does the agent retire the old key.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import yaml

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, base_env, eventually, free_port, pod_names,
    prepare_first_install, refused, requests_by, secret_data, set_key,
)
from envelopes import key_id, seal
from helmchart import CHART_DIR, containers, with_agent_image
from test_chart_helm_release import managers, owns, release_manifest
from chartfixtures import emulator, helm  # noqa: F401 (pytest fixtures)

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
AGENT_USER = f"system:serviceaccount:{NAMESPACE}:beluga-ai-agent"
HELM_KEY = "anthropic-api-key"
SET_KEY = "cohere-api-key"


def cli(emulator: Emulator, folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(base_env(folder), KUBECONFIG=str(emulator.kubeconfig))
    from belugaprocess import bin_path
    return subprocess.run([bin_path("beluga-secrets"), *args, "-n", NAMESPACE, "--release", RELEASE],
                          capture_output=True, env=env, timeout=90, check=False, text=True)


def published(emulator: Emulator) -> dict:
    return emulator.get("configmap", "beluga-ai-public-key", NAMESPACE)["data"]


def key_states(emulator: Emulator, folder: Path) -> dict[str, str]:
    """`beluga-secrets keys show`: the state of each sealing key, by kid."""
    shown = cli(emulator, folder, "keys", "show")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split() for line in shown.stdout.splitlines()]
    return {row[0]: row[1] for row in rows if len(row) >= 2 and row[1] in ("current", "previous", "retired")}


def helm_events(emulator: Emulator) -> list[dict]:
    listed = json.loads(emulator.kubectl("get", "events", "-n", NAMESPACE, "-o", "json").stdout)
    return [e for e in listed["items"] if e.get("reason") == "HelmEnvelopeNeedsReseal"]


def test_a_rotation_leaves_helms_envelopes_to_helm_and_the_printed_values_upgrade_in(emulator, helm, tmp_path):
    values = with_agent_image({"agent": {"healthPort": free_port()}})
    first = prepare_first_install(emulator, NAMESPACE, tmp_path)
    installed = helm.install(str(CHART_DIR), RELEASE, values, create_namespace=True, wait="watcher", timeout=60)
    assert installed["status"] == "deployed"
    # The agent as the release's pod runs it; old keys retire as soon as nothing uses them, so
    # that only the envelope in the values can be what keeps one.
    container = dict(containers(release_manifest(installed).get("Deployment", "beluga-ai-agent"))[AGENT_CONTAINER])
    container["args"] = [*container["args"], "--retire-keys-after=0s"]
    pod = pod_names(emulator, NAMESPACE, AGENT_COMPONENT)[0]
    agent = AgentProcess.start(container, emulator.service_account_kubeconfig(NAMESPACE, "beluga-ai-agent"),
                               pod, tmp_path)
    helm_value = f"sk-helm-values-{secrets.token_hex(12)}"
    set_value = f"sk-set-{secrets.token_hex(12)}"
    try:
        old_public = base64.b64decode(published(emulator)["sealing.pub"])
        old_kid = key_id(old_public)
        envelope = seal(old_public, NAMESPACE, "beluga-ai-secrets", HELM_KEY, helm_value)
        values = {**values, "sealedSecrets": {HELM_KEY: envelope}}
        upgraded = helm.upgrade(str(CHART_DIR), RELEASE, values, wait="watcher", timeout=60)
        assert upgraded["status"] == "deployed"
        result = set_key(emulator, NAMESPACE, SET_KEY, set_value, tmp_path)
        assert result.returncode == 0, result.stderr.decode()
        eventually(lambda: secret_data(emulator, NAMESPACE, "beluga-ai-secrets").get(HELM_KEY) == helm_value.encode(),
                   "the agent applies the key in the values")

        rotated = cli(emulator, tmp_path, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        new_kid = published(emulator)["current"]
        assert new_kid != old_kid

        def reported() -> dict:
            status = emulator.get("configmap", "beluga-ai-secrets-status", NAMESPACE)
            return json.loads(status["data"].get("helm-reseal", "{}"))

        def set_key_kid() -> str:
            data = emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)["data"]
            return data[SET_KEY].split(".")[1]

        eventually(lambda: set_key_kid() == new_kid and HELM_KEY in reported(),
                   "the agent re-seals the key set wrote and reports the key in the values")
        # Helm's envelope, and Helm's ownership of it, are as Helm left them.
        sealed = emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE, managed_fields=True)
        assert sealed["data"][HELM_KEY] == envelope
        appliers = [m for m, entries in managers(sealed).items() if [e["operation"] for e in entries] == ["Apply"]]
        assert len(appliers) == 1, managers(sealed)
        assert owns(managers(sealed)[appliers[0]], "data", HELM_KEY)
        assert not any(owns(entries, "data", HELM_KEY) for m, entries in managers(sealed).items()
                       if m != appliers[0])
        entry = reported()[HELM_KEY]
        assert (entry["kid"], entry["current"], entry["signed"]) == (old_kid, new_kid, False)
        # The old key stays for it.
        assert key_states(emulator, tmp_path)[old_kid] == "previous"
        eventually(lambda: len(helm_events(emulator)) == 1, "one Warning Event for the rotation")
        event = helm_events(emulator)[0]
        assert event["type"] == "Warning" and HELM_KEY in event["message"]
        assert f"beluga-secrets keys helm-values -n {NAMESPACE} --release {RELEASE}" in event["message"]

        status = cli(emulator, tmp_path, "status")
        assert status.returncode == 0, status.stderr
        assert f"Helm values:  {HELM_KEY} sealed to sealing key {old_kid}" in status.stdout
        listed = cli(emulator, tmp_path, "list", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        row = next(r for r in json.loads(listed.stdout)["keys"] if r["key"] == HELM_KEY)
        assert row["helmReseal"] == {"kid": old_kid, "signed": False}

        printed = cli(emulator, tmp_path, "keys", "helm-values")
        assert printed.returncode == 0, printed.stderr
        sealed_values = yaml.safe_load(printed.stdout)
        assert list(sealed_values) == ["sealedSecrets"]
        assert list(sealed_values["sealedSecrets"]) == [HELM_KEY]
        resealed = sealed_values["sealedSecrets"][HELM_KEY]
        assert resealed.startswith(f"bs1.{new_kid}.") and resealed == entry["envelope"]
        (tmp_path / "sealed-values.yaml").write_text(printed.stdout)

        # `helm upgrade … -f values.yaml -f sealed-values.yaml`: server-side apply, no
        # --force-conflicts.
        merged = {**values, "sealedSecrets": {**values["sealedSecrets"], **sealed_values["sealedSecrets"]}}
        upgraded = helm.upgrade(str(CHART_DIR), RELEASE, merged, wait="watcher", timeout=60)
        assert upgraded["status"] == "deployed"
        assert emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)["data"][HELM_KEY] == resealed
        eventually(lambda: key_states(emulator, tmp_path).get(old_kid) == "retired",
                   "the agent retires the old key once no envelope uses it")
        assert reported() == {}
        data = secret_data(emulator, NAMESPACE, "beluga-ai-secrets")
        assert data[HELM_KEY] == helm_value.encode() and data[SET_KEY] == set_value.encode()
        assert [r for r in agent.records() if r["event"] == "secret.rotated" and r.get("key") == HELM_KEY] == []
        assert len(helm_events(emulator)) == 1
    finally:
        agent.stop()
    assert refused(requests_by(emulator, AGENT_USER)) == []
    log = agent.audit_log.read_text() + agent.log.read_text()
    assert helm_value not in log and set_value not in log and first.decode() not in log
