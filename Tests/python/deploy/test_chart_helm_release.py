"""`helm install`, `upgrade` and `uninstall` with Helm's own library, against `kube-emulator`, with
the agent writing keys in between: an upgrade keeps every key.

`helm_python.Config(...).install/upgrade` is Helm 4's Go SDK: it reads discovery and the OpenAPI
documents, applies every object with server-side apply, stores the release
in a `helm.sh/release.v1` Secret and waits for the workloads with its status watcher. The
emulator's kubelet keeps the server's pods waiting while their required key is missing, so the
install follows the chart's README, "First install": the key set with `--direct` first. The agent runs
as the chart's ServiceAccount with the arguments Helm's release manifest gives its container, and
`beluga-secrets set` stores keys through it. Then `upgrade --reuse-values --set replicaCount=3`:
what the agent and the CLI wrote must be exactly as before (they own those fields; Helm's apply
does not declare them) and the server scales to 3 without a rollout. An upgrade that changes a
setting rolls the pods exactly once (the agent's doing). Last, `helm uninstall` leaves the keys.
"""

from __future__ import annotations

import json
import secrets

import helm_python
import yaml

from cluster import (
    AGENT_COMPONENT, AGENT_CONTAINER, AgentProcess, Emulator, content_hash, deployment_hash, eventually,
    free_port, pod_names, prepare_first_install, refused, requests_by, secret_data, set_key,
)
from helmchart import CHART_DIR, Rendered, containers, with_agent_image
from chartfixtures import emulator  # noqa: F401 (pytest fixtures)

NAMESPACE = "beluga"
RELEASE = "beluga-ai"
AGENT_USER = f"system:serviceaccount:{NAMESPACE}:beluga-ai-agent"


def release_manifest(release: dict) -> Rendered:
    objects = [o for o in yaml.safe_load_all(release["manifest"]) if o]
    return Rendered(objects=objects, notes=release.get("notes", ""))


def release_secrets(emulator: Emulator) -> dict[str, dict]:
    """Helm's storage: the release Secrets, found by the labels Helm queries them with."""
    listed = json.loads(emulator.kubectl("get", "secrets", "-n", NAMESPACE, "-l", f"owner=helm,name={RELEASE}",
                                         "-o", "json").stdout)
    return {s["metadata"]["name"]: s for s in listed["items"]}


def managers(obj: dict) -> dict[str, list[dict]]:
    by_manager: dict[str, list[dict]] = {}
    for entry in obj["metadata"].get("managedFields") or []:
        by_manager.setdefault(entry["manager"], []).append(entry)
    return by_manager


def owns(entries: list[dict], *path: str) -> bool:
    """Whether one of a manager's entries lists the field at `path` (FieldsV1 `f:` keys)."""
    for entry in entries:
        node = entry.get("fieldsV1", {})
        for part in path:
            node = node.get(f"f:{part}") if isinstance(node, dict) else None
        if node is not None:
            return True
    return False


def snapshot(emulator: Emulator) -> dict:
    """What the agent and the CLI wrote, which no upgrade may change."""
    sealed = emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)
    status = emulator.get("configmap", "beluga-ai-secrets-status", NAMESPACE)
    public = emulator.get("configmap", "beluga-ai-public-key", NAMESPACE)
    lease = emulator.get("lease", "beluga-ai-agent", NAMESPACE)
    sealing = emulator.get("secret", "beluga-ai-sealing-key", NAMESPACE)
    return {
        "secret": secret_data(emulator, NAMESPACE, "beluga-ai-secrets"),
        "sealed data": sealed.get("data"),
        "sealed annotations": {k: v for k, v in sealed["metadata"]["annotations"].items()
                               if k.startswith("beluga-ai.io/")},
        # The agent's own status, but for the audit head, which moves with every record.
        "status": {k: v for k, v in (status or {}).get("data", {}).items() if k != "audit-head"},
        "public keys": public.get("data"),
        "sealing keys": sealing["data"],
        "lease holder": lease["spec"]["holderIdentity"],
        "content hash": deployment_hash(emulator, NAMESPACE, RELEASE),
    }


def test_helm_install_agent_keys_then_upgrade_to_three_replicas_keeps_every_key(emulator, tmp_path):
    helm = helm_python.Config(kubeconfig_path=str(emulator.kubeconfig), namespace=NAMESPACE)
    try:
        health_port = free_port()  # the agent runs on this machine; see test_chart_on_cluster.py
        chart_values = with_agent_image({"agent": {"healthPort": health_port}})
        first = prepare_first_install(emulator, NAMESPACE, tmp_path)
        installed = helm.install(str(CHART_DIR), RELEASE, chart_values, create_namespace=True, wait="watcher",
                                 timeout=60)
        assert (installed["revision"], installed["status"]) == (1, "deployed")
        assert "beluga-secrets set openai-api-key -n beluga" in installed["notes"]
        stored = release_secrets(emulator)
        assert list(stored) == [f"sh.helm.release.v1.{RELEASE}.v1"]
        assert stored[f"sh.helm.release.v1.{RELEASE}.v1"]["type"] == "helm.sh/release.v1"
        # Helm 4 applied server-side. Its field manager is its program's name: `helm` for the
        # CLI, the Python interpreter's here.
        server = emulator.get("deployment", RELEASE, NAMESPACE, managed_fields=True)
        appliers = [m for m, entries in managers(server).items() if [e["operation"] for e in entries] == ["Apply"]]
        assert len(appliers) == 1 and len(managers(server)) == 1, managers(server)
        helm_manager = appliers[0]
        assert server["status"]["readyReplicas"] == 2

        # The agent, with the arguments of the container in Helm's release manifest.
        manifest = release_manifest(installed)
        container = containers(manifest.get("Deployment", "beluga-ai-agent"))[AGENT_CONTAINER]
        pod = pod_names(emulator, NAMESPACE, AGENT_COMPONENT)[0]
        kubeconfig = emulator.service_account_kubeconfig(NAMESPACE, "beluga-ai-agent")
        agent = AgentProcess.start(container, kubeconfig, pod, tmp_path)
        values = {key: f"sk-helm-{key}-{secrets.token_hex(12)}" for key in ("openai-api-key", "anthropic-api-key")}
        try:
            for key, value in values.items():
                result = set_key(emulator, NAMESPACE, key, value, tmp_path)
                assert result.returncode == 0, result.stderr.decode()
            expected = {key: value.encode() for key, value in values.items()}
            assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == expected
            hash_after_keys = content_hash(emulator, NAMESPACE, "beluga-ai-secrets", "beluga-ai-config")
            eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE) == hash_after_keys,
                       "the agent records the content hash of both keys")
            before = snapshot(emulator)
            assert before["sealed annotations"].keys() >= {"beluga-ai.io/sealed-versions"}
            assert "beluga-ai.io/sync-status" not in before["sealed annotations"]
            assert set(json.loads(before["status"]["sync-status"])) == set(values)
            assert before["lease holder"] == pod
            rollouts_before = emulator.rollouts(NAMESPACE, RELEASE)
            server = emulator.get("deployment", RELEASE, NAMESPACE, managed_fields=True)
            # The content hash belongs to the agent's manager, never to Helm's apply.
            assert not owns(managers(server)[helm_manager], "spec", "template", "metadata", "annotations",
                            "beluga-ai.io/content-hash")

            # `helm upgrade beluga-ai … --reuse-values --set replicaCount=3`
            upgraded = helm.upgrade(str(CHART_DIR), RELEASE, helm_python.parse_set_string("replicaCount=3"),
                                    reuse_values=True, wait="watcher", timeout=60)
            assert (upgraded["revision"], upgraded["status"]) == (2, "deployed")
            assert helm.get_values(RELEASE) == {**chart_values, "replicaCount": 3}
            stored = release_secrets(emulator)
            assert sorted(stored) == [f"sh.helm.release.v1.{RELEASE}.v1", f"sh.helm.release.v1.{RELEASE}.v2"]
            assert {s["metadata"]["labels"]["status"] for s in stored.values()} == {"superseded", "deployed"}

            server = emulator.get("deployment", RELEASE, NAMESPACE)
            assert server["spec"]["replicas"] == 3 and server["status"]["readyReplicas"] == 3
            assert snapshot(emulator) == before
            # Scaling changes no pod template: no rollout.
            assert emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before

            # An upgrade that changes a setting: Helm changes the ConfigMap, the agent rolls the
            # pods once (the chart has no checksum annotation that would roll them a second time).
            upgraded = helm.upgrade(str(CHART_DIR), RELEASE,
                                    helm_python.parse_set_string("config.llmProvider=anthropic"),
                                    reuse_values=True, wait="watcher", timeout=60)
            assert (upgraded["revision"], upgraded["status"]) == (3, "deployed")
            settings = emulator.get("configmap", "beluga-ai-config", NAMESPACE)["data"]
            assert settings == {"llmProvider": "anthropic", "embeddingProvider": "openai"}
            eventually(lambda: deployment_hash(emulator, NAMESPACE, RELEASE)
                       == content_hash(emulator, NAMESPACE, "beluga-ai-secrets", "beluga-ai-config"),
                       "the agent rolls the pods for the new setting")
            eventually(lambda: [r["event"] for r in agent.records()][-2:] == ["config.changed", "rollout.triggered"],
                       "the agent records the change of settings and the rollout")
            assert emulator.rollouts(NAMESPACE, RELEASE) == rollouts_before + 1
            assert dict(snapshot(emulator), **{"content hash": before["content hash"]}) == before
            server = emulator.get("deployment", RELEASE, NAMESPACE)
            assert server["spec"]["replicas"] == 3
        finally:
            agent.stop()
        assert refused(requests_by(emulator, AGENT_USER)) == []
        log = agent.audit_log.read_text() + agent.log.read_text()
        assert all(value not in log for value in values.values()) and first.decode() not in log

        # `helm uninstall` removes the release and its objects, never the keys: the Secrets were
        # never Helm's, and the sealed store is kept (helm.sh/resource-policy: keep).
        sealed_before = emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)["data"]
        helm.uninstall(RELEASE, wait="watcher", timeout=60)
        assert release_secrets(emulator) == {}
        assert emulator.get("deployment", RELEASE, NAMESPACE) is None
        assert emulator.get("role", "beluga-ai-agent", NAMESPACE) is None
        assert secret_data(emulator, NAMESPACE, "beluga-ai-secrets") == expected
        assert emulator.get("secret", "beluga-ai-sealing-key", NAMESPACE) is not None
        assert emulator.get("configmap", "beluga-ai-secrets-sealed", NAMESPACE)["data"] == sealed_before
    finally:
        helm.close()
